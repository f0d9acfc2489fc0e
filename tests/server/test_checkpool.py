"""The password-check pool: a few threads, a queue with a limit, `rate_limited` past it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from lesbillets_server.checkpool import BUSY, CheckPool
from lesbillets_server.errors import Rejected
from protocol.messages import ErrorCode

WAIT = 10.0


@pytest.mark.parametrize(
    ("workers", "queue", "reserved", "trusted", "admitted"),
    [
        (1, 0, 0, False, 1),
        (1, 4, 4, False, 5),
        (2, 2, 0, False, 4),
        (1, 4, 4, True, 9),
        (2, 0, 3, True, 5),
    ],
    ids=["one thread, no queue", "default", "two threads", "trusted use the reserve", "reserve only"],
)
async def test_queue_limit_refuses_at_once(
    workers: int, queue: int, reserved: int, trusted: bool, admitted: int
) -> None:
    """Running plus waiting checks are capped at workers + queue (+ reserved for trusted logins); then rate_limited."""
    pool = CheckPool(workers=workers, queue=queue, reserved=reserved)
    gate = threading.Event()
    try:
        running = [pool.run(gate.wait, WAIT, trusted=trusted) for _ in range(admitted)]
        with pytest.raises(Rejected) as refused:
            pool.run(gate.wait, WAIT, trusted=trusted)
        assert (refused.value.code, refused.value.message) == (ErrorCode.RATE_LIMITED, BUSY)
        gate.set()
        assert await asyncio.gather(*running) == [True] * admitted
        assert pool.admitted == 0
        assert await pool.run(gate.wait, WAIT, trusted=trusted)  # room again
    finally:
        gate.set()
        pool.close()


async def test_untrusted_logins_leave_the_reserve_free() -> None:
    """Once the ordinary queue is full, an untrusted login is refused while a trusted one still gets a place."""
    pool = CheckPool(workers=1, queue=1, reserved=1)
    gate = threading.Event()
    try:
        running = [pool.run(gate.wait, WAIT) for _ in range(2)]
        with pytest.raises(Rejected):
            pool.run(gate.wait, WAIT)
        running.append(pool.run(gate.wait, WAIT, trusted=True))
        gate.set()
        assert await asyncio.gather(*running) == [True] * 3
    finally:
        gate.set()
        pool.close()


async def test_an_abandoned_check_keeps_its_place_until_its_thread_is_done() -> None:
    """A client that hangs up mid-login does not free the place: the thread is still busy with its check."""
    pool = CheckPool(workers=1, queue=0, reserved=0)
    started, gate = threading.Event(), threading.Event()

    def check() -> bool:
        started.set()
        return gate.wait(WAIT)

    try:
        abandoned = pool.run(check)
        await asyncio.to_thread(started.wait, WAIT)
        abandoned.cancel()
        with pytest.raises(Rejected):
            pool.run(check)
        gate.set()
        async with asyncio.timeout(WAIT):
            while pool.admitted:  # noqa: ASYNC110 (freed by a callback from the pool's thread: nothing to wait on)
                await asyncio.sleep(0.01)
        assert await pool.run(check)
    finally:
        gate.set()
        pool.close()


async def test_trusted_logins_go_before_those_already_waiting() -> None:
    """A trusted login waits only for the checks running, not for the flood queued before it."""
    pool = CheckPool(workers=1, queue=3, reserved=1)
    gate = threading.Event()
    started: list[str] = []

    def check(name: str) -> str:
        started.append(name)
        gate.wait(WAIT)
        return name

    try:
        names = ["running", "flood 1", "flood 2", "flood 3", "owner"]
        checks = [pool.run(check, name, trusted=name == "owner") for name in names]
        gate.set()
        assert await asyncio.gather(*checks) == names
        assert started == ["running", "owner", "flood 1", "flood 2", "flood 3"]
    finally:
        gate.set()
        pool.close()


async def test_a_check_abandoned_while_waiting_leaves_the_line_and_never_runs() -> None:
    """A client that hangs up before its check started costs no check, and frees its place at once."""
    pool = CheckPool(workers=1, queue=1, reserved=0)
    gate = threading.Event()
    started: list[str] = []

    def check(name: str) -> str:
        started.append(name)
        gate.wait(WAIT)
        return name

    try:
        running = pool.run(check, "running")
        abandoned = pool.run(check, "abandoned")
        abandoned.cancel()
        waiting = pool.run(check, "waiting")  # the abandoned place is free again
        gate.set()
        assert await asyncio.gather(running, waiting) == ["running", "waiting"]
        assert started == ["running", "waiting"]
    finally:
        gate.set()
        pool.close()
