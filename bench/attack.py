"""Run one attack on a server, in its own process: `python -m bench.attack '<json spec>'`.

Prints ``READY`` once the attack is in full swing, keeps it up until stdin closes or `max_s` passes, then prints
``RESULT <json>`` (what it counted) and exits. Every connection comes from `spec["source"]`, one loopback address
per attack, and goes to 127.0.0.1 only. The attacks, each sized by its spec (bench/hostile.py sets the sizes):

- hoarders: log in, send `requests` GetTickets each, and never read (small receive window, reading paused);
- login-flood: Login with wrong passwords, half for one existing email and half for random ones, paced at
  `rate` a second per connection (the server's per-connection limit) with `window` in flight;
- guessing: bursts of `connections` fresh connections each sending one Login for one email at the same instant,
  one of them with the right password; the first burst's replies are counted apart;
- connection-flood: `connections` idle websockets that never log in, each tried once;
- bad-frames: the deep-nesting frame, paced like the login flood, reconnecting when the server closes;
- slow-reader: one logged-in connection that reads under `bytes_per_s`, and how its connection ended;
- writers (the slow reader's background, not an attack): agents updating their tickets with large descriptions
  at `rate` a second each, so events flood every logged-in connection.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import random
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, Final

from bench.clients import resume_frame
from bench.hostile_clients import Replies, SlowReader, failure, kind_of
from bench.launch import raise_fd_limit, run_loop
from bench.seed import PASSWORD, ticket_id
from bench.wsclient import open_raw
from protocol.codec import JSON, JSON_SUBPROTOCOL
from protocol.messages import Ack, GetTickets, LockTicket, Login, UpdateTicket

Spec = dict[str, Any]
Attack = Callable[[Spec, Counter[str], asyncio.Event, asyncio.Event], Coroutine[Any, Any, dict[str, object]]]

OPEN_S: Final = 5.0
REPLY_S: Final = 30.0
FIRST_BURST_S: Final = 60.0
RETRY_S: Final = 0.1
DEEP_FRAME: Final = b'{"x":' + b"[" * 1000 + b"]" * 1000 + b',"type":"Login","rid":5}'


async def _open(spec: Spec, tally: Counter[str], factory: type[Replies] = Replies, *args: object) -> Replies:
    return await open_raw(
        factory,
        "127.0.0.1",
        spec["port"],
        JSON_SUBPROTOCOL,
        tally,
        *args,
        source=spec["source"],
        rcvbuf=spec.get("rcvbuf"),
        timeout_s=OPEN_S,
    )


async def _until(stop: asyncio.Event, *futures: asyncio.Future[Any], within_s: float | None = None) -> None:
    """Wait until `stop` is set, one of `futures` is done, or `within_s` passes."""
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([stopping, *futures], timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()


async def _log_in(spec: Spec, tally: Counter[str], user: int, *args: object, kind: type[Replies] = Replies) -> Replies:
    client = await _open(spec, tally, kind, *args)
    reply = await client.ask(resume_frame(user), REPLY_S)
    if kind_of(reply) != "Welcome":
        raise RuntimeError(f"user {user} could not resume: {kind_of(reply)}")
    return client


async def hoarders(spec: Spec, tally: Counter[str], ready: asyncio.Event, stop: asyncio.Event) -> dict[str, object]:
    clients = [await _log_in(spec, tally, user) for user in spec["users"]]  # in turn: logging in is not the attack
    for client in clients:
        assert client.transport is not None
        for rid in range(2, 2 + spec["requests"]):
            client.fire(JSON.encode(GetTickets(rid=rid)))
        client.transport.pause_reading()  # never read again: the server has to keep what it sends
    ready.set()
    await stop.wait()
    for client in clients:
        client.abort()
    return {"requests sent": len(clients) * spec["requests"]}


async def _pump(
    spec: Spec, tally: Counter[str], stop: asyncio.Event, ramp: Counter[str], frame: Callable[[], bytes]
) -> None:
    """One flooding connection slot: send `frame()` at `rate`/s with at most `window` unanswered; reopen if closed."""
    loop = asyncio.get_running_loop()
    interval = 1.0 / spec["rate"]
    first = True
    while not stop.is_set():
        try:
            client = await _open(spec, tally)
            tally["connections opened"] += 1
        except Exception as exc:
            client = None
            tally[f"handshake failed: {failure(exc)}"] += 1
        if first:
            ramp["slots"] += 1
            first = False
        if client is None:
            await _until(stop, within_s=RETRY_S)
            continue
        next_at = loop.time()
        while not stop.is_set() and not client.closed.done():
            now = loop.time()
            if now < next_at:
                await asyncio.sleep(next_at - now)
                continue
            next_at = max(next_at + interval, now - interval)
            if client.in_flight < spec["window"]:
                client.fire(frame())
                tally["frames sent"] += 1
        if client.closed.done():
            tally[f"closed by the server: {client.close_code or 'no close frame'}"] += 1
        else:
            client.abort()


async def _flood(
    spec: Spec, tally: Counter[str], ready: asyncio.Event, stop: asyncio.Event, frame: Callable[[int], bytes]
) -> None:
    ramp: Counter[str] = Counter()
    slots = [
        asyncio.create_task(_pump(spec, tally, stop, ramp, functools.partial(frame, slot)))
        for slot in range(spec["connections"])
    ]
    while ramp["slots"] < len(slots) and not stop.is_set():
        await _until(stop, within_s=RETRY_S)
    ready.set()
    await asyncio.gather(*slots)


async def login_flood(spec: Spec, tally: Counter[str], ready: asyncio.Event, stop: asyncio.Event) -> dict[str, object]:
    def frame(slot: int) -> bytes:
        address = spec["email"] if slot % 2 == 0 else f"{uuid.uuid4().hex[:12]}@flood.example"
        return JSON.encode(Login(rid=1, email=address, password=f"wrong-{uuid.uuid4().hex[:8]}"))

    await _flood(spec, tally, ready, stop, frame)
    return {}


async def bad_frames(spec: Spec, tally: Counter[str], ready: asyncio.Event, stop: asyncio.Event) -> dict[str, object]:
    await _flood(spec, tally, ready, stop, lambda slot: DEEP_FRAME)
    return {}


async def guessing(spec: Spec, tally: Counter[str], ready: asyncio.Event, stop: asyncio.Event) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    bursts = 0
    first: Counter[str] = Counter()
    while not stop.is_set():
        started = loop.time()
        opened = await asyncio.gather(*(_open(spec, tally) for _ in range(spec["connections"])), return_exceptions=True)
        clients = [client for client in opened if isinstance(client, Replies)]
        for exc in opened:
            if isinstance(exc, BaseException):
                tally[f"handshake failed: {failure(exc)}"] += 1
        right = random.randrange(len(clients)) if clients else -1
        replies = [
            client.request(
                JSON.encode(Login(rid=1, email=spec["email"], password=PASSWORD if n == right else f"guess-{n}"))
            )
            for n, client in enumerate(clients)
        ]  # all in one iteration of the loop: the same instant, as far as the server can tell
        ready.set()
        answered = asyncio.gather(
            *(asyncio.wait_for(reply, FIRST_BURST_S) for reply in replies), return_exceptions=True
        )
        if bursts == 0:  # the count of passwords checked is the point: wait for every answer (bounded)
            first.update(kind_of(got) if isinstance(got, bytes) else failure(got) for got in await answered)
        else:  # later bursts only keep the pressure on: aborting their connections ends what is left of them
            await _until(stop, answered)
        for client in clients:
            client.abort()
        bursts += 1
        await _until(stop, within_s=max(0.0, started + 1.0 - loop.time()))  # at most one burst a second
    return {"bursts": bursts, "first burst": dict(first)}


async def connection_flood(
    spec: Spec, tally: Counter[str], ready: asyncio.Event, stop: asyncio.Event
) -> dict[str, object]:
    gate = asyncio.Semaphore(spec["concurrency"])
    state = Counter[str]()

    async def slot() -> None:
        """One connection, tried once (no retries: this is a flood of idle connections, not of handshakes)."""
        async with gate:
            try:
                client = await _open(spec, tally)
            except Exception as exc:
                tally[f"handshake failed: {failure(exc)}"] += 1
                return
            finally:
                state["resolved"] += 1
        tally["handshakes accepted"] += 1
        state["open"] += 1
        state["peak open"] = max(state["peak open"], state["open"])
        await _until(stop, client.closed)
        state["open"] -= 1
        if client.closed.done():
            tally[f"closed by the server: {client.close_code or 'no close frame'}"] += 1
        else:
            client.abort()

    slots = [asyncio.create_task(slot()) for _ in range(spec["connections"])]
    while state["resolved"] < len(slots) and not stop.is_set():
        await _until(stop, within_s=RETRY_S)
    open_at_ready = state["open"]
    ready.set()
    await asyncio.gather(*slots)
    return {"open when the honest client started": open_at_ready, "peak open": state["peak open"]}


async def slow_reader(spec: Spec, tally: Counter[str], ready: asyncio.Event, stop: asyncio.Event) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    client = await _log_in(spec, tally, spec["user"], spec["bytes_per_s"], kind=SlowReader)
    assert isinstance(client, SlowReader)
    ready.set()
    await _until(stop, client.closed)
    if not client.closed.done():  # the verdict needs the end of the story: give the server a bounded while more
        await asyncio.wait([client.closed], timeout=spec["outcome_s"])
    ended = loop.time() - started
    if not client.closed.done():
        outcome = f"still open after {ended:.0f} s"
        client.abort()
    elif client.close_code is None:
        outcome = f"EOF without a close frame after {ended:.1f} s"
    else:
        outcome = f"close {client.close_code} after {ended:.1f} s"
    return {"close code": client.close_code, "outcome": outcome, "bytes read": client.read_bytes}


async def writers(spec: Spec, tally: Counter[str], ready: asyncio.Event, stop: asyncio.Event) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    texts = ["a" * spec["description"], "b" * spec["description"]]

    async def write(user: int, ticket: int) -> None:
        client = await _log_in(spec, tally, user)
        target = ticket_id(ticket)
        reply = JSON.decode_server(await client.ask(JSON.encode(LockTicket(rid=2, ticket_id=target)), REPLY_S))
        if not isinstance(reply, Ack) or reply.ticket is None:
            raise RuntimeError(f"writer could not lock its ticket: {reply!r}")
        version = reply.ticket.version
        ready.set()
        interval = 1.0 / spec["rate"]
        next_at = loop.time()
        while not stop.is_set() and not client.closed.done():
            update = UpdateTicket(rid=3, ticket_id=target, version=version, description=texts[version % 2])
            answer = await client.ask(JSON.encode(update), REPLY_S)
            version += kind_of(answer) == "Ack"
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))
        client.close()

    await asyncio.gather(*(write(user, ticket) for user, ticket in zip(spec["users"], spec["tickets"], strict=True)))
    return {}


ATTACKS: Final[dict[str, Attack]] = {
    "hoarders": hoarders,
    "login-flood": login_flood,
    "guessing": guessing,
    "connection-flood": connection_flood,
    "bad-frames": bad_frames,
    "slow-reader": slow_reader,
    "writers": writers,
}


async def _main(spec: Spec) -> None:
    loop = asyncio.get_running_loop()
    stop, ready = asyncio.Event(), asyncio.Event()
    loop.call_later(spec["max_s"], stop.set)

    def watch_stdin() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the bench closed our stdin, or died
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    tally: Counter[str] = Counter()
    task = asyncio.create_task(ATTACKS[spec["kind"]](spec, tally, ready, stop))
    await asyncio.wait([task, asyncio.ensure_future(ready.wait())], return_when=asyncio.FIRST_COMPLETED)
    if task.done() and task.exception() is not None:
        print(f"FAILED {task.exception()!r}", flush=True)
        return
    print("READY", flush=True)
    try:
        facts = await task
    except Exception as exc:  # what was counted until then still goes back, with why it ended
        facts = {"error": repr(exc)}
    print("RESULT " + json.dumps({"tally": dict(tally), **facts}), flush=True)


def main() -> None:
    raise_fd_limit()
    use_uvloop = importlib.util.find_spec("uvloop") is not None  # cheaper attackers leave the CPU to the server
    run_loop(lambda: _main(json.loads(sys.argv[1])), use_uvloop=use_uvloop)


if __name__ == "__main__":
    main()
