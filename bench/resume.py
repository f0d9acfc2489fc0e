"""Resume after missed changes against a full snapshot, in one run: `python -m bench.resume`.

A server (its own process, `bench.launch`, on a SQLite file) holds 100,000 seeded tickets. An agent loads the
table, disconnects; another agent makes 100 changes; the first reconnects with `Resume{last_seq, epoch}` and reads
until it has the 100 events. Reported: bytes on the wire (frame payloads received) and time from connecting to the
last event, beside a fresh `GetTickets` snapshot on a new connection in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from bench import seed
from bench.servers import launch
from protocol.codec import JSON
from protocol.messages import AllTickets, CreateTicket, Event, GetTickets, Resume, Welcome


async def _frame(ws: ClientConnection) -> tuple[object, int]:
    raw = await ws.recv()
    size = len(raw.encode() if isinstance(raw, str) else raw)
    return JSON.decode_server(raw), size


async def _open(url: str, index: int, **resume: object) -> tuple[ClientConnection, Welcome, int]:
    ws = await connect(url, subprotocols=[JSON.subprotocol], compression=None, max_size=None)  # type: ignore[list-item]
    await ws.send(JSON.encode(Resume(rid=1, token=seed.token(index), **resume)), text=True)  # type: ignore[arg-type]
    welcome, size = await _frame(ws)
    assert isinstance(welcome, Welcome), welcome
    return ws, welcome, size


async def measure(url: str, changes: int) -> dict[str, float]:
    ws, welcome, _ = await _open(url, 0)
    await ws.send(JSON.encode(GetTickets(rid=2)), text=True)
    while not isinstance((reply := await _frame(ws))[0], AllTickets):
        pass
    snapshot = reply[0]
    assert isinstance(snapshot, AllTickets)
    last_seq = snapshot.seq
    await ws.close()

    writer, _, _ = await _open(url, 1)
    for n in range(changes):
        await writer.send(JSON.encode(CreateTicket(rid=10 + n, title=f"made while away {n}")), text=True)
        while not hasattr((await _frame(writer))[0], "rid"):
            pass
    await writer.close()

    started = time.perf_counter()
    ws, welcome, received = await _open(url, 0, last_seq=last_seq, epoch=welcome.epoch)
    assert welcome.resumed, "the server did not replay"
    events = 0
    while events < changes:
        message, size = await _frame(ws)
        received += size
        events += isinstance(message, Event)
    resume_s = time.perf_counter() - started
    await ws.close()

    started = time.perf_counter()
    fresh, _, snapshot_bytes = await _open(url, 0)
    await fresh.send(JSON.encode(GetTickets(rid=2)), text=True)
    while True:
        message, size = await _frame(fresh)
        snapshot_bytes += size
        if isinstance(message, AllTickets):
            break
    snapshot_s = time.perf_counter() - started
    await fresh.close()
    return {"resume_bytes": received, "resume_s": resume_s, "snapshot_bytes": snapshot_bytes, "snapshot_s": snapshot_s}


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp:
        db = str(Path(tmp) / "resume.db")
        options = ("--users", "2", "--tickets", str(args.tickets), "--db", db)
        async with launch("project", *options) as server:
            result = await measure(server.url, args.changes)
    print(
        f"resume after {args.changes} missed changes, {args.tickets:,} tickets: "
        f"{result['resume_bytes'] / 1000:.1f} kB in {result['resume_s'] * 1000:.1f} ms; "
        f"full snapshot: {result['snapshot_bytes'] / 1e6:.1f} MB in {result['snapshot_s'] * 1000:.0f} ms "
        f"(ratio {result['resume_bytes'] / result['snapshot_bytes']:.5f}; target < 100 kB)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.resume", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    asyncio.run(main(parser.parse_args(sys.argv[1:])))
