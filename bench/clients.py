"""The bench's client connections: logged-in receivers that count events, and agents that send requests.

Both open with one hello frame (the project's `Resume`, or `Login`) and expect a `Welcome` back; the baseline
server answers the same frames with frames of the same sizes. Frames are told apart by their first bytes
(msgspec writes the ``type`` tag first), so nothing on the hot path is decoded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Final, TypeVar

from bench import seed
from bench.wsclient import RawClient, open_raw
from protocol.codec import JSON, JSON_SUBPROTOCOL
from protocol.messages import Login, Resume

EVENT_PREFIX: Final = b'{"type":"Ticket'
ACK_PREFIX: Final = b'{"type":"Ack"'
WELCOME_PREFIX: Final = b'{"type":"Welcome"'
CONNECT_CONCURRENCY: Final = 50
WAIT_S: Final = 30.0

C = TypeVar("C", bound="BenchClient")


class ProjectRefused(Exception):
    """The server answered with something other than the expected reply (the frame is in the message)."""


class Tracker:
    """When each event reached each receiver: the k-th frame after `Welcome` is the k-th event everywhere."""

    def __init__(self, receivers: int) -> None:
        self.receivers = receivers
        self.sent_ns: list[int] = []
        self.last_ns: list[int] = []
        self.remaining: list[int] = []
        self.received = 0
        self.delivered = 0
        """Events every receiver has."""
        self.unexpected = 0
        self.changed = asyncio.Event()

    def expect(self) -> int:
        """Register the next event just before its request leaves; returns its index."""
        self.remaining.append(self.receivers)
        self.last_ns.append(0)
        self.sent_ns.append(time.perf_counter_ns())
        return len(self.sent_ns) - 1

    def record(self, index: int, now_ns: int) -> None:
        if index >= len(self.remaining):
            self.unexpected += 1
            return
        self.received += 1
        # one thread reads every socket in turn, so the latest reader of an event is its last receiver
        self.last_ns[index] = now_ns
        left = self.remaining[index] - 1
        self.remaining[index] = left
        if left == 0:
            self.delivered += 1
            self.changed.set()

    async def wait_delivered(self, count: int) -> None:
        """Until at least `count` events have reached every receiver."""
        async with asyncio.timeout(WAIT_S):
            while self.delivered < count:
                self.changed.clear()
                await self.changed.wait()


class BenchClient(RawClient):
    def __init__(self, host: str, port: int, subprotocol: str) -> None:
        super().__init__(host, port, subprotocol)
        self.welcomed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def frame(self, buffer: bytearray, start: int, end: int, now_ns: int) -> None:
        if self.welcomed.done():
            self.after_welcome(buffer, start, end, now_ns)
        elif buffer.startswith(WELCOME_PREFIX, start):
            self.welcomed.set_result(None)
        else:
            self.welcomed.set_exception(ProjectRefused(bytes(buffer[start:end]).decode(errors="replace")))

    def after_welcome(self, buffer: bytearray, start: int, end: int, now_ns: int) -> None:
        pass


class Receiver(BenchClient):
    """An idle logged-in client: it only counts (and, with a tracker, times) the events it gets."""

    def __init__(self, host: str, port: int, subprotocol: str, tracker: Tracker | None) -> None:
        super().__init__(host, port, subprotocol)
        self.tracker = tracker
        self.count = 0

    def after_welcome(self, buffer: bytearray, start: int, end: int, now_ns: int) -> None:
        if self.tracker is not None:
            self.tracker.record(self.count, now_ns)
        self.count += 1


class Agent(BenchClient):
    """One request at a time; events in between are counted and skipped."""

    def __init__(self, host: str, port: int, subprotocol: str) -> None:
        super().__init__(host, port, subprotocol)
        self.events = 0
        self._reply: asyncio.Future[int] | None = None

    def after_welcome(self, buffer: bytearray, start: int, end: int, now_ns: int) -> None:
        if buffer.startswith(EVENT_PREFIX, start):
            self.events += 1
            return
        waiter, self._reply = self._reply, None
        if waiter is None or waiter.done():
            return
        if buffer.startswith(ACK_PREFIX, start):
            waiter.set_result(now_ns)
        else:
            waiter.set_exception(ProjectRefused(bytes(buffer[start:end]).decode(errors="replace")[:500]))

    async def request(self, payload: bytes) -> tuple[int, int]:
        """Send one request; the perf_counter_ns when it left and when its `Ack` was read."""
        self._reply = asyncio.get_running_loop().create_future()
        sent = time.perf_counter_ns()
        self.send(payload)
        async with asyncio.timeout(WAIT_S):
            received = await self._reply
        return sent, received


def resume_frame(index: int) -> bytes:
    return JSON.encode(Resume(rid=1, token=seed.token(index)))


def login_frame(index: int) -> bytes:
    return JSON.encode(Login(rid=1, email=seed.email(index), password=seed.PASSWORD))


async def open_client(factory: type[C], host: str, port: int, hello: bytes, *args: object) -> C:
    """Connect, send `hello` (a `Resume` or `Login` frame) and wait for the `Welcome`."""
    client = await open_raw(factory, host, port, JSON_SUBPROTOCOL, *args)
    client.send(hello)
    async with asyncio.timeout(WAIT_S):
        await client.welcomed
    return client


async def open_many(factory: type[C], host: str, port: int, indexes: Sequence[int], *args: object) -> list[C]:
    """Open and log in one client per user index, a bounded number at a time."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(index: int) -> C:
        async with gate:
            return await open_client(factory, host, port, resume_frame(index), *args)

    return list(await asyncio.gather(*(one(index) for index in indexes)))


def close_all(clients: Sequence[RawClient]) -> None:
    for client in clients:
        client.close()
