"""What the stores read and write: plain records, the guarded ticket change, and the comment write.

A `TicketChange` is the whole of one ticket operation as the database sees it: the row as it should become, the
`Guard` the current row must pass for the change to apply (checked by the write itself, so two replicas can never
both win), and what the log records about it. The rules that build it live in `board.py`; here is only data.
A `CommentWrite` is the same for the conversation: the comment as it should become. Both append one log row, which
carries either the ticket or the comment as the write left it.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

import msgspec

from protocol.messages import (
    Comment,
    CommentAdded,
    CommentEdited,
    Event,
    InboxKind,
    Ticket,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    TicketUpdated,
    UnlockReason,
    User,
)

_ticket_encoder = msgspec.json.Encoder()
_ticket_decoder = msgspec.json.Decoder(Ticket)
_comment_decoder = msgspec.json.Decoder(Comment)


def encode_ticket(ticket: Ticket) -> bytes:
    return _ticket_encoder.encode(ticket)


def decode_ticket(data: bytes) -> Ticket:
    return _ticket_decoder.decode(data)


def encode_event_data(event: LoggedEvent) -> bytes:
    """A log row's `data`: the ticket, or for a comment event the comment, as the change left it."""
    return _ticket_encoder.encode(event.comment if event.comment is not None else event.ticket)


def decode_event_data(kind: EventKind, data: bytes) -> tuple[Ticket | None, Comment | None]:
    if kind in COMMENT_KINDS:
        return None, _comment_decoder.decode(data)
    return _ticket_decoder.decode(data), None


def with_fence(ticket: Ticket, fence: int) -> Ticket:
    """The ticket with its lock's fence set (the database assigns fences)."""
    assert ticket.lock is not None
    return msgspec.structs.replace(ticket, lock=msgspec.structs.replace(ticket.lock, fence=fence))


@dataclass(frozen=True, slots=True)
class UserRecord:
    user: User
    password_hash: str
    disabled: bool


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user_id: uuid.UUID
    expires_at: datetime


