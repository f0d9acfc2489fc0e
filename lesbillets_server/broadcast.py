"""Fan-out of events to every logged-in connection, each event encoded once.

`Broadcaster` is the seam for several servers: a pub/sub implementation will
publish to the bus and fan out what it receives. `LocalBroadcaster` fans out in
this process. It frames the event into each connection's outgoing buffer without
waiting (the `Outbox` writes them at the end of the loop iteration), so one event
costs one encode per wire encoding plus one frame per connection, and a slow
reader never makes others wait. A connection that owes more than the backlog
limit is dropped with close code 4000 (see `Outbox`): it must reconnect and resync.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Protocol

from websockets.asyncio.server import ServerConnection, broadcast

from protocol.codec import Codec
from protocol.messages import CloseCode, Event, Message, Notice

log = logging.getLogger(__name__)


class Broadcaster(Protocol):
    def subscribe(self, connection: ServerConnection, codec: Codec) -> None: ...
    def unsubscribe(self, connection: ServerConnection) -> None: ...
    def publish(self, event: Event) -> None: ...
    def notify_all(self, notice: Message) -> None:
        """Send a notice (not in the log) to every logged-in connection, encoded once per encoding."""
        ...

    def notify(self, connections: Iterable[ServerConnection], notice: Notice) -> None:
        """Send a notice to some of the logged-in connections (one user's)."""
        ...

    def __len__(self) -> int: ...


class LocalBroadcaster:
    def __init__(self) -> None:
        self._by_codec: dict[Codec, set[ServerConnection]] = {}
        self._codec_of: dict[ServerConnection, Codec] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._codec_of)

    def subscribe(self, connection: ServerConnection, codec: Codec) -> None:
        self._by_codec.setdefault(codec, set()).add(connection)
        self._codec_of[connection] = codec

    def unsubscribe(self, connection: ServerConnection) -> None:
        codec = self._codec_of.pop(connection, None)
        if codec is not None:
            self._by_codec[codec].discard(connection)

    def publish(self, event: Event) -> None:
        self.notify_all(event)

    def notify_all(self, notice: Message) -> None:
        for codec, connections in self._by_codec.items():
            if connections:
                broadcast(connections, codec.encode(notice), text=codec.text)

    def notify(self, connections: Iterable[ServerConnection], notice: Notice) -> None:
        """Send a notice to some connections (one user's), those of them that get events: after their `Welcome`
        and its replay, never before. Encoded once per encoding, like an event."""
        by_codec: dict[Codec, list[ServerConnection]] = {}
        for connection in connections:
            codec = self._codec_of.get(connection)
            if codec is not None:
                by_codec.setdefault(codec, []).append(connection)
        for codec, group in by_codec.items():
            broadcast(group, codec.encode(notice), text=codec.text)

    def drop(self, connection: ServerConnection, unsent: int) -> None:
        """Stop sending to a connection that fell too far behind and close it with 4000 (resync).

        The `Outbox` has already dropped what it owed, so the close frame leaves next.
        """
        self.unsubscribe(connection)
        log.warning("dropping %s: %d bytes unsent, past the backlog limit", connection.id, unsent)
        task = asyncio.get_running_loop().create_task(
            connection.close(CloseCode.RESYNC, "too far behind; reconnect and resync")
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
