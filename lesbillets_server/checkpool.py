"""Password checks on a few dedicated threads, behind a queue with a limit.

argon2 is slow and memory-hungry on purpose (about 0.1 s and 64 MiB per check with argon2-cffi's defaults), so
the number of checks running at once is what a login flood costs the server: `workers` of them run, `queue` more
may wait, and past that a login is refused at once with `rate_limited` rather than queued behind the flood.
Logins the throttle trusts (from an address that logged in to that account before) go ahead of the others and
have `reserved` more places, so an agent logging in from where they always do waits for at most the checks
already running, however many others a flood has queued.

The queue is kept here, on the event loop, rather than in the executor's own FIFO: that is what lets trusted
logins go first, and lets a login whose client hung up leave the queue without costing a check.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from lesbillets_server.errors import Rejected
from protocol.messages import ErrorCode

T = TypeVar("T")

BUSY = "The server is busy checking other logins; try again in a few seconds."


@dataclass(eq=False, slots=True)
class _Check(Generic[T]):
    function: Callable[..., T]
    args: tuple[object, ...]
    result: asyncio.Future[T]


class CheckPool:
    def __init__(self, *, workers: int, queue: int, reserved: int) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="login-check")
        self._workers = workers
        self._queue = queue
        self._reserved = reserved
        self._running = 0
        """Checks on a thread; counted until the thread is done, even if nobody awaits them any more."""
        self._trusted: deque[_Check[Any]] = deque()
        self._others: deque[_Check[Any]] = deque()

    @property
    def admitted(self) -> int:
        """Checks running or waiting."""
        self._drop_abandoned()
        return self._running + len(self._trusted) + len(self._others)

    def run(self, function: Callable[..., T], *args: object, trusted: bool = False) -> asyncio.Future[T]:
        """`function(*args)` on a pool thread, to await; raises `Rejected(rate_limited)` at once when full.

        Admission is decided here, synchronously, so a burst of calls in one loop iteration is counted exactly.
        """
        self._drop_abandoned()
        waiting = len(self._trusted) + len(self._others)
        free = self._running < self._workers and not waiting
        if not free and waiting >= self._queue + (self._reserved if trusted else 0):
            raise Rejected(ErrorCode.RATE_LIMITED, BUSY)
        check = _Check(function, args, asyncio.get_running_loop().create_future())
        if free:
            self._start(check)
        else:
            (self._trusted if trusted else self._others).append(check)
        return check.result

    def _start(self, check: _Check[Any]) -> None:
        self._running += 1
        loop = check.result.get_loop()
        done = self._executor.submit(check.function, *check.args)
        done.add_done_callback(lambda _: _call_soon_threadsafe(loop, self._finished, check, done))

    def _finished(self, check: _Check[Any], done: concurrent.futures.Future[Any]) -> None:
        self._running -= 1
        if not check.result.done():
            if done.cancelled():
                check.result.cancel()
            elif (failure := done.exception()) is not None:
                check.result.set_exception(failure)
            else:
                check.result.set_result(done.result())
        while self._running < self._workers and (self._trusted or self._others):
            following = (self._trusted or self._others).popleft()
            if not following.result.done():  # its client hung up while it waited: skip it
                self._start(following)

    def _drop_abandoned(self) -> None:
        """Forget waiting checks whose client hung up (a running one keeps its thread until done)."""
        for line in (self._trusted, self._others):
            if any(check.result.done() for check in line):
                kept = [check for check in line if not check.result.done()]
                line.clear()
                line.extend(kept)

    def close(self) -> None:
        """Stop the threads; checks still waiting are cancelled."""
        for line in (self._trusted, self._others):
            while line:
                line.popleft().result.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _call_soon_threadsafe(loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: object) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: the server has stopped, nobody counts anymore
        loop.call_soon_threadsafe(callback, *args)
