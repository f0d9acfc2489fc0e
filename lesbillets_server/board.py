"""The ticket board: the in-memory state and the rules for locks and versions.

Sans-I/O: every method is a plain function of the current state, the request and
the time. A rule that is broken raises `Rejected` and leaves the board as it was.
A rule that passes returns a `TicketChange`: the ticket as it should become, with
the `Guard` the rule was decided on. The store enforces that guard in its write, so
a replica whose board is a moment behind the database can never grant what the
database would not. The board itself is the replica's read model: it changes only
by `apply`, in the log's seq order. A lease that has run out holds nothing, even
before the sweeper has logged its release.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from msgspec import UNSET, structs

from lesbillets_server.errors import Rejected
from lesbillets_server.storage.records import EventKind, Guard, TicketChange
from lesbillets_server.ticket_fields import QuickChange, due_time, normal_tags
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


def too_many_locks(held: int) -> Rejected:
    return Rejected(
        ErrorCode.FORBIDDEN, f"You already hold {held} locks, the most one agent may hold; unlock one first."
    )


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
        self.numbers: dict[int, uuid.UUID] = {t.number: t.id for t in self.tickets.values() if t.number}
        """Ticket number → id, so a request may name a ticket by either."""
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

    def resolve(self, ref: uuid.UUID | int) -> uuid.UUID:
        """The id of the ticket a request names by id or by number (`not_found` if none)."""
        if isinstance(ref, uuid.UUID):
            return ref
        ticket_id = self.numbers.get(ref)
        if ticket_id is None:
            raise Rejected(ErrorCode.NOT_FOUND, f"No ticket has the number #{ref}.")
        return ticket_id

    def holder(self, ticket_id: uuid.UUID, now: datetime) -> str | None:
        """The session whose lease on the ticket still runs at `now` (a lapsed one holds nothing)."""
        holder = self._holders.get(ticket_id)
        lock = self.tickets[ticket_id].lock if holder is not None else None
        return holder if lock is not None and lock.expires_at > now else None

    def held_by_session(self, session_id: str) -> list[uuid.UUID]:
        return [tid for tid, sid in self._holders.items() if sid == session_id]

    def locks_held_by(self, user_id: uuid.UUID, now: datetime) -> int:
        return sum(
            1
            for tid in self._holders
            if (lock := self.tickets[tid].lock) and lock.user_id == user_id and lock.expires_at > now
        )

    def lock_count(self) -> int:
        return len(self._holders)

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

    # --- rules: each returns the change, guarded by what it was decided on ---------

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
            due_at=due_time(request.due_at),
            tags=normal_tags(request.tags),
        )  # its number comes from the database, in the creating transaction

    def lock(self, ticket_id: uuid.UUID, actor: Actor, now: datetime) -> TicketChange:
        """Take the lock, or extend it when this session already holds it."""
        ticket = self.get(ticket_id)
        holder = self.holder(ticket_id, now)
        if holder is not None and holder != actor.session_id:
            raise _held_elsewhere(ErrorCode.LOCKED, ticket, actor, "Ticket is locked by")
        if holder is not None:
            return self._extend(ticket, actor, now, fence=None)
        held = self.locks_held_by(actor.user.id, now)
        if held >= self.max_locks:
            raise too_many_locks(held)
        lock = Lock(user_id=actor.user.id, user_name=actor.user.name, expires_at=now + self.lock_ttl)
        return TicketChange(
            ticket=structs.replace(ticket, lock=lock),
            holder=actor.session_id,
            guard=Guard(free=True, max_locks=self.max_locks),
            kind=EventKind.LOCKED,
            actor=actor.user.id,
            grant=True,
        )

    def renew(self, ticket_id: uuid.UUID, actor: Actor, now: datetime, fence: int | None = None) -> TicketChange:
        return self._extend(self._held(ticket_id, actor, now, "renew", fence), actor, now, fence)

    def update(self, request: UpdateTicket, actor: Actor, now: datetime) -> TicketChange:
        fence = request.fence if request.fence is not UNSET else None
        ticket = self._held(self.resolve(request.ticket_id), actor, now, "change", fence)
        if request.version != ticket.version:
            raise Rejected(
                ErrorCode.CONFLICT,
                f"The ticket changed since you read it (you sent version {request.version}, "
                f"it is at version {ticket.version}); reload it and apply your change again.",
                detail="$.version",
            )
        changes = {
            name: value
            for name in ("title", "description", "status", "priority", "assignee", "due_at", "tags")
            if (value := getattr(request, name)) is not UNSET
        }
        if "due_at" in changes:
            changes["due_at"] = due_time(changes["due_at"])
        if "tags" in changes:
            changes["tags"] = normal_tags(changes["tags"])
        if not changes:
            raise Rejected(ErrorCode.BAD_REQUEST, "The update names no field to change.")
        changed = structs.replace(
            ticket, **changes, version=ticket.version + 1, updated_at=now, updated_by=actor.user.id
        )
        return TicketChange(
            ticket=changed,
            holder=actor.session_id,
            guard=self._holding(ticket, actor, fence, version=ticket.version),
            kind=EventKind.UPDATED,
            actor=actor.user.id,
        )

    def quick_change(
        self, ticket_id: uuid.UUID, change: QuickChange, actor: Actor, now: datetime
    ) -> TicketChange | None:
        """A change without the editor: applied at once when nobody else holds the lock (no lock is taken or
        let go of, so no lock events); a lock this session holds is kept. None when the ticket already is as
        asked (nothing to write, no event)."""
        ticket = self.get(ticket_id)
        holder = self.holder(ticket_id, now)
        if holder is not None and holder != actor.session_id:
            raise _held_elsewhere(ErrorCode.LOCKED, ticket, actor, "Ticket is locked by")
        fields = change.fields_for(ticket)
        if not fields:
            return None
        if holder is None:
            # a lapsed lease is cleared by the write, as a new grant would clear it
            changed = structs.replace(ticket, **fields, lock=None)
            guard = Guard(version=ticket.version, free=True)
        else:
            changed = structs.replace(ticket, **fields)
            guard = self._holding(ticket, actor, None, version=ticket.version)
        return TicketChange(
            ticket=structs.replace(changed, version=ticket.version + 1, updated_at=now, updated_by=actor.user.id),
            holder=holder,
            guard=guard,
            kind=EventKind.UPDATED,
            actor=actor.user.id,
        )

    def unlock(self, ticket_id: uuid.UUID, actor: Actor, now: datetime, *, force: bool) -> TicketChange:
        ticket = self.get(ticket_id)
        released = structs.replace(ticket, lock=None)
        if self._holders.get(ticket_id) == actor.session_id:  # a lapsed lease may still be let go of
            return TicketChange(
                ticket=released,
                holder=None,
                guard=Guard(holder=actor.session_id, live=False),
                kind=EventKind.UNLOCKED,
                actor=actor.user.id,
                reason=UnlockReason.RELEASED,
            )
        if not force:
            self._held(ticket_id, actor, now, "unlock", None)  # raises the precise refusal
        if not actor.is_admin:
            raise Rejected(ErrorCode.FORBIDDEN, "Only an admin may force a lock open.")
        if self._holders.get(ticket_id) is None:
            raise Rejected(ErrorCode.NOT_LOCK_HOLDER, "The ticket is not locked.")
        return TicketChange(
            ticket=released,
            holder=None,
            guard=Guard(locked=True),
            kind=EventKind.UNLOCKED,
            actor=actor.user.id,
            reason=UnlockReason.BROKEN,
        )

    # --- the read model follows the log -------------------------------------------

    def apply(self, ticket: Ticket, holder: str | None) -> None:
        self.tickets[ticket.id] = ticket
        if ticket.number:
            self.numbers[ticket.number] = ticket.id
        if holder is None:
            self._holders.pop(ticket.id, None)
        else:
            self._holders[ticket.id] = holder

    # --- helpers ------------------------------------------------------------------

    def _extend(self, ticket: Ticket, actor: Actor, now: datetime, fence: int | None) -> TicketChange:
        assert ticket.lock is not None
        return TicketChange(
            ticket=structs.replace(ticket, lock=structs.replace(ticket.lock, expires_at=now + self.lock_ttl)),
            holder=actor.session_id,
            guard=self._holding(ticket, actor, fence),
            kind=EventKind.RENEWED,
            actor=actor.user.id,
        )

    @staticmethod
    def _holding(ticket: Ticket, actor: Actor, fence: int | None, version: int | None = None) -> Guard:
        """This session's live lease at the grant the rule saw (or the client named)."""
        assert ticket.lock is not None
        return Guard(version=version, holder=actor.session_id, fence=ticket.lock.fence if fence is None else fence)

    def _held(self, ticket_id: uuid.UUID, actor: Actor, now: datetime, verb: str, fence: int | None) -> Ticket:
        ticket = self.get(ticket_id)
        holder = self.holder(ticket_id, now)
        if holder == actor.session_id:
            assert ticket.lock is not None
            if fence is not None and fence != ticket.lock.fence:
                raise Rejected(
                    ErrorCode.NOT_LOCK_HOLDER,
                    f"Your lock on this ticket was lost and taken again since (you sent fence {fence}, "
                    f"the lock is at {ticket.lock.fence}); reload the ticket before you {verb} it.",
                    detail="$.fence",
                )
            return ticket
        if self._holders.get(ticket_id) == actor.session_id:
            raise Rejected(ErrorCode.NOT_LOCK_HOLDER, f"Your lock on this ticket expired; lock it again to {verb} it.")
        if holder is None:
            raise Rejected(ErrorCode.NOT_LOCK_HOLDER, f"Lock the ticket before you {verb} it; nobody holds it now.")
        raise _held_elsewhere(
            ErrorCode.NOT_LOCK_HOLDER, ticket, actor, f"You cannot {verb} this ticket: it is locked by"
        )
