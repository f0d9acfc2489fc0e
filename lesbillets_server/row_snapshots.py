"""`GetRows` replies: the table's `Rows` pages at one seq, shared by every request for it, each request's pages
sent as its connection drains.

A `RowsStream` is one request's reply: its first page (the ``first`` newest rows) is ready the moment the request
is taken, so it leaves at once; the rest of the head follows, then each shared page as soon as it is encoded and
the connection has room. It is one `outbox.Stream` producing several websocket messages, so whatever is queued on
the connection after it (the events after its seq) leaves after its last page, never between two pages. The
pages are references into the shared `RowTable`: a client that does not read pins no copy of its own, only the
current page's list of references.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode

from lesbillets_server.row_encoding import Page, Piece, RowTable, envelope
from protocol.codec import Codec
from protocol.messages import Ticket

FRAGMENT_BYTES: Final = 64 * 1024
"""Payload of one fragment of a page."""


@dataclass(frozen=True, slots=True)
class RowsTaken:
    """A `GetRows` whose snapshot was taken: queue it (`Snapshots.send_rows`) before the next `await`."""

    rid: int
    first: int
    seq: int
    tickets: list[Ticket]


class SharedRows:
    """A `RowTable` and the streams reading it."""

    def __init__(self, seq: int, codec: Codec, tickets: list[Ticket]) -> None:
        self.table = RowTable(seq, codec, tickets)
        self.readers: set[RowsStream] = set()

    @property
    def seq(self) -> int:
        return self.table.seq

    @property
    def key(self) -> tuple[int, str, str]:
        return self.table.seq, self.table.codec.subprotocol, "rows"

    @property
    def done(self) -> bool:
        return self.table.done

    @property
    def slices_left(self) -> int:
        return self.table.slices_left

    def encode_slice(self) -> None:
        if self.table.encode_slice():
            for reader in list(self.readers):
                reader.wake()


class RowsStream:
    """One `GetRows` reply as frames: each page its own message, in fragments of at most `FRAGMENT_BYTES`."""

    def __init__(
        self,
        shared: SharedRows,
        rid: int,
        first: int,
        *,
        connection: ServerConnection,
        wake: Callable[[], None],
        on_close: Callable[[RowsStream], None],
    ) -> None:
        self.shared = shared
        self.connection = connection
        self.wake = wake
        self._on_close = on_close
        self._rid = rid
        table = shared.table
        head = len(table.head_items)
        cut = min(first, head)
        self._plan: list[tuple[int, int] | int] = [(0, cut)]
        if cut < head:
            self._plan.append((cut, head))
        self._plan += range(table.page_count)
        self._next_page = 0
        self._pieces: deque[Piece] | None = None
        """What is left to send of the page being sent (None between pages)."""
        self._page_started = False
        self.started = False
        self.finished = False
        self._closed = False

    @property
    def pages(self) -> int:
        """How many `Rows` messages this reply has."""
        return len(self._plan)

    def next_frame(self) -> bytes | None:
        if self.finished:
            return None
        if self._pieces is None:
            page = self._page(self._plan[self._next_page])
            if page is None:
                return None  # not encoded yet: the table wakes this stream when it is
            table = self.shared.table
            more = self._next_page + 1 < len(self._plan)
            before, between, after = envelope(table.codec, self._rid, table.seq, more=more)
            self._pieces = deque([before, page.users, between, *page.rows, after])
            self._page_started = False
        pieces = self._pieces
        budget = FRAGMENT_BYTES
        parts: list[Piece] = []
        while budget > 0 and pieces:
            piece = pieces[0]
            if len(piece) <= budget:
                parts.append(pieces.popleft())
                budget -= len(piece)
            else:
                view = memoryview(piece)
                parts.append(view[:budget])
                pieces[0] = view[budget:]
                budget = 0
        fin = not pieces
        codec = self.shared.table.codec
        opcode = Opcode.CONT if self._page_started else (Opcode.TEXT if codec.text else Opcode.BINARY)
        self._page_started = self.started = True
        if fin:
            self._pieces = None
            self._next_page += 1
            self.finished = self._next_page == len(self._plan)
        frame = Frame(opcode, b"".join(parts), fin=fin)
        return frame.serialize(mask=False, extensions=self.connection.protocol.extensions)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._on_close(self)

    def _page(self, entry: tuple[int, int] | int) -> Page | None:
        table = self.shared.table
        if isinstance(entry, tuple):
            return table.head_page(*entry)
        return table.pages[entry] if entry < len(table.pages) else None