class EventKind(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    LOCKED = "locked"
    RENEWED = "renewed"
    UNLOCKED = "unlocked"
    COMMENTED = "commented"
    COMMENT_EDITED = "comment_edited"


COMMENT_KINDS = frozenset({EventKind.COMMENTED, EventKind.COMMENT_EDITED})
"""The events of the conversation: their log row carries a comment, not a ticket (the board does not change)."""


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One row of the event log: the ticket (or, for a comment event, the comment) as the change left it, and who
    did it when. Exactly one of `ticket` and `comment` is set."""

    seq: int
    kind: EventKind
    ticket: Ticket | None
    holder: str | None
    """The session holding the lock after the change (None when unlocked); the wire `Lock` names only the user."""
    actor: uuid.UUID | None
    """The user who made the change; None for the server's own (expiry, a dropped session)."""
    at: datetime
    reason: UnlockReason | None = None
    comment: Comment | None = None

    @property
    def ticket_id(self) -> uuid.UUID:
        """The ticket the event is about (a comment's ticket, for a comment event)."""
        if self.ticket is not None:
            return self.ticket.id
        assert self.comment is not None
        return self.comment.ticket_id

    def wire(self) -> Event:
        """The broadcast event for this row."""
        if self.comment is not None:
            if self.kind is EventKind.COMMENT_EDITED:
                return CommentEdited(seq=self.seq, comment=self.comment)
            return CommentAdded(seq=self.seq, comment=self.comment)
        assert self.ticket is not None
        match self.kind:
            case EventKind.CREATED:
                return TicketCreated(seq=self.seq, ticket=self.ticket)
            case EventKind.UPDATED:
                return TicketUpdated(seq=self.seq, ticket=self.ticket)
            case EventKind.LOCKED | EventKind.RENEWED:
                assert self.ticket.lock is not None
                return TicketLocked(seq=self.seq, ticket_id=self.ticket.id, lock=self.ticket.lock)
            case EventKind.UNLOCKED:
                assert self.reason is not None
                return TicketUnlocked(seq=self.seq, ticket_id=self.ticket.id, reason=self.reason)
        raise AssertionError(f"a {self.kind} event without a comment")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Guard:
    """What the ticket's current row must be for a change to apply; every field set must hold.

    Leases are judged at the `now` given with the change, which comes from the helpdesk's one clock.
    """

    version: int | None = None
    """The row is at this version."""
    holder: str | None = None
    """This session holds the lock (with `live`, and a lease that has not run out)."""
    fence: int | None = None
    """The lock was granted with this fence."""
    live: bool = True
    """With `holder`: the lease must not have run out."""
    free: bool = False
    """Nobody holds the lock, or its lease has run out."""
    locked: bool = False
    """Somebody holds the lock (an admin's force)."""
    max_locks: int | None = None
    """The acting user holds fewer unexpired locks than this on other tickets (a new grant)."""


@dataclass(frozen=True, slots=True)
class TicketChange:
    ticket: Ticket
    """The row as it should become. On a grant the store sets the lock's new fence."""
    holder: str | None
    """The session holding the lock after the change."""
    guard: Guard
    kind: EventKind
    actor: uuid.UUID
    reason: UnlockReason | None = None
    grant: bool = False
    """A new lock: the store gives it the ticket's next fence."""


@dataclass(frozen=True, slots=True)
class CommentWrite:
    """A comment added, or edited by its author: the row as it should become (an edit keeps id, ticket, author and
    `created_at`). An edit applies only while the row's author is `comment.author` (else `GuardFailed`)."""

    comment: Comment
    kind: EventKind
    """`COMMENTED` or `COMMENT_EDITED`."""

    @property
    def actor(self) -> uuid.UUID:
        return self.comment.author


Write = TicketChange | CommentWrite
"""What one group-committed transaction is made of: each write is checked by its own guard."""


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One row of a user's inbox, written in the transaction of the event (`seq`) that caused it."""

    user_id: uuid.UUID
    seq: int
    kind: InboxKind
    ticket_id: uuid.UUID
    actor: uuid.UUID | None
    at: datetime
    comment_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Prior:
    """What an inbox rule needs of a ticket's row as it was before a change: its assignee and its lock's holder."""

    assignee: uuid.UUID | None
    lock_user: uuid.UUID | None

    @classmethod
    def of(cls, ticket: Ticket) -> Prior:
        return cls(assignee=ticket.assignee, lock_user=None if ticket.lock is None else ticket.lock.user_id)


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a replica starts its read model from."""

    tickets: list[Ticket]
    holders: dict[uuid.UUID, str]
    """Ticket id → the session holding its lock."""
    seq: int
    """The last seq in the log: the read model is at this point."""
    epoch: str
    """Changes when the log starts over (a new database): seqs from another epoch mean nothing here."""
    log_start: int
    """The oldest seq the log still holds (seq + 1 when it holds none): resume needs seq ≥ log_start - 1."""


# --- the log rows a change appends (seq 0 until the store numbers them) ------------------------


def created(ticket: Ticket, now: datetime) -> LoggedEvent:
    return LoggedEvent(seq=0, kind=EventKind.CREATED, ticket=ticket, holder=None, actor=ticket.created_by, at=now)


def logged(change: TicketChange, ticket: Ticket, now: datetime) -> LoggedEvent:
    """The row for a change, with the ticket as written (its fence set by the store)."""
    return LoggedEvent(
        seq=0, kind=change.kind, ticket=ticket, holder=change.holder, actor=change.actor, at=now, reason=change.reason
    )


def released_by_server(ticket: Ticket, reason: UnlockReason, now: datetime) -> LoggedEvent:
    """A lock the server let go of (a lease that ran out, a session that ended or dropped)."""
    return LoggedEvent(seq=0, kind=EventKind.UNLOCKED, ticket=ticket, holder=None, actor=None, at=now, reason=reason)


def comment_logged(write: CommentWrite, now: datetime) -> LoggedEvent:
    return LoggedEvent(
        seq=0, kind=write.kind, ticket=None, holder=None, actor=write.actor, at=now, comment=write.comment
    )
