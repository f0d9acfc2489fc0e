"""Scenario 1, fan-out: N logged-in clients, one agent cycling lock → update → unlock on one ticket.

Two phases on the same connections. Throughput: the agent keeps up to `window` events in flight (sent but not yet
at every client), so the pipeline stays full without letting queues grow without bound; events delivered per
second = client receipts / (last receipt - first send). Latency: one event in flight at a time, which is what an
agent's edit meets on a live board; latency = when the last client read the event - when its request left.
The baseline server gets the same frames and broadcasts frames of the same sizes.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench import shapes
from bench.clients import Agent, Receiver, Tracker, close_all, login_frame, open_client, open_many
from bench.servers import ServerProcess, launch, machine_busy_seconds
from bench.stats import percentile

WARMUP_OPS: Final = 30
MAX_OPS: Final = 200_000
LATENCY_MAX_OPS: Final = 3_000


@dataclass(frozen=True, slots=True)
class FanoutResult:
    server: str
    clients: int
    events_per_s: float
    p50_ms: float
    p99_ms: float
    latency_samples: int
    loaded_p99_ms: float
    """Latency during the throughput phase (queueing included)."""
    server_cpu: float
    """Share of one core the server used during the throughput phase."""
    client_cpu: float
    """Share of one core this (client) process used during the throughput phase."""
    others_cpu: float
    """Share of one core every other process on the machine used meanwhile (interference)."""
    unexpected: int
    latencies_ms: list[float]


class Cycler:
    """The agent's lock → update → unlock loop, bounded by count, time and events in flight."""

    def __init__(self, agent: Agent, tracker: Tracker) -> None:
        self.agent = agent
        self.tracker = tracker
        self._rid = 10
        self._version = 1
        self._step = 0
        self._requests = shapes.cycle_requests(self._rid, 0, self._version)

    async def run(self, *, window: int, seconds: float, max_ops: int) -> None:
        tracker = self.tracker
        deadline = time.perf_counter() + seconds
        for _ in range(max_ops):
            if time.perf_counter() >= deadline:
                break
            index = len(tracker.sent_ns)
            if index - tracker.delivered >= window:
                await tracker.wait_delivered(index - window + 1)
            if self._step == 0:
                self._requests = shapes.cycle_requests(self._rid, 0, self._version)
                self._rid += 3
            payload = self._requests[self._step]
            tracker.expect()
            await self.agent.request(payload)
            if self._step == 1:
                self._version += 1
            self._step = (self._step + 1) % 3


async def run_fanout(
    kind: str,
    *,
    clients: int,
    seconds: float,
    latency_seconds: float,
    window: int,
    use_uvloop: bool = False,
    memory_db: bool = False,
    experiments: Sequence[str] = (),
    profile_to: Path | None = None,
) -> FanoutResult:
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        options = ["--users", str(clients + 1), "--tickets", "1"]
        if kind == "project":
            options += ["--db", ":memory:" if memory_db else str(Path(tmp) / "fanout.db")]
            options += [f"--experiment={name}" for name in experiments]
        else:
            options += shapes.baseline_options(shapes.cycle_sizes(clients + 1))
        async with launch(kind, *options, use_uvloop=use_uvloop, profile_to=profile_to) as server:
            return await _measure(kind, server, clients, seconds, latency_seconds, window)


async def _measure(
    kind: str, server: ServerProcess, clients: int, seconds: float, latency_seconds: float, window: int
) -> FanoutResult:
    host, port = "127.0.0.1", server.port
    tracker = Tracker(clients)
    receivers = await open_many(Receiver, host, port, range(1, clients + 1), tracker)
    agent = await open_client(Agent, host, port, login_frame(0))
    try:
        cycler = Cycler(agent, tracker)
        await cycler.run(window=1, seconds=10.0, max_ops=WARMUP_OPS)
        await tracker.wait_delivered(len(tracker.sent_ns))

        first = len(tracker.sent_ns)
        cpu_before, wall_before, own_before = server.cpu_seconds(), time.perf_counter(), time.process_time()
        busy_before = machine_busy_seconds()
        await cycler.run(window=window, seconds=seconds, max_ops=MAX_OPS)
        await tracker.wait_delivered(len(tracker.sent_ns))
        wall = time.perf_counter() - wall_before
        cpu = (server.cpu_seconds() - cpu_before) / wall
        own_cpu = (time.process_time() - own_before) / wall
        others = (machine_busy_seconds() - busy_before) / wall - cpu - own_cpu
        last = len(tracker.sent_ns)
        elapsed_s = (max(tracker.last_ns[first:last]) - tracker.sent_ns[first]) / 1e9
        rate = (last - first) * clients / elapsed_s
        loaded = [(tracker.last_ns[i] - tracker.sent_ns[i]) / 1e6 for i in range(first, last)]

        await cycler.run(window=1, seconds=latency_seconds, max_ops=LATENCY_MAX_OPS)
        await tracker.wait_delivered(len(tracker.sent_ns))
        latencies = [(tracker.last_ns[i] - tracker.sent_ns[i]) / 1e6 for i in range(last, len(tracker.sent_ns))]
    finally:
        close_all([*receivers, agent])
    return FanoutResult(
        server=kind,
        clients=clients,
        events_per_s=rate,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        latency_samples=len(latencies),
        loaded_p99_ms=percentile(loaded, 99),
        server_cpu=cpu,
        client_cpu=own_cpu,
        others_cpu=max(0.0, others),
        unexpected=tracker.unexpected,
        latencies_ms=latencies,
    )
