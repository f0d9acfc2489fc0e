"""Scenario 3, snapshot: `GetTickets` on a store of `tickets` tickets, to a decoded `AllTickets` in the client.

The client is the stock `websockets` client with the project's codec (what `protocol.client` uses), once per
encoding. The baseline server sends the same `AllTickets` bytes, encoded once at start-up, so the ratio is the
cost of the server building and encoding the snapshot on each request; the decode is the same on both sides.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from bench import seed
from bench.servers import launch
from bench.stats import median
from protocol.codec import JSON, MSGPACK, Codec
from protocol.messages import AllTickets, GetTickets, Resume

OPEN_TIMEOUT_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class SnapshotResult:
    server: str
    encoding: str
    tickets: int
    bytes: int
    total_s: float
    """Median over the repeats: request sent → `AllTickets` decoded."""
    transfer_s: float
    """Median: request sent → last byte read."""
    decode_s: float


async def _fetch(url: str, codec: Codec, repeats: int) -> tuple[int, list[tuple[float, float]]]:
    async with connect(
        url,
        subprotocols=[Subprotocol(codec.subprotocol)],
        compression=None,
        max_size=None,
        open_timeout=OPEN_TIMEOUT_S,
        ping_timeout=None,
    ) as ws:
        await ws.send(codec.encode(Resume(rid=1, token=seed.token(0))), text=codec.text)
        async with asyncio.timeout(OPEN_TIMEOUT_S):
            await ws.recv(decode=False)
        size = 0
        timings = []
        for rid in range(2, 2 + repeats):
            started = time.perf_counter()
            await ws.send(codec.encode(GetTickets(rid=rid)), text=codec.text)
            async with asyncio.timeout(OPEN_TIMEOUT_S):
                frame = await ws.recv(decode=False)
            read = time.perf_counter()
            message = codec.decode_server(frame)
            decoded = time.perf_counter()
            if not isinstance(message, AllTickets):
                raise RuntimeError(f"expected AllTickets, got {type(message).__name__}")
            size = len(frame)
            timings.append((read - started, decoded - started))
            del frame, message
    return size, timings


async def run_snapshot(kind: str, *, tickets: int, repeats: int, use_uvloop: bool = False) -> list[SnapshotResult]:
    with tempfile.TemporaryDirectory(prefix="bench-snapshot-") as tmp:
        options = ["--users", "1", "--tickets", str(tickets)]
        if kind == "project":
            options += ["--db", str(Path(tmp) / "snapshot.db")]
        async with launch(kind, *options, use_uvloop=use_uvloop) as server:
            results = []
            for codec in (JSON, MSGPACK):
                size, timings = await _fetch(server.url, codec, repeats)
                results.append(
                    SnapshotResult(
                        server=kind,
                        encoding="JSON" if codec is JSON else "MessagePack",
                        tickets=tickets,
                        bytes=size,
                        total_s=median([total for _, total in timings]),
                        transfer_s=median([read for read, _ in timings]),
                        decode_s=median([total - read for read, total in timings]),
                    )
                )
    return results
