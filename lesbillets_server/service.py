"""Ticket operations: apply a board rule, write it through the store, broadcast it.

Every change runs without an `await` between the rule check, the database commit,
the in-memory apply and the broadcast, so two requests can never interleave
inside one change and events leave in `seq` order. Lease expiry and the release
of a dropped session's locks are changes like any other.

The store writes before memory changes, so a write the database refuses
(`StoreUnavailable`: disk full, read-only…) leaves the board and `seq` as they
were. Reads never depend on a write: while the database cannot be written, the
sweeper retries the releases that are due on every tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lesbillets_server.board import Actor, Board
from lesbillets_server.broadcast import Broadcaster
from lesbillets_server.config import ServerConfig
from lesbillets_server.errors import Rejected, StoreUnavailable
from lesbillets_server.store import Store
from protocol.messages import (
    CreateTicket,
    ErrorCode,
    Event,
    Ticket,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    TicketUpdated,
    UnlockReason,
    UpdateTicket,
    User,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class TicketService:
    def __init__(self, store: Store, broadcaster: Broadcaster, config: ServerConfig, clock: Clock = utc_now) -> None:
        loaded = store.load()
        self.store = store
        self.broadcaster = broadcaster
        self.board = Board(
            loaded.tickets,
            loaded.holders,
            lock_ttl=timedelta(seconds=config.lock_ttl_s),
            max_locks=config.max_locks,
        )
        self.seq = loaded.seq
        self.clock = clock
        self._grace_s = config.lock_grace_s
        self._connections: Counter[str] = Counter()
        """Session id → live connections, to know when a session has dropped."""
        self._grace: dict[str, asyncio.TimerHandle] = {}
        self._unreleased: dict[str, UnlockReason] = {}
        """Ended sessions whose locks could not be released (the database could not be written): the sweeper retries."""

    # --- reads ------------------------------------------------------------------

    def snapshot(self) -> tuple[int, list[Ticket]]:
        """Every ticket as of `seq`, from memory; expired leases are released first if the database can be written.

        When it cannot, a lease that ran out stays in the snapshot with its past `expires_at`, exactly as
        of `seq`: its `TicketUnlocked{expired}` follows once the sweeper manages to write the release.
        """
        if self.store.health.problem is None:
            with contextlib.suppress(StoreUnavailable):
                self._release_expired()
        return self.seq, list(self.board.tickets.values())

    def users(self) -> list[User]:
        return [record.user for record in self.store.list_users() if not record.disabled]

    # --- changes ----------------------------------------------------------------

    def create(self, request: CreateTicket, actor: Actor) -> Ticket:
        self._check_assignee(request.assignee)
        ticket = self.board.create(request, actor, self.clock())
        self._commit([(ticket, None, lambda seq: TicketCreated(seq=seq, ticket=ticket))])
        return ticket

    def lock(self, ticket_id: uuid.UUID, actor: Actor) -> Ticket:
        self._release_expired()
        return self._commit_lock(self.board.lock(ticket_id, actor, self.clock()), actor)

    def renew(self, ticket_id: uuid.UUID, actor: Actor) -> Ticket:
        self._release_expired()
        return self._commit_lock(self.board.renew(ticket_id, actor, self.clock()), actor)

    def update(self, request: UpdateTicket, actor: Actor) -> Ticket:
        self._release_expired()
        if isinstance(request.assignee, uuid.UUID):
            self._check_assignee(request.assignee)
        ticket = self.board.update(request, actor, self.clock())
        self._commit([(ticket, actor.session_id, lambda seq: TicketUpdated(seq=seq, ticket=ticket))])
        return ticket

    def unlock(self, ticket_id: uuid.UUID, actor: Actor, *, force: bool) -> None:
        self._release_expired()
        ticket, reason = self.board.unlock(ticket_id, actor, force=force)
        self._commit([(ticket, None, _unlocked(ticket.id, reason))])

    def sweep(self) -> None:
        """The sweeper's tick: release what is due; when there was nothing to write, check now and then that
        the database can still be written (for /healthz).

        Never raises for a database that cannot be written: the next tick tries again, and the store
        logs the episode once rather than once a tick.
        """
        with contextlib.suppress(StoreUnavailable):
            tried = self._release_expired()
            for session_id, reason in list(self._unreleased.items()):
                del self._unreleased[session_id]
                tried = self._release_session(session_id, reason) or tried
            if not tried and self.store.health.probe_due(time.monotonic()):
                self.store.probe()

    def _release_expired(self) -> bool:
        """Release every lease that has run out (`StoreUnavailable` and nothing released if that cannot be written)."""
        expired = self.board.expired(self.clock())
        if expired:
            self._release(expired, UnlockReason.EXPIRED)
        return bool(expired)

    def _commit_lock(self, ticket: Ticket, actor: Actor) -> Ticket:
        lock = ticket.lock
        assert lock is not None
        self._commit([(ticket, actor.session_id, lambda seq: TicketLocked(seq=seq, ticket_id=ticket.id, lock=lock))])
        return ticket

    def _release(self, ticket_ids: list[uuid.UUID], reason: UnlockReason) -> None:
        released = [self.board.release(tid) for tid in ticket_ids]
        self._commit([(ticket, None, _unlocked(ticket.id, reason)) for ticket in released])

    def _commit(self, changes: list[tuple[Ticket, str | None, Callable[[int], Event]]]) -> None:
        first = self.seq + 1
        self.store.save([(ticket, holder) for ticket, holder, _ in changes], self.seq + len(changes))
        for offset, (ticket, holder, make_event) in enumerate(changes):
            self.board.apply(ticket, holder)
            self.seq = first + offset
            self.broadcaster.publish(make_event(self.seq))

    def _check_assignee(self, assignee: uuid.UUID | None) -> None:
        if assignee is None:
            return
        record = self.store.user_by_id(assignee)
        if record is None or record.disabled:
            raise Rejected(ErrorCode.BAD_REQUEST, f"No active user has the id {assignee}.", detail="$.assignee")

    # --- sessions: locks outlive a dropped connection for the grace period -------

    def attach(self, session_id: str) -> None:
        self._connections[session_id] += 1
        self._unreleased.pop(session_id, None)  # resumed before its locks could go: it keeps them
        timer = self._grace.pop(session_id, None)
        if timer is not None:
            timer.cancel()

    def detach(self, session_id: str) -> None:
        self._connections[session_id] -= 1
        if self._connections[session_id] <= 0:
            del self._connections[session_id]
            self._start_grace(session_id)

    def end_session(self, session_id: str) -> None:
        """Logout: the session's locks go at once."""
        timer = self._grace.pop(session_id, None)
        if timer is not None:
            timer.cancel()
        self._release_session(session_id, UnlockReason.RELEASED)

    def start_grace_for_orphans(self) -> None:
        """After a restart no session is connected: give each lock holder the grace period to resume."""
        for session_id in self.board.sessions_holding_locks():
            if session_id not in self._connections:
                self._start_grace(session_id)

    def _start_grace(self, session_id: str) -> None:
        if not self.board.held_by_session(session_id) or session_id in self._grace:
            return
        loop = asyncio.get_running_loop()
        self._grace[session_id] = loop.call_later(self._grace_s, self._grace_over, session_id)

    def _grace_over(self, session_id: str) -> None:
        self._grace.pop(session_id, None)
        if session_id in self._connections:
            return
        try:
            self._release_session(session_id, UnlockReason.DISCONNECTED)
        except Exception:
            log.exception("releasing the locks of a dropped session failed")

    def _release_session(self, session_id: str, reason: UnlockReason) -> bool:
        """Release the session's locks, if any (True: a write was tried); if it fails, the sweeper retries."""
        held = self.board.held_by_session(session_id)
        if not held:
            return False
        try:
            self._release(held, reason)
        except StoreUnavailable:
            self._unreleased[session_id] = reason
        return True

    def stop(self) -> None:
        for timer in self._grace.values():
            timer.cancel()
        self._grace.clear()


def _unlocked(ticket_id: uuid.UUID, reason: UnlockReason) -> Callable[[int], Event]:
    return lambda seq: TicketUnlocked(seq=seq, ticket_id=ticket_id, reason=reason)
