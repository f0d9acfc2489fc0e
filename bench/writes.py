"""Scenario 2, durable writes: `agents` agents, each cycling lock → update → unlock on its own ticket.

Every agent is its own user and session on its own connection, one request at a time, all at once. Every change
is committed to SQLite before its event and reply leave, and every agent receives every event (as agents on a
live board do). Counted: operations acknowledged inside the measuring window, and each one's reply latency.
The same run against ``--db :memory:`` is the upper bound: all of the server's work but the disk.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench import shapes
from bench.clients import Agent, close_all, open_many
from bench.servers import launch, machine_busy_seconds
from bench.stats import percentile

WARMUP_S: Final = 0.5
MAX_OPS_PER_AGENT: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class WritesResult:
    db: str
    agents: int
    ops_per_s: float
    p50_ms: float
    p99_ms: float
    ops: int
    server_cpu: float
    client_cpu: float
    others_cpu: float
    """Share of one core every other process on the machine used meanwhile (interference)."""
    latencies_ms: list[float]


async def _agent_loop(agent: Agent, ticket_index: int, start: float, stop: float, latencies: list[float]) -> int:
    """Cycle until `stop`; record the reply latency of every op acknowledged in [start, stop)."""
    version = 1
    rid = 10
    done = 0
    for _ in range(MAX_OPS_PER_AGENT):
        if time.perf_counter() >= stop:
            break
        requests = shapes.cycle_requests(rid, ticket_index, version)
        rid += 3
        for step, payload in enumerate(requests):
            sent_ns, received_ns = await agent.request(payload)
            if step == 1:
                version += 1
            if start <= received_ns / 1e9 < stop:
                latencies.append((received_ns - sent_ns) / 1e6)
                done += 1
    return done


async def run_writes(
    *,
    agents: int,
    seconds: float,
    db: str = "file",
    synchronous: str = "normal",
    use_uvloop: bool = False,
    experiments: Sequence[str] = (),
    profile_to: Path | None = None,
) -> WritesResult:
    """`db` is "file" (a fresh SQLite file), ":memory:", a postgresql:// URL (of an empty schema), or "echo": the
    bare websockets request/reply server (bench/baseline.py), which answers each request with a reply and
    broadcasts an event of the project's sizes and does nothing else — the stack's limit for this traffic."""
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp:
        kind = "baseline" if db == "echo" else "project"
        path = db if db == ":memory:" or db.startswith("postgresql") else str(Path(tmp) / "writes.db")
        options = ["--users", str(agents), "--tickets", str(agents), "--db", path, "--synchronous", synchronous]
        options += [f"--experiment={name}" for name in experiments]
        if db == "echo":
            options = ["--users", str(agents), *shapes.baseline_options(shapes.cycle_sizes(agents))]
        async with launch(kind, *options, use_uvloop=use_uvloop, profile_to=profile_to) as server:
            clients = await open_many(Agent, "127.0.0.1", server.port, range(agents))
            try:
                latencies: list[float] = []
                start = time.perf_counter() + WARMUP_S
                stop = start + seconds
                loops = [_agent_loop(agent, i, start, stop, latencies) for i, agent in enumerate(clients)]
                cpu_task = asyncio.create_task(_cpu_share(server.cpu_seconds, start, stop))
                counts = await asyncio.gather(*loops)
                server_cpu, client_cpu, others_cpu = await cpu_task
            finally:
                close_all(clients)
    ops = sum(counts)
    return WritesResult(
        db=(
            "memory"
            if db == ":memory:"
            else "echo"
            if db == "echo"
            else "postgresql"
            if db.startswith("postgresql")
            else f"file ({synchronous})"
        ),
        agents=agents,
        ops_per_s=ops / seconds,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        ops=ops,
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        others_cpu=others_cpu,
        latencies_ms=latencies,
    )


async def _cpu_share(server_cpu: Callable[[], float], start: float, stop: float) -> tuple[float, float, float]:
    """Shares of one core used by the server, this process and everything else between `start` and `stop`."""
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    server_before, own_before, wall_before = server_cpu(), time.process_time(), time.perf_counter()
    busy_before = machine_busy_seconds()
    await asyncio.sleep(max(0.0, stop - time.perf_counter()))
    wall = time.perf_counter() - wall_before
    server = (server_cpu() - server_before) / wall
    own = (time.process_time() - own_before) / wall
    return server, own, max(0.0, (machine_busy_seconds() - busy_before) / wall - server - own)
