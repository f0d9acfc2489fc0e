"""The ticket board: the in-memory state and the rules for locks and versions.

Sans-I/O: every method is a plain function of the current state, the request and
the time. A rule that is broken raises `Rejected` and leaves the board as it was.
A method that succeeds returns the ticket as it should become; the caller writes
it to the store first and only then calls `apply`, so memory never runs ahead of
the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from msgspec import UNSET, structs

from lesbillets_server.errors import Rejected
from protocol.messages import CreateTicket, ErrorCode, Lock, Role, Ticket, UnlockReason, UpdateTicket, User


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: a logged-in user in one session."""

    user: User
    session_id: str

    @property
    def is_admin(self) -> bool:
        return self.user.role is Role.ADMIN


def _held_elsewhere(code: ErrorCode, ticket: Ticket, actor: Actor, opening: str) -> Rejected:
    """The refusal for a ticket whose lock another session holds, naming the holder and the lease's end."""
    lock = ticket.lock
    assert lock is not None
    whose = "you, in another session" if lock.user_id == actor.user.id else lock.user_name
    return Rejected(code, f"{opening} {whose} until {lock.expires_at.strftime('%H:%M:%S UTC')}.", lock=lock)


class Board:
    def __init__(
        self,
        tickets: Iterable[Ticket],
        holders: dict[uuid.UUID, str],
        *,
        lock_ttl: timedelta,
        max_locks: int,
    ) -> None:
        self.tickets: dict[uuid.UUID, Ticket] = {t.id: t for t in tickets}
        self._holders = dict(holders)
        """Ticket id → session id holding its lock (the wire `Lock` names only the user)."""
        self.lock_ttl = lock_ttl
        self.max_locks = max_locks

    # --- reads ------------------------------------------------------------------

    def get(self, ticket_id: uuid.UUID) -> Ticket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise Rejected(ErrorCode.NOT_FOUND, f"No ticket has the id {ticket_id}.")
        return ticket

    def holder(self, ticket_id: uuid.UUID) -> str | None:
        return self._holders.get(ticket_id)

    def held_by_session(self, session_id: str) -> list[uuid.UUID]:
        return [tid for tid, sid in self._holders.items() if sid == session_id]

    def locks_held_by(self, user_id: uuid.UUID) -> int:
        return sum(1 for tid in self._holders if (lock := self.tickets[tid].lock) and lock.user_id == user_id)

    def sessions_holding_locks(self) -> set[str]:
        return set(self._holders.values())

    def expired(self, now: datetime) -> list[uuid.UUID]:
        """Locked tickets whose lease ran out; the sweeper releases them."""
        expired = []
        for tid in self._holders:
            lock = self.tickets[tid].lock
            if lock is not None and lock.expires_at <= now:
                expired.append(tid)
        return expired

    # --- rules: each returns the ticket as it should become -----------------------

    def create(self, request: CreateTicket, actor: Actor, now: datetime) -> Ticket:
        return Ticket(
            id=uuid.uuid4(),
            title=request.title,
            description=request.description,
            status=request.status,
            priority=request.priority,
            assignee=request.assignee,
            created_at=now,
            created_by=actor.user.id,
            updated_at=now,
            updated_by=actor.user.id,
            version=1,
        )

    def lock(self, ticket_id: uuid.UUID, actor: Actor, now: datetime) -> Ticket:
        """Take the lock, or extend it when this session already holds it."""
        ticket = self.get(ticket_id)
        holder = self._holders.get(ticket_id)
        if holder is not None and holder != actor.session_id:
            raise _held_elsewhere(ErrorCode.LOCKED, ticket, actor, "Ticket is locked by")
        if holder is None:
            held = self.locks_held_by(actor.user.id)
            if held >= self.max_locks:
                raise Rejected(
                    ErrorCode.FORBIDDEN,
                    f"You already hold {held} locks, the most one agent may hold; unlock one first.",
                )
        lock = Lock(user_id=actor.user.id, user_name=actor.user.name, expires_at=now + self.lock_ttl)
        return structs.replace(ticket, lock=lock)

    def renew(self, ticket_id: uuid.UUID, actor: Actor, now: datetime) -> Ticket:
        ticket = self._held(ticket_id, actor, "renew")
        assert ticket.lock is not None
        return structs.replace(ticket, lock=structs.replace(ticket.lock, expires_at=now + self.lock_ttl))

    def update(self, request: UpdateTicket, actor: Actor, now: datetime) -> Ticket:
        ticket = self._held(request.ticket_id, actor, "change")
        if request.version != ticket.version:
            raise Rejected(
                ErrorCode.CONFLICT,
                f"The ticket changed since you read it (you sent version {request.version}, "
                f"it is at version {ticket.version}); reload it and apply your change again.",
                detail="$.version",
            )
        changes = {
            name: value
            for name in ("title", "description", "status", "priority", "assignee")
            if (value := getattr(request, name)) is not UNSET
        }
        if not changes:
            raise Rejected(ErrorCode.BAD_REQUEST, "The update names no field to change.")
        return structs.replace(ticket, **changes, version=ticket.version + 1, updated_at=now, updated_by=actor.user.id)

    def unlock(self, ticket_id: uuid.UUID, actor: Actor, *, force: bool) -> tuple[Ticket, UnlockReason]:
        ticket = self.get(ticket_id)
        holder = self._holders.get(ticket_id)
        if holder == actor.session_id:
            return structs.replace(ticket, lock=None), UnlockReason.RELEASED
        if not force:
            self._held(ticket_id, actor, "unlock")  # raises the precise refusal
        if not actor.is_admin:
            raise Rejected(ErrorCode.FORBIDDEN, "Only an admin may force a lock open.")
        if holder is None:
            raise Rejected(ErrorCode.NOT_LOCK_HOLDER, "The ticket is not locked.")
        return structs.replace(ticket, lock=None), UnlockReason.BROKEN

    def release(self, ticket_id: uuid.UUID) -> Ticket:
        """The ticket with its lock gone (expiry, disconnect, logout)."""
        return structs.replace(self.get(ticket_id), lock=None)

    # --- commit into memory (after the store has it) ------------------------------

    def apply(self, ticket: Ticket, holder: str | None) -> None:
        self.tickets[ticket.id] = ticket
        if holder is None:
            self._holders.pop(ticket.id, None)
        else:
            self._holders[ticket.id] = holder

    # --- helpers ------------------------------------------------------------------

    def _held(self, ticket_id: uuid.UUID, actor: Actor, verb: str) -> Ticket:
        ticket = self.get(ticket_id)
        holder = self._holders.get(ticket_id)
        if holder == actor.session_id:
            return ticket
        if holder is None:
            raise Rejected(ErrorCode.NOT_LOCK_HOLDER, f"Lock the ticket before you {verb} it; nobody holds it now.")
        raise _held_elsewhere(
            ErrorCode.NOT_LOCK_HOLDER, ticket, actor, f"You cannot {verb} this ticket: it is locked by"
        )
