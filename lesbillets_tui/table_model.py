"""The ticket table's data, sans I/O: rows by id, the filter, the sort, and the sorted index of shown rows.

The rows are `TableRow`s (no description, no conversation): they come from the `Rows` pages of `GetRows`, and from
the full tickets events carry. The index is a list of sort keys kept in ascending order. A single-ticket event
moves one entry with `bisect` (two O(log n) searches and a memmove) instead of re-sorting the backlog; a page of
rows is sorted on its own and merged in (Python's sort merges two sorted runs in linear time); only a new
snapshot, a new sort or a new filter rebuilds it. A descending sort reads the same list from the end.
"""

from __future__ import annotations

import dataclasses
import uuid
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

from lesbillets_tui.query import Filter, parse_query
from protocol.messages import (
    Lock,
    Priority,
    Status,
    Ticket,
    TicketCreated,
    TicketEvent,
    TicketLocked,
    TicketUpdated,
    User,
)
from protocol.rows import TableRow

FIRST_ROWS = 200
"""Rows the first page of a load asks for: more than the tallest terminal shows, so the first screen paints from it."""

STATUS_RANK: dict[Status, int] = {Status.OPEN: 0, Status.BLOCKED: 1, Status.CLOSED: 2}
PRIORITY_RANK: dict[Priority, int] = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class SortColumn(StrEnum):
    """The sortable columns, in the order `s` cycles through them (the table's order is `table_layout.COLUMNS`)."""

    NUMBER = "number"
    LOCK = "lock"
    TITLE = "title"
    STATUS = "status"
    PRIORITY = "priority"
    DUE = "due"
    TAGS = "tags"
    ASSIGNEE = "assignee"
    UPDATED = "updated"
    CREATED_BY = "created by"


_DESCENDING_FIRST = frozenset({SortColumn.NUMBER, SortColumn.LOCK, SortColumn.PRIORITY, SortColumn.UPDATED})


@dataclass(frozen=True)
class Sort:
    column: SortColumn = SortColumn.UPDATED
    descending: bool = True

    def next_column(self) -> Sort:
        """The next column, in its natural direction (newest, most urgent, locked first; names A→Z)."""
        columns = list(SortColumn)
        column = columns[(columns.index(self.column) + 1) % len(columns)]
        return Sort(column, column in _DESCENDING_FIRST)

    def reversed(self) -> Sort:
        return Sort(self.column, not self.descending)


Key = tuple[Any, float, int, uuid.UUID]
"""The sort column's value, the update time (signed so the newest come first), the ticket's number (rows have
their times to the second: among tickets updated in one second the newest created comes first), the id."""


