"""Write combining and flow control: every connection's frames reach its socket in few writes, and only as fast
as it reads.

Write combining: a change sends an event to every agent and then the reply to its author; without combining each
of those frames is its own `send()` syscall, which the profile showed to be over half of the server's CPU under
concurrent writes (bench/RESULTS.md). websockets still frames every message, in order, through its sans-I/O
protocol object; only the moment bytes reach the transport moves to the end of the loop iteration, so order on a
connection (event before reply included) is unchanged.

Flow control: a transport is handed at most `BATCH_BYTES` past its high-water mark, and the kernel takes at most
`UNSENT_IN_KERNEL_BYTES` not yet sent (on loopback it would otherwise take ~4 MB for a client that reads nothing).
While the transport is paused, frames wait in the connection's `SendQueue` (whole frames), and a big reply waits
as a `Stream` that produces one fragment at a time when there is room, so a client that does not read pins no more
than that. A connection whose transport is paused and that owes more than the backlog limit in queued frames is a
laggard: its queued frames are dropped, so its close frame leaves next instead of behind megabytes a slow reader
would need longer than the close timeout to read, and it is handed to `on_laggard` (close code 4000). A stream
being sent does not count against the limit; what piles up behind it does.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import ClassVar

from websockets.asyncio.server import ServerConnection

from lesbillets_server.sendqueue import SendQueue, Stream

BATCH_BYTES = 64 * 1024
"""Most bytes handed to a transport at once; a transport holds at most its high-water mark plus this."""
UNSENT_IN_KERNEL_BYTES = 128 * 1024
"""Bytes a socket may hold not yet sent (TCP_NOTSENT_LOWAT, Linux and macOS); what is in flight is not limited."""
_NOTSENT_LOWAT: int | None = getattr(socket, "TCP_NOTSENT_LOWAT", None)


class OutboxConnection(ServerConnection):
    """A `ServerConnection` whose writes go through `outbox` (set on the subclass `serve` is given: see app.py)."""

    outbox: ClassVar[Outbox]
    _queue: SendQueue | None = None  # made the first time something has to wait: most connections never need one

    @property
    def queue(self) -> SendQueue:
        if self._queue is None:
            self._queue = SendQueue()
        return self._queue

    @property
    def waiting(self) -> bool:
        """Frames, a stream or the end of stream wait in the queue."""
        return self._queue is not None and bool(self._queue)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6) and _NOTSENT_LOWAT is not None:
            # the kernel would otherwise take megabytes a slow reader has not read yet, ahead of any close frame
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _NOTSENT_LOWAT, UNSENT_IN_KERNEL_BYTES)

    def send_data(self) -> None:
        self.outbox.defer(self)

    def resume_writing(self) -> None:
        super().resume_writing()
        self.outbox.defer(self)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self._queue is not None:
            self._queue.clear()


class Outbox:
    combine_writes: ClassVar[bool] = True
    """False writes every frame on its own at once (the bench's `per-frame-writes` experiment)."""

    def __init__(self, *, backlog_bytes: int, on_laggard: Callable[[ServerConnection, int], None]) -> None:
        self._backlog_bytes = backlog_bytes
        self._on_laggard = on_laggard
        self._pending: dict[OutboxConnection, None] = {}  # an ordered set

    def stream(self, connection: ServerConnection, stream: Stream) -> None:
        """Send a message produced a fragment at a time, after every frame already sent on this connection."""
        assert isinstance(connection, OutboxConnection)
        connection.queue.add(connection.protocol.data_to_send())  # what was framed before it goes first
        connection.queue.add_stream(stream)
        self.defer(connection)

    def wake(self, connection: ServerConnection) -> None:
        """A stream on this connection has more to send."""
        assert isinstance(connection, OutboxConnection)
        self.defer(connection)

    def defer(self, connection: OutboxConnection) -> None:
        if not self.combine_writes:
            self._pump(connection)
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending[connection] = None

    def flush(self) -> None:
        pending = list(self._pending)
        self._pending.clear()
        for connection in pending:
            self._pump(connection)

    def _pump(self, connection: OutboxConnection) -> None:
        chunks = connection.protocol.data_to_send()
        transport = connection.transport
        if transport.is_closing():
            return
        if not connection.waiting and not connection.paused and sum(map(len, chunks)) <= BATCH_BYTES:
            _write(transport, chunks, combine=self.combine_writes)  # the common case: nothing waits
            return
        queue = connection.queue
        queue.add(chunks)
        budget = BATCH_BYTES if self.combine_writes else 1
        while not connection.paused and (frames := queue.take(budget)):
            transport.write(b"".join(frames))
        if queue.at_eof:
            _write(transport, [b""], combine=True)
        elif connection.paused and queue.owed > self._backlog_bytes:
            owed = queue.owed
            queue.discard()
            self._on_laggard(connection, owed)


def _write(transport: asyncio.Transport, chunks: list[bytes], *, combine: bool) -> None:
    """Write frames as websockets' `send_data` would; a trailing b"" half-closes the stream."""
    end = bool(chunks) and not chunks[-1]
    frames = chunks[:-1] if end else chunks
    if combine:
        data = b"".join(frames)
        if data:
            transport.write(data)
    else:
        for frame in frames:
            transport.write(frame)
    if end:
        if transport.can_write_eof():
            # as websockets does: write_eof's failures are undocumented (uvloop raises RuntimeError)
            with contextlib.suppress(Exception):
                transport.write_eof()
        else:
            transport.close()
