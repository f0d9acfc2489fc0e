"""Raw connections for the hostile section, honest and not: they send whatever frames they are given.

Deliberately not the project's client, which would behave (wait for replies, read promptly, back off).
Replies are matched to requests by order (the server answers a connection's requests in order); events are
counted and skipped by their first bytes, as in bench/clients.py.
"""

from __future__ import annotations

import asyncio
import errno
import re
import time
from collections import Counter, deque
from typing import Final

from bench.wsclient import HandshakeFailed, RawClient

EVENT_PREFIX: Final = b'{"type":"Ticket'
_TYPE: Final = re.compile(rb'"type":"([A-Za-z]+)"')
_CODE: Final = re.compile(rb'"code":"([a-z_]+)"')


class Closed(Exception):
    """The connection ended before the reply came."""

    def __init__(self, code: int | None) -> None:
        super().__init__("closed without a close frame" if code is None else f"closed with {code}")
        self.code = code


def kind_of(reply: bytes) -> str:
    """`Welcome`, `Ack`, `Users`, … or, for an `Error`, its code (`rate_limited`, `unauthorized`, …)."""
    found = _TYPE.search(reply, 0, 40)
    kind = found.group(1).decode() if found else "unreadable"
    if kind == "Error":
        code = _CODE.search(reply)
        return code.group(1).decode() if code else "Error"
    return kind


def failure(exc: BaseException) -> str:
    """A short, countable name for why a connection or request failed."""
    if isinstance(exc, HandshakeFailed):
        status = str(exc).split()
        return f"HTTP {status[1]}" if len(status) > 1 and status[0].startswith("HTTP/") else "handshake lost"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, Closed):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    return type(exc).__name__


class Replies(RawClient):
    """Sends requests, pipelined or one at a time; counts each reply's kind into `tally` if given."""

    def __init__(self, host: str, port: int, subprotocol: str, tally: Counter[str] | None = None) -> None:
        super().__init__(host, port, subprotocol)
        self.tally = tally
        self.events = 0
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[bytes]] = deque()

    def frame(self, buffer: bytearray, start: int, end: int, now_ns: int) -> None:
        if buffer.startswith(EVENT_PREFIX, start):
            self.events += 1
            return
        reply = bytes(buffer[start:end])
        if self.tally is not None:
            self.tally[kind_of(reply)] += 1
        self.in_flight = max(0, self.in_flight - 1)
        if self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(Closed(self.close_code))

    def fire(self, payload: bytes) -> None:
        """Send without waiting for the reply (it is only counted)."""
        if self.closed.done():
            raise Closed(self.close_code)
        self.in_flight += 1
        self.send(payload)

    def request(self, payload: bytes) -> asyncio.Future[bytes]:
        """Send; the future gets the reply (requests sent with `fire` before it must have been answered)."""
        waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.fire(payload)
        self._waiters.append(waiter)
        return waiter

    async def ask(self, payload: bytes, timeout_s: float) -> bytes:
        async with asyncio.timeout(timeout_s):
            return await self.request(payload)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class SlowReader(Replies):
    """Reads at most `bytes_per_s` on average: it stops reading the socket whenever it is ahead of that pace."""

    def __init__(self, host: str, port: int, subprotocol: str, tally: Counter[str] | None, bytes_per_s: float) -> None:
        super().__init__(host, port, subprotocol, tally)
        self.bytes_per_s = bytes_per_s
        self.read_bytes = 0
        self._started = time.monotonic()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self.read_bytes += len(data)
        ahead = self.read_bytes / self.bytes_per_s - (time.monotonic() - self._started)
        transport = self.transport
        if ahead > 0 and transport is not None and not transport.is_closing():
            transport.pause_reading()
            asyncio.get_running_loop().call_later(ahead, self._resume)

    def _resume(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()
