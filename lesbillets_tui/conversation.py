"""One open ticket in full, sans I/O: the ticket, its conversation (oldest first) and the ``seq`` they reflect.

`GetTicket` answers with a `TicketDetail` as of some ``seq`` while live events keep arriving. Events that come
before the detail wait here; once it is in, those after its ``seq`` are applied and those at or before it are
dropped (the detail already reflects them). Events are applied in the order the link worker delivers them, which
is ``seq`` order, so "newest last" is the order comments were added.
"""

from __future__ import annotations

import enum
import uuid
from typing import Final

import msgspec

from protocol.messages import (
    Comment,
    CommentAdded,
    CommentEdited,
    Ticket,
    TicketCreated,
    TicketDetail,
    TicketLocked,
    TicketUnlocked,
    TicketUpdated,
)

ThreadEvent = TicketCreated | TicketUpdated | TicketLocked | TicketUnlocked | CommentAdded | CommentEdited

EARLY_MAX: Final = 1000
"""Events kept while the detail is on its way; past this the thread asks to be fetched again."""


class Change(enum.Enum):
    """What an event changed in the thread."""

    NOTHING = "nothing"
    TICKET = "ticket"
    COMMENT_ADDED = "comment added"
    COMMENT_EDITED = "comment edited"


def ticket_of(event: ThreadEvent) -> uuid.UUID:
    """The ticket an event is about."""
    if isinstance(event, TicketCreated | TicketUpdated):
        return event.ticket.id
    if isinstance(event, CommentAdded | CommentEdited):
        return event.comment.ticket_id
    return event.ticket_id


class TicketThread:
    """The ticket view's data: what `GetTicket` said, kept current by the events after it."""

    def __init__(self, ticket_id: uuid.UUID) -> None:
        self.ticket_id = ticket_id
        self.ticket: Ticket | None = None
        self.comments: dict[uuid.UUID, Comment] = {}
        """By id, in the order they were added (oldest first)."""
        self.seq: int | None = None
        """The last event reflected; None until the detail came."""
        self.overflowed = False
        """Too many events came before the detail: fetch it again rather than trust the early ones."""
        self._early: list[ThreadEvent] = []

    @property
    def loaded(self) -> bool:
        return self.seq is not None

    def load(self, detail: TicketDetail) -> None:
        """Take a fresh detail, then the waiting events after it (unless they ``overflowed``: `reset`, fetch)."""
        self.ticket = detail.ticket
        self.comments = {comment.id: comment for comment in detail.comments}
        self.seq = detail.seq
        early, self._early = self._early, []
        for event in early:
            self.apply(event)

    def reset(self) -> None:
        """Forget the detail (after a snapshot replaced the table: events may have been missed); keep the data
        shown until the next `load`, and hold events from now on."""
        self.seq = None
        self._early = []
        self.overflowed = False

    def apply(self, event: ThreadEvent) -> Change:
        """Apply one live event; what it changed (NOTHING for another ticket, or one already reflected)."""
        if ticket_of(event) != self.ticket_id:
            return Change.NOTHING
        if self.seq is None:
            if len(self._early) >= EARLY_MAX:
                self.overflowed = True
                self._early = []
            elif not self.overflowed:
                self._early.append(event)
            return Change.NOTHING
        if event.seq <= self.seq:
            return Change.NOTHING
        self.seq = event.seq
        return self._change(event)

    def _change(self, event: ThreadEvent) -> Change:
        if isinstance(event, CommentAdded | CommentEdited):
            known = event.comment.id in self.comments
            self.comments[event.comment.id] = event.comment
            return Change.COMMENT_EDITED if known else Change.COMMENT_ADDED
        if isinstance(event, TicketCreated | TicketUpdated):
            self.ticket = event.ticket
        elif self.ticket is not None:
            lock = event.lock if isinstance(event, TicketLocked) else None
            self.ticket = msgspec.structs.replace(self.ticket, lock=lock)
        return Change.TICKET

    def own_comments(self, me: uuid.UUID | None) -> list[Comment]:
        """The comments ``me`` wrote, oldest first."""
        return [comment for comment in self.comments.values() if comment.author == me]
