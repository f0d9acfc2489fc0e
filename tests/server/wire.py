"""A bare websocket peer for server tests: sends raw frames or typed requests, keeps events apart.

Deliberately not `protocol.client`: server tests must see exactly what crosses the wire,
including frames the typed client would never send.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect

from protocol.codec import JSON, Codec
from protocol.messages import (
    Event,
    InboxChanged,
    PresenceChanged,
    Reply,
    Request,
    ServerMessage,
    SessionEnded,
    Welcome,
)
from tests.support import Agent

TIMEOUT = 5.0
R = TypeVar("R", bound=Reply)


class Wire:
    def __init__(self, ws: ClientConnection, codec: Codec) -> None:
        self.ws = ws
        self.codec = codec
        self.events: deque[Event] = deque()
        self.notices: deque[SessionEnded] = deque()
        self.presence: deque[PresenceChanged] = deque()
        self.inbox_changes: deque[InboxChanged] = deque()
        self._rids = itertools.count(1)

    def rid(self) -> int:
        return next(self._rids)

    async def _receive(self) -> ServerMessage:
        async with asyncio.timeout(TIMEOUT):
            return self.codec.decode_server(await self.ws.recv())

    async def send_raw(self, frame: str | bytes) -> Reply:
        """Send any frame (``str`` as a text frame, ``bytes`` as binary) and return the next reply (events are kept)."""
        await self.ws.send(frame)
        return await self.next_reply()

    async def send(self, message: Request) -> None:
        """Send a request in its encoding's frame type (text for JSON), without waiting for the reply."""
        await self.ws.send(self.codec.encode(message), text=self.codec.text)

    def _keep(self, message: ServerMessage) -> bool:
        """File an event or a notice for later; False for a reply."""
        if isinstance(message, Event):
            self.events.append(message)
        elif isinstance(message, SessionEnded):
            self.notices.append(message)
        elif isinstance(message, PresenceChanged):
            self.presence.append(message)
        elif isinstance(message, InboxChanged):
            self.inbox_changes.append(message)
        else:
            return False
        return True

    async def next_reply(self) -> Reply:
        while True:
            message = await self._receive()
            if not self._keep(message):
                assert isinstance(message, Reply), f"expected a reply, got {message!r}"
                return message

    async def request(self, message: Request) -> Reply:
        await self.send(message)
        reply = await self.next_reply()
        assert reply.rid == message.rid, f"reply {reply!r} to rid {message.rid}"
        return reply

    async def expect(self, message: Request, kind: type[R]) -> R:
        reply = await self.request(message)
        assert isinstance(reply, kind), f"expected {kind.__name__}, got {reply!r}"
        return reply

    async def next_event(self) -> Event:
        """The next event; notices on the way are kept, a reply is a failure."""
        while not self.events:
            message = await self._receive()
            assert self._keep(message), f"expected an event, got {message!r}"
        return self.events.popleft()

    async def next_inbox_change(self) -> InboxChanged:
        """The next `InboxChanged`; events and other notices on the way are kept, a reply is a failure."""
        while not self.inbox_changes:
            message = await self._receive()
            assert self._keep(message), f"expected InboxChanged, got {message!r}"
        return self.inbox_changes.popleft()

    async def next_notice(self) -> SessionEnded:
        """The next `SessionEnded`; events and other notices on the way are kept, a reply is a failure."""
        while not self.notices:
            message = await self._receive()
            assert self._keep(message), f"expected a notice, got {message!r}"
        return self.notices.popleft()

    async def next_presence(self, within_s: float = TIMEOUT) -> PresenceChanged:
        """The next `PresenceChanged`; events and other notices on the way are kept, a reply is a failure."""
        async with asyncio.timeout(within_s):
            while not self.presence:
                message = self.codec.decode_server(await self.ws.recv())
                assert self._keep(message), f"expected a presence notice, got {message!r}"
        return self.presence.popleft()

    async def login(self, agent: Agent) -> Welcome:
        from protocol.messages import Login

        return await self.expect(Login(rid=self.rid(), email=agent.email, password=agent.password), Welcome)

    async def closed(self) -> tuple[int | None, str | None]:
        """Wait for the server to close the connection; its close code and reason."""
        async with asyncio.timeout(TIMEOUT):
            try:
                while True:
                    await self.ws.recv()
            except Exception:
                pass
            await self.ws.wait_closed()
        return self.ws.close_code, self.ws.close_reason


@asynccontextmanager
async def wire(url: str, *, codec: Codec = JSON, login: Agent | None = None, **kwargs: Any) -> AsyncIterator[Wire]:
    async with connect(url, subprotocols=[codec.subprotocol], compression=None, **kwargs) as ws:  # type: ignore[list-item]
        peer = Wire(ws, codec)
        if login is not None:
            await peer.login(login)
        yield peer
