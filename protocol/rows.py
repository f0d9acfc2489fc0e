"""The table's rows for consumers, sans-I/O: `Rows` pages expanded into `TableRow`s with real user ids and times.

    load = RowsLoad()
    async for item in client.events():
        if isinstance(item, Rows):
            rows = expand(item)
            if load.take(item):
                table.replace(rows)  # the first page of a (new) load: the newest tickets
            else:
                table.add(rows)
            if load.complete:
                ...  # the whole table is in; events follow
        elif isinstance(item, TicketUpdated):
            table.put(TableRow.of(item.ticket))

On the wire a `Row` is positional, its ``assignee`` and ``created_by`` are indexes into its page's ``users`` and
its times are Unix seconds; a `TableRow` has the same fields with user ids and UTC datetimes, and is what an event's
full `Ticket` becomes too (`TableRow.of`), so a table holds one kind of row whatever brought it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from protocol.errors import ProtocolViolation
from protocol.messages import Lock, Priority, Rows, Status, Ticket


class TableRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A ticket as the table shows it: no description, no conversation (fetch those with `GetTicket`)."""

    id: uuid.UUID
    number: int
    title: str
    status: Status
    priority: Priority
    assignee: uuid.UUID | None
    created_by: uuid.UUID
    updated_at: datetime
    version: int
    lock: Lock | None = None
    due_at: datetime | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, ticket: Ticket) -> TableRow:
        """The row of a full ticket (from an event, a reply or `GetTicket`), its times to the second as on the
        wire, so that a row sorts the same whichever way it came."""
        return cls(
            id=ticket.id,
            number=ticket.number,
            title=ticket.title,
            status=ticket.status,
            priority=ticket.priority,
            assignee=ticket.assignee,
            created_by=ticket.created_by,
            updated_at=ticket.updated_at.replace(microsecond=0),
            version=ticket.version,
            lock=ticket.lock,
            due_at=None if ticket.due_at is None else ticket.due_at.replace(microsecond=0),
            tags=tuple(ticket.tags),
        )


def expand(page: Rows) -> list[TableRow]:
    """The page's rows with user ids and datetimes; `ProtocolViolation` if a row names a user the page lacks."""
    users = page.users
    count = len(users)
    at = datetime.fromtimestamp
    rows = []
    for row in page.rows:
        assignee, created_by, due_at = row.assignee, row.created_by, row.due_at
        if not 0 <= created_by < count or (assignee is not None and not 0 <= assignee < count):
            raise ProtocolViolation(f"The server sent a row of ticket {row.id} naming a user its page does not list.")
        rows.append(
            TableRow(
                id=row.id,
                number=row.number,
                title=row.title,
                status=row.status,
                priority=row.priority,
                assignee=None if assignee is None else users[assignee],
                created_by=users[created_by],
                updated_at=at(row.updated_at, UTC),
                version=row.version,
                lock=row.lock,
                due_at=None if due_at is None else at(due_at, UTC),
                tags=tuple(row.tags),
            )
        )
    return rows


@dataclass
class RowsLoad:
    """Which `Rows` pages make one table: a page of another request starts a new one (after a reconnect or a
    resync the client asks again, and the table so far is to be replaced); the page with ``more`` false ends it."""

    rid: int | None = None
    complete: bool = False
    """The last page of the current load is in: the table is whole, and events apply to it in order."""

    def take(self, page: Rows) -> bool:
        """Note the next page; True when it is the first of a load (replace the table with it), False when it
        adds to the table."""
        fresh = page.rid != self.rid or self.complete
        self.rid = page.rid
        self.complete = not page.more
        return fresh
