"""Password checks on a few dedicated threads, behind a queue with a limit.

argon2 is slow and memory-hungry on purpose (about 0.1 s and 64 MiB per check with argon2-cffi's defaults), so
the number of checks running at once is what a login flood costs the server: `workers` of them run, `queue` more
may wait, and past that a login is refused at once with `rate_limited` rather than queued behind the flood.
`reserved` places beyond `queue` are kept for logins the throttle trusts (an account's usual address), so an
agent logging in from where they always do is not turned away by a flood from elsewhere.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable
from typing import TypeVar

from lesbillets_server.errors import Rejected
from protocol.messages import ErrorCode

T = TypeVar("T")

BUSY = "The server is busy checking other logins; try again in a few seconds."


class CheckPool:
    def __init__(self, *, workers: int, queue: int, reserved: int) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="login-check")
        self._workers = workers
        self._queue = queue
        self._reserved = reserved
        self._admitted = 0
        """Checks running or waiting; counted until the thread is done with them, even if nobody awaits them."""

    @property
    def admitted(self) -> int:
        return self._admitted

    def run(self, check: Callable[..., T], *args: object, trusted: bool = False) -> asyncio.Future[T]:
        """`check(*args)` on a pool thread, to await; raises `Rejected(rate_limited)` at once when the queue is full.

        Admission is decided here, synchronously, so a burst of calls in one loop iteration is counted exactly.
        """
        limit = self._workers + self._queue + (self._reserved if trusted else 0)
        if self._admitted >= limit:
            raise Rejected(ErrorCode.RATE_LIMITED, BUSY)
        loop = asyncio.get_running_loop()
        self._admitted += 1
        future = self._executor.submit(check, *args)
        # released when the thread is done (or the check is cancelled before it starts), not when the awaiting
        # request goes away: a client that hangs up must not free a place its check still occupies
        future.add_done_callback(lambda _: self._release_from_any_thread(loop))
        return asyncio.wrap_future(future, loop=loop)

    def _release_from_any_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the server has stopped, nobody counts anymore
            loop.call_soon_threadsafe(self._release)

    def _release(self) -> None:
        self._admitted -= 1

    def close(self) -> None:
        """Stop the threads; checks still waiting are dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)
