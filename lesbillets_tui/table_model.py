"""The ticket table's data, sans I/O: tickets by id, the filter, the sort, and the sorted index of shown rows.

The index is a list of sort keys kept in ascending order. A single-ticket event moves one entry with `bisect`
(two O(log n) searches and a memmove) instead of re-sorting the backlog; only a new snapshot, a new sort or a
new filter rebuilds it. A descending sort reads the same list from the end.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

from lesbillets_tui.query import Filter, haystack, parse_query
from protocol.messages import (
    Lock,
    Priority,
    Status,
    Ticket,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    TicketUpdated,
    User,
)

TicketEvent = TicketCreated | TicketUpdated | TicketLocked | TicketUnlocked

STATUS_RANK: dict[Status, int] = {Status.OPEN: 0, Status.BLOCKED: 1, Status.CLOSED: 2}
PRIORITY_RANK: dict[Priority, int] = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class SortColumn(StrEnum):
    """The sortable columns, in the order `s` cycles through them (also the table's column order)."""

    LOCK = "lock"
    TITLE = "title"
    STATUS = "status"
    PRIORITY = "priority"
    ASSIGNEE = "assignee"
    UPDATED = "updated"
    CREATED_BY = "created by"


_DESCENDING_FIRST = frozenset({SortColumn.LOCK, SortColumn.PRIORITY, SortColumn.UPDATED})


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


Key = tuple[Any, float, uuid.UUID]


class TableModel:
    """Everything the ticket table shows, with no widget in sight."""

    def __init__(self, *, me: uuid.UUID | None = None, users: Iterable[User] = (), sort: Sort | None = None) -> None:
        self.me = me
        self.users: dict[uuid.UUID, User] = {user.id: user for user in users}
        self.tickets: dict[uuid.UUID, Ticket] = {}
        self.loaded = False
        """A snapshot came: from here the table follows events."""
        self.sort = sort or Sort()
        self.query = ""
        self.filter = Filter()
        self.query_errors: tuple[str, ...] = ()
        self._index: list[Key] = []
        self._keys: dict[uuid.UUID, Key] = {}
        self._haystacks: dict[uuid.UUID, str] = {}
        self._key = self._key_function()

    # --- reading ------------------------------------------------------------------

    def __len__(self) -> int:
        """How many tickets pass the filter (the table's rows)."""
        return len(self._index)

    @property
    def total(self) -> int:
        return len(self.tickets)

    def row(self, position: int) -> Ticket:
        """The ticket shown at ``position`` (0 = top row)."""
        if self.sort.descending:
            position = len(self._index) - 1 - position
        return self.tickets[self._index[position][2]]

    def rows(self, start: int, stop: int) -> Iterator[Ticket]:
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

    def get(self, ticket_id: uuid.UUID) -> Ticket | None:
        return self.tickets.get(ticket_id)

    def user_name(self, user_id: uuid.UUID | None) -> str:
        """A display name: "" for nobody, the short id for an agent not (yet) in the directory."""
        if user_id is None:
            return ""
        user = self.users.get(user_id)
        return user.name if user is not None else str(user_id)[:8]

    # --- whole-table changes ------------------------------------------------------------

    def load(self, tickets: Iterable[Ticket]) -> None:
        """Replace everything with a snapshot."""
        self.loaded = True
        self.tickets = {ticket.id: ticket for ticket in tickets}
        self._haystacks.clear()
        self._rebuild()

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
            self._rebuild()
        return parsed.errors

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

    def apply(self, event: TicketEvent) -> Ticket | None:
        """Reflect one server event; returns the ticket as it now stands (None for a lock on an unknown ticket)."""
        if isinstance(event, TicketCreated | TicketUpdated):
            self.upsert(event.ticket)
            return event.ticket
        if isinstance(event, TicketLocked):
            return self.set_lock(event.ticket_id, event.lock)
        return self.set_lock(event.ticket_id, None)

    def set_lock(self, ticket_id: uuid.UUID, lock: Lock | None) -> Ticket | None:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return None
        updated = msgspec.structs.replace(ticket, lock=lock)
        self.upsert(updated)
        return updated

    def upsert(self, ticket: Ticket) -> None:
        """Add or replace one ticket, moving only its own index entry. An older version never replaces a newer."""
        current = self.tickets.get(ticket.id)
        if current is not None and ticket.version < current.version:
            return
        self.tickets[ticket.id] = ticket
        if current is None or current.title != ticket.title or current.description != ticket.description:
            self._haystacks.pop(ticket.id, None)
        old_key = self._keys.pop(ticket.id, None)
        if old_key is not None:
            del self._index[bisect_left(self._index, old_key)]
        if self._keep(ticket):
            new_key = self._key(ticket)
            self._keys[ticket.id] = new_key
            insort(self._index, new_key)

    # --- helpers ----------------------------------------------------------------------

    def _keep(self, ticket: Ticket) -> bool:
        if self.filter.is_empty:
            return True
        hay = self._haystacks.get(ticket.id)
        if hay is None and self.filter.words:
            hay = self._haystacks[ticket.id] = haystack(ticket)
        return self.filter.matches(ticket, hay or "")

    def _key_function(self) -> Callable[[Ticket], Key]:
        column, descending = self.sort.column, self.sort.descending
        sign = 1.0 if descending else -1.0  # within equal primary keys, newest first either way
        name = self.user_name

        primary: Callable[[Ticket], Any]
        if column is SortColumn.UPDATED:
            return lambda t: (0, t.updated_at.timestamp(), t.id)
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
        else:
            primary = lambda t: name(t.created_by).casefold()  # noqa: E731
        return lambda t: (primary(t), sign * t.updated_at.timestamp(), t.id)