class TableModel:
    """Everything the ticket table shows, with no widget in sight."""

    def __init__(self, *, me: uuid.UUID | None = None, users: Iterable[User] = (), sort: Sort | None = None) -> None:
        self.me = me
        self.users: dict[uuid.UUID, User] = {user.id: user for user in users}
        self.tickets: dict[uuid.UUID, TableRow] = {}
        self.max_number = 0
        """The highest ticket number loaded: how wide the # column must be (numbers only grow)."""
        self.loaded = False
        """The whole table came (the last page of a load): from here the table follows events."""
        self.sort = sort or Sort()
        self.query = ""
        self.filter = Filter()
        self.query_errors: tuple[str, ...] = ()
        self.search_hits: frozenset[uuid.UUID] = frozenset()
        """Tickets the server's search found for the filter's words (by description or comment, say): shown
        when the filter's other parts (status:, assignee:…) hold, whether or not the words occur here."""
        self._fields_filter = Filter()
        self._index: list[Key] = []
        self._keys: dict[uuid.UUID, Key] = {}
        self._haystacks: dict[uuid.UUID, str] = {}
        self._staged: list[TableRow] | None = None
        """The pages of a reload so far (the table shown stays as it is until the last page is in)."""
        self._key = self._key_function()

    # --- reading ------------------------------------------------------------------

    def __len__(self) -> int:
        """How many tickets pass the filter (the table's rows)."""
        return len(self._index)

    @property
    def total(self) -> int:
        return len(self.tickets)

    def row(self, position: int) -> TableRow:
        """The ticket shown at ``position`` (0 = top row)."""
        if self.sort.descending:
            position = len(self._index) - 1 - position
        return self.tickets[self._index[position][3]]

    def rows(self, start: int, stop: int) -> Iterator[TableRow]:
        """The tickets shown from ``start`` to ``stop`` (clamped)."""
        for position in range(max(0, start), min(stop, len(self._index))):
            yield self.row(position)

    def position_of(self, ticket_id: uuid.UUID) -> int | None:
        """Where a ticket is shown, or None when it is filtered out or unknown."""
        key = self._keys.get(ticket_id)
        if key is None:
            return None
        position = bisect_left(self._index, key)
        return len(self._index) - 1 - position if self.sort.descending else position

    def get(self, ticket_id: uuid.UUID) -> TableRow | None:
        return self.tickets.get(ticket_id)

    def with_number(self, number: int) -> TableRow | None:
        """The loaded ticket numbered ``number``, if any. A scan (no index to keep for 100k rows): only the
        filter's ``#1042`` asks, and a filter scans every row anyway."""
        if not 0 < number <= self.max_number:
            return None
        return next((ticket for ticket in self.tickets.values() if ticket.number == number), None)

    def user_name(self, user_id: uuid.UUID | None) -> str:
        """A display name: "" for nobody, the short id for an agent not (yet) in the directory."""
        if user_id is None:
            return ""
        user = self.users.get(user_id)
        return user.name if user is not None else str(user_id)[:8]

    # --- whole-table changes ------------------------------------------------------------

    def load(self, rows: Iterable[TableRow | Ticket], *, complete: bool = True) -> None:
        """Replace everything with a snapshot, or with the first page of one (``complete`` false: `add` the
        others)."""
        self.loaded = complete
        self._staged = None
        self.tickets = {row.id: _as_row(row) for row in rows}
        self.max_number = max((row.number for row in self.tickets.values()), default=0)
        self._haystacks.clear()
        self._rebuild()

    def add(self, rows: Iterable[TableRow], *, complete: bool) -> None:
        """Merge the next page of the load `load` began; ``complete`` with its last page."""
        new_keys = []
        key, keep, tickets = self._key, self._keep, self.tickets
        for row in rows:
            if row.id in tickets:  # not within one load; but never two entries for one ticket
                self.upsert(row)
                continue
            tickets[row.id] = row
            if row.number > self.max_number:
                self.max_number = row.number
            if keep(row):
                self._keys[row.id] = new_key = key(row)
                new_keys.append(new_key)
        if new_keys:
            new_keys.sort()
            self._index += new_keys
            self._index.sort()
        self.loaded = complete

    @property
    def reloading(self) -> bool:
        """A reload is on its way (the table shown is the one before it)."""
        return self._staged is not None

    def clear(self) -> None:
        """Nothing loaded (logged out): the table waits for a load."""
        self._staged = None
        self.load([], complete=False)

    def receive(self, rows: list[TableRow], *, fresh: bool, complete: bool) -> bool:
        """Take a page of rows (``fresh``: the first of a load; ``complete``: its last); whether what the table
        shows changed. A first load shows each page as it comes, the newest first. A reload (after a
        reconnect, a gap or a resync) keeps the table as it is, stale but whole, until its last page, so that
        the cursor keeps its ticket and the agent their place."""
        if fresh:
            self._staged = None
            if not self.loaded:
                self.load(rows, complete=complete)
                return True
            self._staged = []
        if self._staged is None:
            self.add(rows, complete=complete)
            return True
        self._staged += rows
        if not complete:
            return False
        staged, self._staged = self._staged, None
        self.load(staged)
        return True

    def set_users(self, users: Iterable[User], me: uuid.UUID | None = None) -> None:
        self.users = {user.id: user for user in users}
        if me is not None:
            self.me = me
        self.set_query(self.query)  # "assignee:bob" may now mean someone else
        self._rebuild()

    def set_query(self, text: str) -> tuple[str, ...]:
        """Filter by the query box's text; returns the sentences about what was not understood."""
        parsed = parse_query(text, me=self.me, users=self.users.values())
        self.query = text
        self.query_errors = parsed.errors
        if parsed.filter != self.filter:
            self.filter = parsed.filter
            self._fields_filter = dataclasses.replace(parsed.filter, words=())
            self._rebuild()
        return parsed.errors

    def set_search_hits(self, ticket_ids: Iterable[uuid.UUID]) -> None:
        hits = frozenset(ticket_ids)
        if hits != self.search_hits:
            self.search_hits = hits
            self._rebuild()

    def set_sort(self, sort: Sort) -> None:
        if sort != self.sort:
            # The tie-breaker (newest first within a group) depends on the direction too, so both rebuild.
            self.sort = sort
            self._key = self._key_function()
            self._rebuild()

    def _rebuild(self) -> None:
        key, keep = self._key, self._keep
        keys = {ticket_id: key(ticket) for ticket_id, ticket in self.tickets.items() if keep(ticket)}
        self._keys = keys
        self._index = sorted(keys.values())

    # --- single-ticket changes ------------------------------------------------------------

    def apply(self, event: TicketEvent) -> TableRow | None:
        """Reflect one server event; returns the row as it now stands (None for a lock on an unknown ticket)."""
        if isinstance(event, TicketCreated | TicketUpdated):
            row = TableRow.of(event.ticket)
            self.upsert(row)
            return self.tickets.get(row.id)
        if isinstance(event, TicketLocked):
            return self.set_lock(event.ticket_id, event.lock)
        return self.set_lock(event.ticket_id, None)

    def set_lock(self, ticket_id: uuid.UUID, lock: Lock | None) -> TableRow | None:
        row = self.tickets.get(ticket_id)
        if row is None:
            return None
        updated = msgspec.structs.replace(row, lock=lock)
        self.upsert(updated)
        return updated

    def upsert(self, item: TableRow | Ticket) -> None:
        """Add or replace one ticket, moving only its own index entry. An older version never replaces a newer."""
        ticket = _as_row(item)
        current = self.tickets.get(ticket.id)
        if current is not None and ticket.version < current.version:
            return
        self.tickets[ticket.id] = ticket
        self.max_number = max(self.max_number, ticket.number)
        if current is None or current.title != ticket.title:
            self._haystacks.pop(ticket.id, None)
        old_key = self._keys.pop(ticket.id, None)
        if old_key is not None:
            del self._index[bisect_left(self._index, old_key)]
        if self._keep(ticket):
            new_key = self._key(ticket)
            self._keys[ticket.id] = new_key
            insort(self._index, new_key)

    # --- helpers ----------------------------------------------------------------------

    def _keep(self, ticket: TableRow) -> bool:
        if self.filter.is_empty:
            return True
        if ticket.id in self.search_hits and self.filter.words:
            return self._fields_filter.matches(ticket, "")
        hay = self._haystacks.get(ticket.id)
        if hay is None and self.filter.words:
            # the title only: rows carry no description (the server's search looks there)
            hay = self._haystacks[ticket.id] = ticket.title.casefold()
        return self.filter.matches(ticket, hay or "")

    def _key_function(self) -> Callable[[TableRow], Key]:
        column, descending = self.sort.column, self.sort.descending
        sign = 1.0 if descending else -1.0  # within equal primary keys, newest first either way
        name = self.user_name

        primary: Callable[[TableRow], Any]
        if column is SortColumn.UPDATED:
            return lambda t: (0, t.updated_at.timestamp(), t.number, t.id)
        if column is SortColumn.NUMBER:
            return lambda t: (t.number, 0.0, 0, t.id)  # unique: no tie to break
        if column is SortColumn.LOCK:
            primary = lambda t: (0, "") if t.lock is None else (1, t.lock.user_name.casefold())  # noqa: E731
        elif column is SortColumn.TITLE:
            primary = lambda t: t.title.casefold()  # noqa: E731
        elif column is SortColumn.STATUS:
            primary = lambda t: STATUS_RANK[t.status]  # noqa: E731
        elif column is SortColumn.PRIORITY:
            primary = lambda t: PRIORITY_RANK[t.priority]  # noqa: E731
        elif column is SortColumn.ASSIGNEE:
            # Unassigned after everyone, A→Z.
            primary = lambda t: (1, "") if t.assignee is None else (0, name(t.assignee).casefold())  # noqa: E731
        elif column is SortColumn.DUE:
            # Soonest first; no due time after every due one.
            primary = lambda t: (1, 0.0) if t.due_at is None else (0, t.due_at.timestamp())  # noqa: E731
        elif column is SortColumn.TAGS:
            primary = lambda t: (1, "") if not t.tags else (0, " ".join(t.tags))  # noqa: E731
        else:
            primary = lambda t: name(t.created_by).casefold()  # noqa: E731
        return lambda t: (primary(t), sign * t.updated_at.timestamp(), int(sign) * t.number, t.id)


def _as_row(item: TableRow | Ticket) -> TableRow:
    return TableRow.of(item) if isinstance(item, Ticket) else item
