"""The baseline server: bare `websockets` and `broadcast()` of pre-encoded bytes, nothing else.

It answers the same frames the project's server gets, with frames of the same sizes, but decodes nothing,
stores nothing and encodes nothing after start-up:

- the first frame of a connection (the project's `Resume`) gets a `Welcome`-sized reply and subscribes it;
- a `GetTickets` frame gets an `AllTickets` reply encoded once at start (same tickets, same codec);
- any other frame is a trigger: the next event-sized payload goes to every subscriber with `broadcast()`,
  then a reply-sized frame goes back, like the project's event-then-reply.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from bench import seed
from protocol.codec import CODECS, JSON, SUBPROTOCOLS, codec_for
from protocol.messages import AllTickets

_GET_TICKETS_PREFIX = b'{"type":"GetTickets"'


def filler(kind: str, size: int) -> bytes:
    """A JSON object of exactly `size` bytes that starts like the project's frame of that `kind`."""
    head = b'{"type":"' + kind.encode() + b'","pad":"'
    tail = b'"}'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


class BaselineServer:
    def __init__(
        self, *, welcome_size: int, event_sizes: Sequence[int], reply_sizes: Sequence[int], tickets: int, users: int
    ) -> None:
        self._welcome = filler("Welcome", welcome_size)
        kinds = ("TicketLocked", "TicketUpdated", "TicketUnlocked")
        self._events = [filler(kinds[i % 3], size) for i, size in enumerate(event_sizes)] or [filler("Ticket", 64)]
        self._replies = [filler("Ack", size) for size in reply_sizes] or [filler("Ack", 32)]
        self._next = itertools.count()
        self._subscribers: set[ServerConnection] = set()
        self._snapshots: dict[str, bytes] = {}
        if tickets:
            message = AllTickets(rid=1, seq=0, tickets=seed.tickets(tickets, max(users, 1)))
            self._snapshots = {name: codec.encode(message) for name, codec in CODECS.items()}

    async def handler(self, ws: ServerConnection) -> None:
        text = codec_for(ws.subprotocol).text
        try:
            await ws.recv(decode=False)
            await ws.send(self._welcome, text=True)
            self._subscribers.add(ws)
            async for frame in ws:
                data = frame if isinstance(frame, bytes) else frame.encode()
                if data.startswith(_GET_TICKETS_PREFIX) or (not text and b"GetTickets" in data[:32]):
                    await ws.send(self._snapshots[ws.subprotocol or JSON.subprotocol], text=text)
                    continue
                index = next(self._next)
                broadcast(self._subscribers, self._events[index % len(self._events)], text=True)
                await ws.send(self._replies[index % len(self._replies)], text=True)
        except ConnectionClosed:
            pass
        finally:
            self._subscribers.discard(ws)


@asynccontextmanager
async def run_baseline(server: BaselineServer, host: str = "127.0.0.1") -> AsyncIterator[Server]:
    async with serve(
        server.handler,
        host,
        0,
        subprotocols=list(SUBPROTOCOLS),  # type: ignore[arg-type]
        compression=None,
        max_size=1024 * 1024,
    ) as running:
        yield running
