"""One decoded request in, one reply out: the `match` over the client union."""

from __future__ import annotations

import time
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection, broadcast

from lesbillets_server.auth import Authenticator, Session
from lesbillets_server.board import Actor
from lesbillets_server.broadcast import Broadcaster
from lesbillets_server.errors import Rejected
from lesbillets_server.quota import CreationQuota
from lesbillets_server.ratelimit import address_key
from lesbillets_server.service import TicketService
from lesbillets_server.snapshots import Snapshots
from protocol.codec import Codec
from protocol.messages import (
    Ack,
    ClientMessage,
    CreateTicket,
    ErrorCode,
    GetTickets,
    GetUsers,
    LockTicket,
    Login,
    Logout,
    RenewLock,
    Reply,
    Resume,
    SessionEnded,
    SessionEndReason,
    UnlockTicket,
    UpdateTicket,
    Users,
    Welcome,
)

_ENDED: dict[SessionEndReason, str] = {
    SessionEndReason.LOGGED_OUT: "This session was logged out on another connection; log in again.",
    SessionEndReason.EXPIRED: "This session has expired; log in again.",
    SessionEndReason.REVOKED: "This session was ended on the server (password changed, or logged out); log in again.",
    SessionEndReason.DISABLED: "This account was disabled; ask an admin.",
}


@dataclass(slots=True, eq=False)
class Peer:
    """One websocket connection and who is logged in on it."""

    ws: ServerConnection
    codec: Codec
    session: Session | None = None


class Dispatcher:
    def __init__(
        self,
        service: TicketService,
        auth: Authenticator,
        broadcaster: Broadcaster,
        snapshots: Snapshots,
        creation_quota: CreationQuota,
        *,
        lock_ttl_s: float,
        server_version: str,
    ) -> None:
        self.service = service
        self.auth = auth
        self.broadcaster = broadcaster
        self.snapshots = snapshots
        self.creation_quota = creation_quota
        self._lock_ttl_s = lock_ttl_s
        self._server_version = server_version
        self._peers: dict[str, set[Peer]] = {}
        """Session id → connections logged in with it (a token may be resumed on several)."""

    async def handle(self, peer: Peer, message: ClientMessage) -> Reply:
        service = self.service
        match message:
            case Login(rid=rid, email=email, password=password):
                address = address_key(peer.ws.remote_address)
                session = await self.auth.login(email, password, service.clock(), address=address)
                return self._welcome(peer, session, rid)
            case Resume(rid=rid, token=token):
                return self._welcome(peer, self.auth.resume(token, service.clock()), rid)
        actor = self._actor(peer)
        match message:
            case Logout(rid=rid):
                self.auth.logout(actor.session_id)
                self.end_session(actor.session_id, SessionEndReason.LOGGED_OUT, answered=peer)
                return Ack(rid=rid)
            case GetTickets(rid=rid):
                return await self.snapshots.take(peer.ws, peer.codec, rid, service.snapshot)
            case GetUsers(rid=rid):
                return Users(rid=rid, users=service.users())
            case CreateTicket(rid=rid):
                self._count_creation(actor)
                return Ack(rid=rid, ticket=service.create(message, actor))
            case LockTicket(rid=rid, ticket_id=ticket_id):
                return Ack(rid=rid, ticket=service.lock(ticket_id, actor))
            case RenewLock(rid=rid, ticket_id=ticket_id):
                return Ack(rid=rid, ticket=service.renew(ticket_id, actor))
            case UpdateTicket(rid=rid):
                return Ack(rid=rid, ticket=service.update(message, actor))
            case UnlockTicket(rid=rid, ticket_id=ticket_id, force=force):
                service.unlock(ticket_id, actor, force=force)
                return Ack(rid=rid)
        raise AssertionError(f"unhandled message {type(message).__name__}")  # pragma: no cover

    def sessions(self) -> dict[str, Session]:
        """The sessions logged in on this server's connections, by id."""
        return {peer.session.id: peer.session for peers in self._peers.values() for peer in peers if peer.session}

    def end_session(self, session_id: str, reason: SessionEndReason, *, answered: Peer | None = None) -> None:
        """The session is over: release its locks, then sign out each of its connections and tell it why.

        `answered` is the connection whose own request ended it (its `Logout` gets `Ack`, not the notice).
        """
        try:
            self.service.end_session(session_id)
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
        self.broadcaster.unsubscribe(peer.ws)
        self.service.detach(peer.session.id)
        peers = self._peers[peer.session.id]
        peers.discard(peer)
        if not peers:
            del self._peers[peer.session.id]
        peer.session = None

    def _welcome(self, peer: Peer, session: Session, rid: int) -> Welcome:
        self.sign_out(peer)
        peer.session = session
        self._peers.setdefault(session.id, set()).add(peer)
        self.service.attach(session.id)
        self.broadcaster.subscribe(peer.ws, peer.codec)
        assert session.token is not None
        return Welcome(
            rid=rid,
            user=session.user,
            token=session.token,
            lock_ttl_s=self._lock_ttl_s,
            server_version=self._server_version,
        )

    def _count_creation(self, actor: Actor) -> None:
        quota = self.creation_quota
        wait_s = quota.take(actor.user.id, time.monotonic())
        if wait_s:
            raise Rejected(
                ErrorCode.RATE_LIMITED,
                f"Too many new tickets: at most {quota.rate_per_s:g} a second, {quota.burst} at once. "
                f"Try again in {max(wait_s, 0.1):.1f} s.",
            )

    @staticmethod
    def _actor(peer: Peer) -> Actor:
        if peer.session is None:
            raise Rejected(ErrorCode.UNAUTHORIZED, "Log in first: send Login or Resume.")
        return Actor(user=peer.session.user, session_id=peer.session.id)
