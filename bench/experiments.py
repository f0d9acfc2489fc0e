"""What-if prototypes of server changes the profile suggests, patched into the bench's server process only.

Nothing here changes `lesbillets_server`; `python -m bench.launch project --experiment NAME` applies one of these
before the server starts, so a suggestion comes with a measured gain. Each is the smallest patch that shows the
effect, not the way to build it.

- ``coalesce``: write combining. Every outgoing frame (events and replies alike) still goes through the
  connection's websockets protocol in order, but the socket write is deferred to the end of the event-loop
  iteration and joined, so a connection that gets several frames in one iteration costs one ``send()`` syscall
  instead of one per frame. Order on each connection, event before reply included, is unchanged.
- ``no-laggard-scan``: `LocalBroadcaster.publish` without the per-event scan of every connection's write buffer
  (the upper bound of checking laggards from `pause_writing` or a timer instead).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from websockets.asyncio.connection import Connection, broadcast

from lesbillets_server import broadcast as server_broadcast
from protocol.messages import Event


def _coalesce() -> None:
    pending: dict[Connection, None] = {}  # insertion-ordered set

    def flush() -> None:
        connections = list(pending)
        pending.clear()
        for connection in connections:
            chunks = connection.protocol.data_to_send()
            data = b"".join(chunk for chunk in chunks if chunk)
            if data and not connection.transport.is_closing():
                connection.transport.write(data)
            if b"" in chunks:  # end of stream: let websockets half-close as it would have
                connection.protocol.writes.append(b"")
                _original_send_data(connection)

    def deferred_send_data(self: Connection) -> None:
        if not pending:
            asyncio.get_running_loop().call_soon(flush)
        pending[self] = None

    Connection.send_data = deferred_send_data  # type: ignore[method-assign]


_original_send_data: Final = Connection.send_data


def _no_laggard_scan() -> None:
    def publish(self: server_broadcast.LocalBroadcaster, event: Event) -> None:
        for codec, connections in self._by_codec.items():
            if connections:
                broadcast(connections, codec.encode(event), text=codec.text)

    server_broadcast.LocalBroadcaster.publish = publish  # type: ignore[method-assign]


EXPERIMENTS: Final[dict[str, Callable[[], None]]] = {"coalesce": _coalesce, "no-laggard-scan": _no_laggard_scan}


def apply(names: list[str]) -> None:
    for name in names:
        EXPERIMENTS[name]()
