"""Scenario 4, memory: server RSS growth per idle, logged-in connection.

The server's RSS is read from /proc after a few warm-up connections (so one-time allocations are not charged to
connections), then after `connections` more, each logged in (`Resume`) and idle. The baseline is the bare
websockets server holding the same number of subscribed connections.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.clients import Receiver, close_all, open_many
from bench.servers import launch

WARMUP_CONNECTIONS: Final = 20
SETTLE_S: Final = 1.0


@dataclass(frozen=True, slots=True)
class MemoryResult:
    server: str
    connections: int
    rss_before: int
    rss_after: int

    @property
    def per_connection(self) -> float:
        return (self.rss_after - self.rss_before) / self.connections


async def run_memory(kind: str, *, connections: int, use_uvloop: bool = False) -> MemoryResult:
    users = WARMUP_CONNECTIONS + connections
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        options = ["--users", str(users), "--tickets", "1"]
        if kind == "project":
            options += ["--db", str(Path(tmp) / "memory.db")]
        async with launch(kind, *options, use_uvloop=use_uvloop) as server:
            host, port = "127.0.0.1", server.port
            warm = await open_many(Receiver, host, port, range(WARMUP_CONNECTIONS), None)
            await asyncio.sleep(SETTLE_S)
            before = server.rss_bytes()
            idle = await open_many(Receiver, host, port, range(WARMUP_CONNECTIONS, users), None)
            await asyncio.sleep(SETTLE_S)
            after = server.rss_bytes()
            close_all([*warm, *idle])
    return MemoryResult(server=kind, connections=connections, rss_before=before, rss_after=after)
