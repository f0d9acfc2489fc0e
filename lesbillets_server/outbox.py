"""Write combining: every frame a connection is given in one event-loop iteration leaves in one socket write.

A change sends an event to every agent and then the reply to its author; without this each of those frames is
its own `send()` syscall, which the profile showed to be over half of the server's CPU under concurrent writes
(bench/RESULTS.md). websockets still frames every message, in order, through its sans-I/O protocol object; only
the moment bytes reach the transport moves to the end of the iteration, so order on a connection (event before
reply included) is unchanged.

The flush is also where a slow reader is noticed: a connection whose transport has paused writing and owes more
than the backlog limit is handed to `on_laggard` (the broadcaster drops it with close code 4000). Replies the
client asked for do not count against that limit — a 100,000-ticket snapshot is tens of MB on its own — only
what piles up on top of them does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection


class Outbox:
    def __init__(self, *, backlog_bytes: int, on_laggard: Callable[[ServerConnection], None]) -> None:
        self._backlog_bytes = backlog_bytes
        self._on_laggard = on_laggard
        self._pending: dict[ServerConnection, None] = {}  # an ordered set
        self._requested: dict[ServerConnection, int] = {}
        """Reply bytes a connection asked for since its transport last had room; exempt from the backlog limit."""

    def connection_class(self) -> type[ServerConnection]:
        """A `ServerConnection` whose writes go through this outbox (for `serve(create_connection=…)`)."""
        outbox = self

        class CombiningConnection(ServerConnection):
            def send_data(self) -> None:
                outbox.defer(self)

        return CombiningConnection

    def reply_queued(self, connection: ServerConnection, size: int) -> None:
        self._requested[connection] = self._requested.get(connection, 0) + size

    def defer(self, connection: ServerConnection) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending[connection] = None

    def flush(self) -> None:
        pending = list(self._pending)
        self._pending.clear()
        for connection in pending:
            _write(connection)
            if not connection.paused or connection.transport.is_closing():
                self._requested.pop(connection, None)
                continue
            owed = connection.transport.get_write_buffer_size() - self._requested.get(connection, 0)
            if owed > self._backlog_bytes:
                self._requested.pop(connection, None)
                self._on_laggard(connection)


def _write(connection: ServerConnection) -> None:
    chunks = connection.protocol.data_to_send()
    transport = connection.transport
    data = b"".join(chunks)
    if data and not transport.is_closing():
        transport.write(data)
    if chunks and not chunks[-1]:  # websockets' end-of-stream marker: half-close as its send_data would
        if transport.can_write_eof():
            # as websockets does: write_eof's failures are undocumented (uvloop raises RuntimeError)
            with contextlib.suppress(Exception):
                transport.write_eof()
        else:
            transport.close()
