"""The conversation on a ticket and each user's inbox: comments written through the log, read from the store.

A comment needs no lock: the lock guards the ticket's fields, not the right to speak. Adding or editing one is a
write like a ticket change (one transaction appending `CommentAdded`/`CommentEdited` to the log, with the inbox
items of the users it mentions), and its reply waits until the event went out here, as for tickets. Mentions are
resolved when the comment is written (see `mentions`), against the users active then.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from msgspec import structs

from lesbillets_server import history, mentions
from lesbillets_server.board import Actor
from lesbillets_server.errors import GuardFailed, Rejected
from lesbillets_server.service import TicketService
from lesbillets_server.storage.records import CommentWrite, EventKind, LoggedEvent
from protocol.messages import Comment, ErrorCode, InboxItem, Ticket, TicketRef

COMMENTS_SHOWN = 1000
"""The newest comments a `TicketDetail` carries, as long as their text fits `history.text_budget`."""
SEQ_MAX = 2**63 - 1
"""The largest seq either engine can hold (a signed 64-bit integer). The wire allows larger ones: such a seq
names no item, and an ``up_to`` past it covers every item."""


class Conversation:
    def __init__(self, service: TicketService) -> None:
        self.service = service

    # --- reads ------------------------------------------------------------------------------------

    async def detail(self, ref: TicketRef) -> tuple[Ticket, list[Comment], int]:
        """The ticket from the read model with the seq it reflects, and its newest comments from the store: read
        after, so they reflect at least that seq (a comment whose event comes later may be there already)."""
        board = self.service.board
        ticket_id = board.resolve(ref)
        seq, ticket = self.service.seq, board.get(ticket_id)
        budget = history.text_budget(self.service.config.backlog_bytes)
        comments = await self.service.store.comments(ticket_id, COMMENTS_SHOWN, budget)
        return ticket, comments, seq

    async def inbox(self, actor: Actor, limit: int, *, unread_only: bool) -> tuple[list[InboxItem], int]:
        return await self.service.store.inbox(actor.user.id, limit, unread_only=unread_only)

    # --- writes -----------------------------------------------------------------------------------

    async def add(self, ref: TicketRef, body: str, actor: Actor) -> Comment:
        ticket_id = self.service.board.resolve(ref)
        self.service.board.get(ticket_id)  # not_found for an id no ticket has
        now = self.service.now()
        comment = Comment(
            id=uuid.uuid4(),
            ticket_id=ticket_id,
            author=actor.user.id,
            author_name=actor.user.name,
            body=body,
            created_at=now,
            mentions=await self._mentioned(body),
        )
        return await self._write(CommentWrite(comment=comment, kind=EventKind.COMMENTED))

    async def edit(self, comment_id: uuid.UUID, body: str, actor: Actor) -> Comment:
        comment = await self.service.store.comment(comment_id)
        if comment is None:
            raise Rejected(ErrorCode.NOT_FOUND, f"No comment has the id {comment_id}.")
        if comment.author != actor.user.id:
            raise Rejected(ErrorCode.FORBIDDEN, "Only its author may edit a comment.")
        if comment.body == body:
            return comment  # nothing changes: no event, no new edit time
        edited = structs.replace(comment, body=body, edited_at=self.service.now(), mentions=await self._mentioned(body))
        try:
            return await self._write(CommentWrite(comment=edited, kind=EventKind.COMMENT_EDITED))
        except GuardFailed:  # comments are never deleted nor change author: only a database changed by hand
            raise Rejected(ErrorCode.NOT_FOUND, f"No comment of yours has the id {comment_id}.") from None

    async def mark_read(self, actor: Actor, seqs: Collection[int], up_to: int | None) -> int:
        """Mark items read; the unread count after."""
        if not seqs and up_to is None:
            raise Rejected(ErrorCode.BAD_REQUEST, "Name the items to mark read: seqs, or up_to.", detail="$.seqs")
        # bound them to what the engines can bind: past it, SQLite raised OverflowError, PostgreSQL out of range
        named = [seq for seq in seqs if seq <= SEQ_MAX]
        return await self.service.store.mark_read(actor.user.id, named, None if up_to is None else min(up_to, SEQ_MAX))

    async def _mentioned(self, body: str) -> list[uuid.UUID]:
        if not mentions.handles(body):
            return []  # most comments name nobody: no need to read the users
        return mentions.resolve(body, await self.service.users())

    async def _write(self, write: CommentWrite) -> Comment:
        service = self.service
        with service.metrics.commit_seconds.time():
            event = await service.store.change(write, write.comment.edited_at or write.comment.created_at)
        await self._delivered(event)
        assert event.comment is not None
        return event.comment

    async def _delivered(self, event: LoggedEvent) -> None:
        """The reply waits until the event went out here: the author sees it before the reply."""
        service = self.service
        service.metrics.events_committed.inc()
        service.follower.offer([event])
        await service.follower.reached(event.seq)
