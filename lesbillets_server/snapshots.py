"""`AllTickets` replies for big tables: encoded once per (seq, encoding), shared, and sent as each client reads.

With 100,000 tickets a snapshot is ~47 MB of JSON and ~0.3 s of encoding, so one client asking forty times, or
twenty asking at once, used to hold gigabytes and stall every other request. Now:

* A connection has at most one snapshot on its way: a second `GetTickets` waits until the first has been handed
  to the socket (the connection reads no further requests meanwhile, which is TCP back-pressure on a pipelining
  client) and then gets a fresh one.
* The `tickets` array is encoded once per (seq, encoding) and shared by every reply for that seq; each reply adds
  only its own few bytes of head and tail (`snapshot_encoding`).
* It is encoded a slice at a time, yielding to the event loop between slices, so other requests are answered
  meanwhile. (A thread would not help: msgspec holds the GIL while it encodes.)
* It is sent as a fragmented websocket message, one fragment at a time as the connection's transport has room
  (`Outbox`), so a client that does not read pins the one shared copy, not a copy of its own.
* At most `max_snapshots` encodings exist at once; a `GetTickets` that needs one more waits until one is done.

Ordering: the reply is queued in the same loop iteration as the snapshot is taken (no `await` in between), so it
still arrives after every event up to its `seq` and before any later one.

`GetRows` (the table as light `Rows` pages, `row_snapshots`) goes through the same gate: one snapshot of either
kind in flight per connection, and its encodings count against the same `max_snapshots`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from lesbillets_server.outbox import Outbox
from lesbillets_server.row_snapshots import RowsStream, RowsTaken, SharedRows
from lesbillets_server.snapshot_encoding import SLICE_TICKETS, ArrayEncoder, envelope
from protocol.codec import Codec
from protocol.messages import AllTickets, CloseCode, Ticket

log = logging.getLogger(__name__)

FRAGMENT_BYTES: Final = 64 * 1024
"""Payload of one fragment of a snapshot."""


class SharedSnapshot:
    """The `tickets` array of one snapshot in one encoding, encoded a slice at a time, read by several streams."""

    def __init__(self, seq: int, codec: Codec, tickets: list[Ticket]) -> None:
        self.seq = seq
        self.codec = codec
        self.readers: set[SnapshotStream] = set()
        self.pieces: list[bytes | memoryview] = []
        self.size = 0
        """Bytes in `pieces` so far."""
        self.done = False
        self._tickets: list[Ticket] | None = tickets
        self._encoder = ArrayEncoder(codec)
        self._encoded = 0
        self._append([self._encoder.start(len(tickets))])

    @property
    def key(self) -> tuple[int, str, str]:
        return self.seq, self.codec.subprotocol, "tickets"

    @property
    def slices_left(self) -> int:
        left = 0 if self._tickets is None else len(self._tickets) - self._encoded
        return -(-left // SLICE_TICKETS)

    def encode_slice(self) -> None:
        tickets = self._tickets
        assert tickets is not None, "already done"
        part = tickets[self._encoded : self._encoded + SLICE_TICKETS]
        if part:
            self._append(self._encoder.items(part, first=self._encoded == 0))
            self._encoded += len(part)
        if self._encoded == len(tickets):
            self._append([self._encoder.end()])
            self.done = True
            self._tickets = None
        for reader in list(self.readers):
            reader.wake()

    def _append(self, pieces: list[bytes | memoryview]) -> None:
        for piece in pieces:
            if len(piece):
                self.pieces.append(piece)
                self.size += len(piece)


class SnapshotStream:
    """One `AllTickets` reply as fragments: its own head, the shared array, its own tail (an `outbox.Stream`)."""

    def __init__(
        self,
        shared: SharedSnapshot,
        head: bytes,
        tail: bytes,
        *,
        connection: ServerConnection,
        wake: Callable[[], None],
        on_close: Callable[[SnapshotStream], None],
    ) -> None:
        self.shared = shared
        self.connection = connection
        self.wake = wake
        self._on_close = on_close
        self._head = head
        self._tail = tail
        self._piece = 0
        self._offset = 0
        """Bytes of `shared.pieces[_piece]` already sent."""
        self._body_sent = 0
        self.started = False
        self.finished = False
        self._closed = False

    def next_frame(self) -> bytes | None:
        shared = self.shared
        available = len(self._head) + shared.size - self._body_sent + (len(self._tail) if shared.done else 0)
        if not shared.done and available < FRAGMENT_BYTES:
            return None  # wait for a full fragment
        budget = min(available, FRAGMENT_BYTES)
        parts: list[bytes | memoryview] = [self._head]
        budget -= len(self._head)
        self._head = b""
        while budget > 0 and self._piece < len(shared.pieces):
            piece = shared.pieces[self._piece]
            size = min(len(piece) - self._offset, budget)
            parts.append(memoryview(piece)[self._offset : self._offset + size])
            self._offset += size
            self._body_sent += size
            budget -= size
            if self._offset == len(piece):
                self._piece += 1
                self._offset = 0
        fin = shared.done and self._piece == len(shared.pieces) and budget >= len(self._tail)
        if fin:
            parts.append(self._tail)
        opcode = Opcode.CONT if self.started else (Opcode.TEXT if shared.codec.text else Opcode.BINARY)
        self.started = True
        self.finished = fin
        frame = Frame(opcode, b"".join(parts), fin=fin)
        return frame.serialize(mask=False, extensions=self.connection.protocol.extensions)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._on_close(self)


Shared = SharedSnapshot | SharedRows
Snapshot = Callable[[], tuple[int, list[Ticket]]]


class Snapshots:
    def __init__(self, outbox: Outbox, *, max_snapshots: int) -> None:
        self._outbox = outbox
        self._max = max_snapshots
        self._shared: dict[tuple[int, str, str], Shared] = {}
        self._sending: dict[ServerConnection, SnapshotStream | RowsStream] = {}
        self._waiters: set[asyncio.Future[None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        """Encodings alive (being encoded or sent)."""
        return len(self._shared)

    @property
    def waiting(self) -> int:
        """`GetTickets` and `GetRows` requests waiting for their connection's previous snapshot or a free encoding."""
        return len(self._waiters)

    async def take(self, connection: ServerConnection, codec: Codec, rid: int, snapshot: Snapshot) -> AllTickets:
        """Wait until this connection may be sent a snapshot, then take it; `send` must follow without an `await`."""
        taken = await self._take(connection, (codec.subprotocol, "tickets"), snapshot)
        if taken is None:
            return AllTickets(rid=rid, seq=0, tickets=[])  # closed while waiting: `send` drops it
        seq, tickets = taken
        return AllTickets(rid=rid, seq=seq, tickets=tickets)

    async def take_rows(
        self, connection: ServerConnection, codec: Codec, rid: int, first: int, snapshot: Snapshot
    ) -> RowsTaken:
        """As `take`, for `GetRows`; `send_rows` must follow without an `await`."""
        taken = await self._take(connection, (codec.subprotocol, "rows"), snapshot)
        seq, tickets = taken if taken is not None else (0, [])
        return RowsTaken(rid=rid, first=first, seq=seq, tickets=tickets)

    async def _take(
        self, connection: ServerConnection, kind: tuple[str, str], snapshot: Snapshot
    ) -> tuple[int, list[Ticket]] | None:
        if not await self._until(connection, lambda: connection not in self._sending):
            return None
        while True:
            seq, tickets = snapshot()
            if (seq, *kind) in self._shared or len(self._shared) < self._max:
                return seq, tickets
            if not await self._until(connection, lambda: len(self._shared) < self._max):
                return None

    def send(self, connection: ServerConnection, codec: Codec, reply: AllTickets) -> None:
        """Queue the reply from `take` on its connection, after every frame already queued there."""
        if connection.state is not State.OPEN:
            return
        shared = self._shared.get((reply.seq, codec.subprotocol, "tickets"))
        if not isinstance(shared, SharedSnapshot):
            shared = SharedSnapshot(reply.seq, codec, reply.tickets)
            self._shared[shared.key] = shared
            self._encode(shared)
        head, tail = envelope(codec, reply.rid, reply.seq)
        stream = SnapshotStream(
            shared,
            head,
            tail,
            connection=connection,
            wake=lambda: self._outbox.wake(connection),
            on_close=self._stream_closed,
        )
        shared.readers.add(stream)
        self._sending[connection] = stream
        self._outbox.stream(connection, stream)

    def send_rows(self, connection: ServerConnection, codec: Codec, taken: RowsTaken) -> None:
        """Queue the `Rows` pages from `take_rows` on its connection, after every frame already queued there: the
        first page leaves at once, the others as they are encoded and the connection drains."""
        if connection.state is not State.OPEN:
            return
        shared = self._shared.get((taken.seq, codec.subprotocol, "rows"))
        if not isinstance(shared, SharedRows):
            shared = SharedRows(taken.seq, codec, taken.tickets)
            self._shared[shared.key] = shared
            self._encode(shared)
        stream = RowsStream(
            shared,
            taken.rid,
            taken.first,
            connection=connection,
            wake=lambda: self._outbox.wake(connection),
            on_close=self._stream_closed,
        )
        shared.readers.add(stream)
        self._sending[connection] = stream
        self._outbox.stream(connection, stream)

    def stop(self) -> None:
        """The server is stopping: abandon encodings in progress."""
        for task in list(self._tasks):
            task.cancel()

    def _encode(self, shared: Shared) -> None:
        if shared.done:
            return
        if shared.slices_left <= 1:
            shared.encode_slice()  # small: at once
            return
        task = asyncio.get_running_loop().create_task(self._encode_in_slices(shared))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _encode_in_slices(self, shared: Shared) -> None:
        try:
            while not shared.done and shared.readers:
                shared.encode_slice()
                await asyncio.sleep(0)  # let the loop serve others between slices
        except Exception:
            log.error("encoding the snapshot at seq %d failed", shared.seq, exc_info=True)
            readers: list[SnapshotStream | RowsStream] = [*shared.readers]
            for reader in readers:
                self._fail(reader.connection)

    def _fail(self, connection: ServerConnection) -> None:
        task = asyncio.get_running_loop().create_task(connection.close(CloseCode.INTERNAL_ERROR, "internal error"))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _stream_closed(self, stream: SnapshotStream | RowsStream) -> None:
        if self._sending.get(stream.connection) is stream:
            del self._sending[stream.connection]
        shared: Shared
        if isinstance(stream, RowsStream):
            shared = stream.shared
            shared.readers.discard(stream)
        else:
            shared = stream.shared
            shared.readers.discard(stream)
        if not shared.readers and self._shared.get(shared.key) is shared:
            del self._shared[shared.key]  # nobody reads it: free it (its encoding task stops)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _until(self, connection: ServerConnection, ready: Callable[[], bool]) -> bool:
        """Wait until `ready()`; False if the connection closed first."""
        if ready():
            return True
        closed = asyncio.ensure_future(connection.wait_closed())
        try:
            while not ready():
                if closed.done():
                    return False
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.add(waiter)
                try:
                    await asyncio.wait((waiter, closed), return_when=asyncio.FIRST_COMPLETED)
                finally:
                    self._waiters.discard(waiter)
            return True
        finally:
            closed.cancel()
