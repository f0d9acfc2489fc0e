"""One decoded request in, one reply out: the `match` over the client union."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection, broadcast

from lesbillets_server.admin import AccountAdmin
from lesbillets_server.auth import Authenticator, Session
from lesbillets_server.board import Actor
from lesbillets_server.broadcast import Broadcaster
from lesbillets_server.conversation import Conversation
from lesbillets_server.errors import Rejected
from lesbillets_server.presence_hub import PresenceHub
from lesbillets_server.quota import CreationQuota, ReadBudget
from lesbillets_server.ratelimit import address_key
from lesbillets_server.row_snapshots import RowsTaken
from lesbillets_server.search import Searcher
from lesbillets_server.service import TicketService
from lesbillets_server.snapshots import Snapshots
from lesbillets_server.storage.records import LoggedEvent
from protocol.codec import Codec
from protocol.messages import (
    UNSET,
    Ack,
    AddComment,
    AddUser,
    Changed,
    ChangeTickets,
    ClientMessage,
    CreateTicket,
    EditComment,
    ErrorCode,
    GetHistory,
    GetInbox,
    GetPresence,
    GetRows,
    GetTicket,
    GetTickets,
    GetUsers,
    History,
    Inbox,
    InboxChanged,
    ListAccounts,
    LockTicket,
    Login,
    Logout,
    MarkRead,
    Presence,
    RenewLock,
    Reply,
    ResetPassword,
    Resume,
    Search,
    SearchResults,
    SessionEnded,
    SessionEndReason,
    SetDisabled,
    SetPresence,
    TicketDetail,
    UnlockTicket,
    UpdateTicket,
    Users,
    Welcome,
)

MAX_REPLAY = 10_000
"""Past this many missed events a resuming client is told to fetch a snapshot: it is cheaper than the replay."""
MAX_REPLAY_BYTES = 2 * 1024 * 1024
"""Likewise past this many bytes: a replay counts against the backlog limit like live events (4 MiB by default),
and a snapshot is streamed as the client reads."""
_ENDED: dict[SessionEndReason, str] = {
    SessionEndReason.LOGGED_OUT: "This session was logged out on another connection; log in again.",
    SessionEndReason.EXPIRED: "This session has expired; log in again.",
    SessionEndReason.REVOKED: "This session was ended on the server (password changed, or logged out); log in again.",
    SessionEndReason.DISABLED: "This account was disabled; ask an admin.",
}


def _not_yet(message: ClientMessage) -> Rejected:
    return Rejected(ErrorCode.BAD_REQUEST, f"This server does not support {type(message).__name__} yet.")


@dataclass(slots=True, eq=False)
class Peer:
    """One websocket connection and who is logged in on it."""

    ws: ServerConnection
    codec: Codec
    session: Session | None = None
    login_refused: bool = False
    """The last request was a `Login` the server refused (wrong password, throttled, busy): the connection
    pauses before reading the next one."""
    after_reply: Callable[[], None] | None = None
    """Runs right after the reply is framed, with no `await` between (a Welcome's replay and subscription)."""


class Dispatcher:
    def __init__(
        self,
        service: TicketService,
        auth: Authenticator,
        broadcaster: Broadcaster,
        snapshots: Snapshots,
        creation_quota: CreationQuota,
        change_quota: CreationQuota,
        presence: PresenceHub,
        *,
        searcher: Searcher,
        lock_ttl_s: float,
        server_version: str,
        comment_quota: CreationQuota,
        reads: ReadBudget,
    ) -> None:
        self.service = service
        self.conversation = Conversation(service)
        self.comment_quota = comment_quota
        """Comments each user may add or edit: the same per-user bucket as creations, so one agent cannot flood
        the log (and everyone's screens) with comments."""
        self.auth = auth
        self.broadcaster = broadcaster
        self.snapshots = snapshots
        self.creation_quota = creation_quota
        self.searcher = searcher
        self.change_quota = change_quota
        """Tickets changed by `ChangeTickets`: one request may write up to `BATCH_MAX` events, so the events it
        can make a user write are bounded per user, like creations."""
        self.presence = presence
        self.reads = reads
        self.admin = AccountAdmin(service.store, auth)
        self._lock_ttl_s = lock_ttl_s
        self._server_version = server_version
        self._peers: dict[str, set[Peer]] = {}
        """Session id → connections logged in with it (a token may be resumed on several)."""

    async def handle(self, peer: Peer, message: ClientMessage) -> Reply | RowsTaken:
        """The reply, or for `GetRows` the snapshot its pages are made of (the connection queues them)."""
        service = self.service
        match message:
            case Login(rid=rid, email=email, password=password, last_seq=last_seq, epoch=epoch):
                address = address_key(peer.ws.remote_address)
                try:
                    session = await self.auth.login(email, password, service.now(), address=address)
                except Rejected:
                    peer.login_refused = True
                    raise
                return await self._welcome(peer, session, rid, last_seq, epoch)
            case Resume(rid=rid, token=token, last_seq=last_seq, epoch=epoch):
                session = await self.auth.resume(token, service.now())
                return await self._welcome(peer, session, rid, last_seq, epoch)
        actor = self._actor(peer)
        match message:
            case Logout(rid=rid):
                await self.auth.logout(actor.session_id)
                await self.end_session(actor.session_id, SessionEndReason.LOGGED_OUT, answered=peer)
                return Ack(rid=rid)
            case GetTickets(rid=rid):
                return await self.snapshots.take(peer.ws, peer.codec, rid, service.snapshot)
            case GetUsers(rid=rid):
                return Users(rid=rid, users=await service.users())
            case GetHistory(rid=rid, ticket_id=ref):
                ticket_id = service.board.resolve(ref)
                with self.reads.spend(actor.user.id):
                    return History(rid=rid, ticket_id=ticket_id, entries=await service.history(ticket_id))
            case CreateTicket(rid=rid):
                self._count_creation(actor)
                return Ack(rid=rid, ticket=await service.create(message, actor))
            case LockTicket(rid=rid, ticket_id=ref):
                return Ack(rid=rid, ticket=await service.lock(service.board.resolve(ref), actor))
            case RenewLock(rid=rid, ticket_id=ref, fence=fence):
                ticket_id = service.board.resolve(ref)
                return Ack(rid=rid, ticket=await service.renew(ticket_id, actor, None if fence is UNSET else fence))
            case UpdateTicket(rid=rid):
                return Ack(rid=rid, ticket=await service.update(message, actor))
            case UnlockTicket(rid=rid, ticket_id=ref, force=force):
                await service.unlock(service.board.resolve(ref), actor, force=force)
                return Ack(rid=rid)
            # --- the conversation and the inbox (issue 9)
            case GetTicket(rid=rid, ticket_id=ref):
                with self.reads.spend(actor.user.id):
                    ticket, comments, seq = await self.conversation.detail(ref)
                return TicketDetail(rid=rid, ticket=ticket, comments=comments, seq=seq)
            case AddComment(rid=rid, ticket_id=ref, body=body):
                self._count_comment(actor)
                return Ack(rid=rid, comment=await self.conversation.add(ref, body, actor))
            case EditComment(rid=rid, comment_id=comment_id, body=body):
                self._count_comment(actor)
                return Ack(rid=rid, comment=await self.conversation.edit(comment_id, body, actor))
            case GetInbox(rid=rid, limit=limit, unread_only=unread_only):
                with self.reads.spend(actor.user.id):
                    items, unread = await self.conversation.inbox(actor, limit, unread_only=unread_only)
                return Inbox(rid=rid, items=items, unread=unread)
            case MarkRead(rid=rid, seqs=seqs, up_to=up_to):
                unread = await self.conversation.mark_read(actor, seqs, up_to)
                self.notify_user(actor.user.id, InboxChanged(unread=unread), skip=peer)
                return Ack(rid=rid)
            # --- search (issue 9)
            case Search(rid=rid, query=text, limit=limit):
                return SearchResults(rid=rid, hits=await self.searcher.search(text, limit, actor.user))
            # --- presence (issue 9)
            case SetPresence(rid=rid, ticket_id=ref, editing=editing):
                opened = None if ref is None else service.board.get(service.board.resolve(ref)).id
                self.presence.open(peer.ws.id, opened, actor.user, editing=editing)
                return Ack(rid=rid)
            case GetPresence(rid=rid):
                return Presence(rid=rid, tickets=self.presence.tickets())
            # --- the first load (issue 9)
            case GetRows(rid=rid, first=first):
                return await self.snapshots.take_rows(peer.ws, peer.codec, rid, first, service.snapshot)
            # --- quick changes (issue 10)
            case ChangeTickets(rid=rid, ticket_ids=refs):
                self._count_changes(actor, len(set(refs)))
                tickets, refused = await service.change_tickets(message, actor)
                return Changed(rid=rid, tickets=tickets, refused=refused)
            # --- admin (issue 10)
            case ListAccounts() | AddUser() | SetDisabled() | ResetPassword():
                return await self.admin.handle(message, actor)
        raise AssertionError(f"unhandled message {type(message).__name__}")  # pragma: no cover

    def connected(self, user_id: uuid.UUID) -> bool:
        """Whether the user is logged in on a connection of this server."""
        return bool(self._peers_of(user_id))

    def notify_user(self, user_id: uuid.UUID, notice: InboxChanged, *, skip: Peer | None = None) -> None:
        """Send a notice to every connection of this server the user is logged in on (but `skip`)."""
        self.broadcaster.notify([peer.ws for peer in self._peers_of(user_id) if peer is not skip], notice)

    def _peers_of(self, user_id: uuid.UUID) -> list[Peer]:
        return [
            peer
            for peers in self._peers.values()
            for peer in peers
            if peer.session is not None and peer.session.user.id == user_id
        ]

    def sessions(self) -> dict[str, Session]:
        """The sessions logged in on this server's connections, by id."""
        return {peer.session.id: peer.session for peers in self._peers.values() for peer in peers if peer.session}

    async def end_session(self, session_id: str, reason: SessionEndReason, *, answered: Peer | None = None) -> None:
        """The session is over: release its locks, then sign out each of its connections and tell it why.

        `answered` is the connection whose own request ended it (its `Logout` gets `Ack`, not the notice).
        """
        try:
            await self.service.end_session(session_id)
        finally:
            notice = SessionEnded(reason=reason, message=_ENDED[reason])
            for peer in list(self._peers.get(session_id, ())):
                self.sign_out(peer)
                if peer is not answered:
                    # sent without waiting, like an event: the frame is queued behind the lock releases above
                    broadcast([peer.ws], peer.codec.encode(notice), text=peer.codec.text)

    def sign_out(self, peer: Peer) -> None:
        """Forget who is logged in on this connection (logout, a new login, or the connection's end)."""
        if peer.session is None:
            return
        self.presence.close(peer.ws.id)
        self.broadcaster.unsubscribe(peer.ws)
        self.service.detach(peer.session.id)
        peers = self._peers[peer.session.id]
        peers.discard(peer)
        if not peers:
            del self._peers[peer.session.id]
        peer.session = None
        peer.after_reply = None

    async def _welcome(
        self, peer: Peer, session: Session, rid: int, last_seq: int | None, epoch: str | None
    ) -> Welcome:
        self.sign_out(peer)
        await self.service.attach(session.id)
        peer.session = session
        self._peers.setdefault(session.id, set()).add(peer)
        fetched = None
        if last_seq is not None and epoch == self.service.epoch:
            fetched = await self._missed_from_the_log(last_seq)
        # No await from here until the peer is subscribed (the connection frames this Welcome and runs
        # `after_reply` at once): the follower cannot move on between the replay and the live events.
        replay = None if fetched is None or last_seq is None else self._replay(peer, fetched, last_seq)
        resumed = replay is not None
        peer.after_reply = lambda: self._go_live(peer, replay or [])
        assert session.token is not None
        return Welcome(
            rid=rid,
            user=session.user,
            token=session.token,
            lock_ttl_s=self._lock_ttl_s,
            server_version=self._server_version,
            epoch=self.service.epoch,
            seq=last_seq if resumed and last_seq is not None else self.service.seq,
            resumed=resumed,
        )

    async def _missed_from_the_log(self, last_seq: int) -> list[LoggedEvent] | None:
        """What the follower's memory does not hold of the events after `last_seq`, read from the log; None
        when they cannot all be replayed (trimmed by retention, too many, or a seq this log never reached)."""
        follower = self.service.follower
        if last_seq > follower.seq or follower.seq - last_seq > MAX_REPLAY:
            return None
        fetched: list[LoggedEvent] = []
        cursor = last_seq
        while follower.replay(cursor) is None:
            page = await self.service.store.events_after(cursor, 1000)
            if not page or page[0].seq != cursor + 1:
                return None  # retention took them
            fetched.extend(page)
            cursor = page[-1].seq
        return fetched

    def _replay(self, peer: Peer, fetched: list[LoggedEvent], last_seq: int) -> list[bytes] | None:
        """The frames of every event after `last_seq` up to the follower's seq; None when a snapshot is the
        better answer (the follower moved on past its memory meanwhile, or the replay is bigger than
        `MAX_REPLAY_BYTES`)."""
        follower = self.service.follower
        # the log may already hold events this replica has not applied: those come live, not twice
        missed = [event for event in fetched if event.seq <= follower.seq]
        rest = follower.replay(missed[-1].seq if missed else last_seq)
        if rest is None:
            return None
        frames: list[bytes] = []
        size = 0
        for event in [*missed, *rest]:
            frame = peer.codec.encode(event.wire())
            size += len(frame)
            if size > MAX_REPLAY_BYTES:
                return None
            frames.append(frame)
        return frames

    def _go_live(self, peer: Peer, frames: list[bytes]) -> None:
        """Frame the replay, then subscribe: nothing can come between them and the live events."""
        if peer.session is None:
            return
        for frame in frames:
            broadcast([peer.ws], frame, text=peer.codec.text)
        self.broadcaster.subscribe(peer.ws, peer.codec)

    def _count_creation(self, actor: Actor) -> None:
        quota = self.creation_quota
        wait_s = quota.take(actor.user.id, time.monotonic())
        if wait_s:
            raise Rejected(
                ErrorCode.RATE_LIMITED,
                f"Too many new tickets: at most {quota.rate_per_s:g} a second, {quota.burst} at once. "
                f"Try again in {max(wait_s, 0.1):.1f} s.",
            )

    def _count_comment(self, actor: Actor) -> None:
        quota = self.comment_quota
        wait_s = quota.take(actor.user.id, time.monotonic())
        if wait_s:
            raise Rejected(
                ErrorCode.RATE_LIMITED,
                f"Too many comments: at most {quota.rate_per_s:g} a second, {quota.burst} at once. "
                f"Try again in {max(wait_s, 0.1):.1f} s.",
            )

    def _count_changes(self, actor: Actor, tickets: int) -> None:
        quota = self.change_quota
        if tickets > quota.burst:
            raise Rejected(
                ErrorCode.RATE_LIMITED,
                f"Too many tickets in one change: this server allows {quota.burst} at once; send fewer.",
                detail="$.ticket_ids",
            )
        wait_s = quota.take(actor.user.id, time.monotonic(), tickets)
        if wait_s:
            raise Rejected(
                ErrorCode.RATE_LIMITED,
                f"Too many quick changes: at most {quota.rate_per_s:g} tickets a second, {quota.burst} at once. "
                f"Try again in {max(wait_s, 0.1):.1f} s.",
            )

    @staticmethod
    def _actor(peer: Peer) -> Actor:
        if peer.session is None:
            raise Rejected(ErrorCode.UNAUTHORIZED, "Log in first: send Login or Resume.")
        return Actor(user=peer.session.user, session_id=peer.session.id)
