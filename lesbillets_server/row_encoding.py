"""`Rows` pages as bytes, sans-I/O: tickets as positional rows, the newest first, the rest a page at a time.

`GetRows` is answered from one `RowTable` per (seq, encoding), shared by every request for that seq:

* The head: the `HEAD_ROWS` most recently updated tickets, each row encoded on its own, so that any request's
  first page (its ``first`` newest) and the page after it (the rest of the head) are only a list of references
  into the shared bytes, whatever ``first`` it asked for.
* The pages: every other ticket, `PAGE_ROWS` to a page, encoded `SLICE_ROWS` at a time (the event loop serves
  others between slices), each page with the list of the users its rows index.

A page on the wire is `Rows(rid, seq, users, rows, more)`: msgspec writes the fields in that order, so the bytes
before the ``users`` array, between it and the ``rows`` array, and after it are a per-request envelope
(`envelope`) around shared arrays; tests check the splice is byte for byte the encoding of the whole message.
"""

from __future__ import annotations

import heapq
import operator
import uuid
from dataclasses import dataclass
from typing import Final

from lesbillets_server.snapshot_encoding import ArrayEncoder
from protocol.codec import Codec
from protocol.messages import Row, Rows, Ticket

HEAD_ROWS: Final = 1000
"""The head of the table: the most `GetRows.first` may ask for."""
PAGE_ROWS: Final = 5000
"""Rows in each page after the head (~750 kB of JSON)."""
SLICE_ROWS: Final = 250
"""Rows converted and encoded in one go (about a millisecond, like a snapshot's slice)."""

Piece = bytes | memoryview


class UserIndex:
    """A page's ``users``: each user id once, in the order rows first name them."""

    __slots__ = ("_index", "ids")

    def __init__(self) -> None:
        self.ids: list[uuid.UUID] = []
        self._index: dict[uuid.UUID, int] = {}

    def __call__(self, user_id: uuid.UUID) -> int:
        index = self._index.get(user_id)
        if index is None:
            index = self._index[user_id] = len(self.ids)
            self.ids.append(user_id)
        return index


def to_row(ticket: Ticket, users: UserIndex) -> Row:
    """The table's view of a ticket, its users as indexes into ``users`` and its times in Unix seconds."""
    assignee, due_at = ticket.assignee, ticket.due_at
    return Row(
        id=ticket.id,
        number=ticket.number,
        title=ticket.title,
        status=ticket.status,
        priority=ticket.priority,
        assignee=None if assignee is None else users(assignee),
        created_by=users(ticket.created_by),
        updated_at=int(ticket.updated_at.timestamp()),
        version=ticket.version,
        lock=ticket.lock,
        due_at=None if due_at is None else int(due_at.timestamp()),
        tags=ticket.tags,
    )


def envelope(codec: Codec, rid: int, seq: int, *, more: bool) -> tuple[bytes, bytes, bytes]:
    """The bytes of a `Rows` page before its ``users`` array, between that and ``rows``, and after ``rows``."""
    empty = _EMPTY_ARRAY[codec.text]
    whole = codec.encode(Rows(rid=rid, seq=seq, users=[], rows=[], more=more))
    # From the end: only the key "more" and a boolean follow the rows, only the key "rows" sits between the two
    # arrays, so neither search can land inside the rid or seq before them.
    before_rows, found_rows, after = whole.rpartition(empty)
    before, found_users, between = before_rows.rpartition(empty)
    assert found_rows and found_users, "Rows no longer ends with users then rows"
    return before, between, after


_EMPTY_ARRAY: Final = {True: b"[]", False: b"\x90"}
_UPDATED_AT: Final = operator.attrgetter("updated_at")
"""Comparing the datetimes takes half the time of a key that calls `.timestamp()` on each."""


@dataclass(frozen=True, slots=True)
class Page:
    """A page's shared part: its encoded ``users`` array and its ``rows`` array (as pieces)."""

    users: bytes
    rows: list[Piece]
    count: int


class RowTable:
    """The table at one seq in one encoding, as `Rows` pages: the head at once, the other pages a slice at a time."""

    def __init__(self, seq: int, codec: Codec, tickets: list[Ticket]) -> None:
        self.seq = seq
        self.codec = codec
        head = heapq.nlargest(HEAD_ROWS, tickets, key=_UPDATED_AT)  # ~25 ms for 100,000 tickets
        users = UserIndex()
        head_rows = [to_row(ticket, users) for ticket in head]
        self._array = ArrayEncoder(codec)
        self.head_users = codec.encode(users.ids)  # type: ignore[arg-type]  # a list encodes like a Struct
        self.head_items: list[bytes] = [codec.encode(row) for row in head_rows]
        rest = len(tickets) - len(head)  # ids are unique: the head is a part of the tickets
        self.page_count = -(-rest // PAGE_ROWS)
        self.pages: list[Page] = []
        self.size = len(self.head_users) + sum(map(len, self.head_items))
        """Bytes encoded so far."""
        self._rest_left = rest
        self._tickets: list[Ticket] | None = tickets if rest else None
        self._head_ids = {ticket.id for ticket in head}
        self._cursor = 0
        self._start_page()

    @property
    def done(self) -> bool:
        return len(self.pages) == self.page_count

    @property
    def slices_left(self) -> int:
        return -(-(self._rest_left + self._page_size - self._in_page) // SLICE_ROWS)

    def head_page(self, start: int, stop: int) -> Page:
        """Rows ``start`` to ``stop`` of the head (newest first), as references into its shared bytes."""
        items = self.head_items[start:stop]
        rows: list[Piece] = [self._array.start(len(items))]
        separator = b"," if self.codec.text else b""
        for index, item in enumerate(items):
            if index and separator:
                rows.append(separator)
            rows.append(item)
        rows.append(self._array.end())
        return Page(self.head_users, rows, len(items))

    def encode_slice(self) -> bool:
        """Convert and encode the next slice of rows; whether it finished a page."""
        tickets = self._tickets
        assert tickets is not None, "already done"
        wanted = min(SLICE_ROWS, self._page_size - self._in_page)
        part: list[Ticket] = []
        head_ids, cursor = self._head_ids, self._cursor
        while len(part) < wanted:
            ticket = tickets[cursor]
            cursor += 1
            if ticket.id not in head_ids:
                part.append(ticket)
        self._cursor = cursor
        users = self._users
        rows = [to_row(ticket, users) for ticket in part]
        pieces = self._array.items(rows, first=self._in_page == 0)
        self._pieces += pieces
        self.size += sum(map(len, pieces))
        self._in_page += len(rows)
        if self._in_page < self._page_size:
            return False
        users_array = self.codec.encode(users.ids)  # type: ignore[arg-type]
        self.size += len(users_array)
        self.pages.append(
            Page(users_array, [self._array.start(self._page_size), *self._pieces, self._array.end()], self._page_size)
        )
        self._start_page()
        if self.done:
            self._tickets = None  # the pages hold all there is to send
            self._head_ids = set()
        return True

    def _start_page(self) -> None:
        self._page_size = min(PAGE_ROWS, self._rest_left)
        self._rest_left -= self._page_size
        self._in_page = 0
        self._users = UserIndex()
        self._pieces: list[Piece] = []
