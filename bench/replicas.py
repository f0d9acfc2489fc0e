"""Fan-out across replicas on PostgreSQL, against one replica, in one run: `python -m bench.replicas`.

Three server processes (`bench.launch`) share one PostgreSQL schema. A writer on replica A creates tickets one at a
time; 1,000 clients (raw frames, `bench/wsclient.py`) listen on replicas B and C. For each event: the time from the
writer sending the request to the last client receiving the event (so the commit, the NOTIFY, the other replica's
tail of the log and its fan-out are all inside it), p50 and p99. Baseline in the same run: the same writer and
clients all on replica A (no hop between replicas).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import psycopg
from websockets.asyncio.client import connect

from bench import seed
from bench.servers import ServerProcess, launch
from bench.wsclient import RawClient, open_raw
from protocol.codec import JSON
from protocol.messages import CreateTicket, Resume, TicketCreated, Welcome

_SEQ = b'"seq":'


class Listener(RawClient):
    """Records when each event's seq arrived, keeping the latest arrival over every listener."""

    arrivals: dict[int, int] = {}

    def frame(self, buffer: bytearray, start: int, end: int, now_ns: int) -> None:
        at = buffer.find(_SEQ, start, end)
        if at < 0:
            return
        digits = at + len(_SEQ)
        stop = digits
        while stop < end and 48 <= buffer[stop] <= 57:
            stop += 1
        seq = int(buffer[digits:stop])
        if now_ns > Listener.arrivals.get(seq, 0):
            Listener.arrivals[seq] = now_ns


@contextlib.asynccontextmanager
async def schema(url: str, name: str) -> AsyncIterator[str]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')  # type: ignore[arg-type]
        await conn.execute(f'CREATE SCHEMA "{name}"')  # type: ignore[arg-type]
    separator = "&" if urlsplit(url).query else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{name}"
    finally:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(f'DROP SCHEMA "{name}" CASCADE')  # type: ignore[arg-type]


async def listeners(servers: list[ServerProcess], count: int) -> list[Listener]:
    opened: list[Listener] = []
    for index in range(1, count + 1):
        server = servers[index % len(servers)]
        client = await open_raw(Listener, "127.0.0.1", server.port, JSON.subprotocol)
        client.send(JSON.encode(Resume(rid=1, token=seed.token(index))))
        opened.append(client)
    return opened


async def write(url: str, events: int, rate_per_s: float) -> dict[int, int]:
    """Create `events` tickets one at a time at `rate_per_s`; the send time of each event's seq."""
    sent: dict[int, int] = {}
    async with connect(url, subprotocols=[JSON.subprotocol], compression=None) as ws:  # type: ignore[list-item]
        await ws.send(JSON.encode(Resume(rid=1, token=seed.token(0))), text=True)
        assert isinstance(JSON.decode_server(await ws.recv()), Welcome)
        for n in range(events):
            start = time.perf_counter_ns()
            await ws.send(JSON.encode(CreateTicket(rid=10 + n, title=f"event {n}")), text=True)
            while True:
                message = JSON.decode_server(await ws.recv())
                if isinstance(message, TicketCreated) and message.ticket.title == f"event {n}":
                    sent[message.seq] = start
                if getattr(message, "rid", None) == 10 + n:
                    break
            await asyncio.sleep(max(0.0, 1 / rate_per_s - (time.perf_counter_ns() - start) / 1e9))
    return sent


async def phase(writer: ServerProcess, audience: list[ServerProcess], args: argparse.Namespace) -> list[float]:
    Listener.arrivals = {}
    clients = await listeners(audience, args.clients)
    await asyncio.sleep(1.0)  # let every Resume be answered before the measured events (a bench pacing, not a sync)
    sent = await write(writer.url, args.events, args.rate)
    deadline = time.monotonic() + 10
    # a bounded wait for stragglers (their arrivals are already timed)
    while time.monotonic() < deadline and any(Listener.arrivals.get(seq, 0) == 0 for seq in sent):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    for client in clients:
        client.close()
    return [(Listener.arrivals.get(seq, 0) - at) / 1e6 for seq, at in sent.items() if seq in Listener.arrivals]


def _summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms (n={len(ordered)})"


async def main(args: argparse.Namespace) -> None:
    async with schema(args.pg, "lesbillets_bench_replicas") as db:
        users = ("--users", str(args.clients + 1))
        async with (
            launch("project", "--db", db, *users) as a,
            launch("project", "--db", db) as b,
            launch("project", "--db", db) as c,
        ):
            single = await phase(a, [a], args)
            across = await phase(a, [b, c], args)
    print(f"fan-out, {args.clients:,} clients, {args.events} events at {args.rate:g}/s, writer on replica A:")
    print(f"  clients on A (one replica):        send → last client {_summary(single)}")
    print(f"  clients on B and C (across):       send → last client {_summary(across)}  (target p99 < 100 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="events a second from the writer")
    asyncio.run(main(parser.parse_args(sys.argv[1:])))
