"""SQL both engines share: the ticket row's columns and the guard's WHERE clause.

Placeholders and value types differ (SQLite: `?` and text; psycopg: `%s` and native types), so each store passes
its placeholder and a converter for the values.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from lesbillets_server.storage.records import EventKind, Guard, LoggedEvent, decode_event_data
from protocol.messages import Lock, Priority, Status, Ticket, UnlockReason

TICKET_COLUMNS = (
    "id, title, description, status, priority, assignee, created_at, created_by, updated_at, updated_by, version,"
    " lock_user_id, lock_user_name, lock_expires_at, lock_session, lock_fence, number, due_at, tags"
)
TICKET_PLACES = 19
"""How many values `TICKET_COLUMNS` names."""
EVENT_COLUMNS = "seq, kind, reason, actor, at, holder, data"

_SET_FIELDS = (
    "title = {p}, description = {p}, status = {p}, priority = {p}, assignee = {p}, updated_at = {p},"
    " updated_by = {p}, version = {p}, lock_user_id = {p}, lock_user_name = {p}, lock_expires_at = {p},"
    " lock_session = {p}, due_at = {p}, tags = {p}, lock_fence = lock_fence + {p}"
)
UNLOCK_FIELDS = "lock_user_id = NULL, lock_user_name = NULL, lock_expires_at = NULL, lock_session = NULL"

Convert = Callable[[Any], Any]


def ticket_values(ticket: Ticket, holder: str | None) -> tuple[Any, ...]:
    """The row's values in `TICKET_COLUMNS` order, as Python values (each store converts them)."""
    lock = ticket.lock
    return (
        ticket.id,
        ticket.title,
        ticket.description,
        ticket.status.value,
        ticket.priority.value,
        ticket.assignee,
        ticket.created_at,
        ticket.created_by,
        ticket.updated_at,
        ticket.updated_by,
        ticket.version,
        None if lock is None else lock.user_id,
        None if lock is None else lock.user_name,
        None if lock is None else lock.expires_at,
        holder if lock is not None else None,
        0 if lock is None else lock.fence,
        ticket.number,
        ticket.due_at,
        list(ticket.tags),
    )


def ticket_from_row(row: tuple[Any, ...], as_uuid: Convert, as_time: Convert) -> tuple[Ticket, str | None]:
    """A ticket and the session holding its lock, from a row in `TICKET_COLUMNS` order."""
    lock = None
    if row[14] is not None:
        lock = Lock(user_id=as_uuid(row[11]), user_name=row[12], expires_at=as_time(row[13]), fence=int(row[15]))
    ticket = Ticket(
        id=as_uuid(row[0]),
        title=row[1],
        description=row[2],
        status=Status(row[3]),
        priority=Priority(row[4]),
        assignee=None if row[5] is None else as_uuid(row[5]),
        created_at=as_time(row[6]),
        created_by=as_uuid(row[7]),
        updated_at=as_time(row[8]),
        updated_by=as_uuid(row[9]),
        version=int(row[10]),
        lock=lock,
        number=int(row[16]),
        due_at=None if row[17] is None else as_time(row[17]),
        tags=_tags(row[18]),
    )
    return ticket, row[14]


def _tags(value: Any) -> list[str]:
    """Tags as stored: JSON text on SQLite, a text[] on PostgreSQL."""
    return list(json.loads(value) if isinstance(value, str) else value)


def numbered(tickets: Sequence[Ticket], numbers: Sequence[int]) -> list[Ticket]:
    """New tickets with the numbers the database just gave them, in order."""
    return [msgspec.structs.replace(ticket, number=n) for ticket, n in zip(tickets, numbers, strict=True)]


def update_statement(placeholder: str) -> str:
    """Overwrite a ticket's row if the guard holds; returns the lock's fence after the write."""
    fields = _SET_FIELDS.format(p=placeholder)
    return f"UPDATE tickets SET {fields} WHERE id = {placeholder} AND {{guard}} RETURNING lock_fence"


def update_values(ticket: Ticket, holder: str | None, grant: bool) -> list[Any]:
    values = list(ticket_values(ticket, holder))
    # SET skips id, created_at, created_by and number (0, 6, 7, 16), which never change; the fence is an
    # increment; WHERE id comes last
    kept = [values[i] for i in (1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 17, 18)]
    return [*kept, 1 if grant else 0, ticket.id]


def guard_clause(guard: Guard, now: datetime, placeholder: str) -> tuple[str, list[Any]]:
    """The WHERE conditions a guard puts on the ticket's row, and their parameters."""
    p = placeholder
    parts: list[str] = []
    params: list[Any] = []
    if guard.version is not None:
        parts.append(f"version = {p}")
        params.append(guard.version)
    if guard.holder is not None:
        parts.append(f"lock_session = {p}")
        params.append(guard.holder)
        if guard.live:
            parts.append(f"lock_expires_at > {p}")
            params.append(now)
    if guard.fence is not None:
        parts.append(f"lock_fence = {p}")
        params.append(guard.fence)
    if guard.free:
        parts.append(f"(lock_session IS NULL OR lock_expires_at <= {p})")
        params.append(now)
    if guard.locked:
        parts.append("lock_session IS NOT NULL")
    return (" AND ".join(parts) or "TRUE"), params


def locks_held_statement(placeholder: str) -> str:
    """Unexpired locks a user holds on tickets other than this one (for `Guard.max_locks`)."""
    p = placeholder
    return f"SELECT count(*) FROM tickets WHERE lock_user_id = {p} AND lock_expires_at > {p} AND id <> {p}"


def new_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def event_from_row(row: tuple[Any, ...], as_uuid: Convert, as_time: Convert) -> LoggedEvent:
    """A log row in `EVENT_COLUMNS` order."""
    seq, kind, reason, actor, at, holder, data = row
    event_kind = EventKind(kind)
    ticket, comment = decode_event_data(event_kind, bytes(data))
    return LoggedEvent(
        seq=int(seq),
        kind=event_kind,
        ticket=ticket,
        holder=holder,
        actor=None if actor is None else as_uuid(actor),
        at=as_time(at),
        reason=None if reason is None else UnlockReason(reason),
        comment=comment,
    )
