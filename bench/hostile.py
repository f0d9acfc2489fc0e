"""Scenario 7, hostile: an honest agent's latency with and without each attack of issue 7, in the same run.

For each attack: a fresh `lesbillets-server serve` process with its default limits on a seeded database
(bench/hostile_server.py), an honest agent logged in, the honest measurements (bench/honest.py) without the
attack, then the attack from its own process (bench/attack.py, raw websockets from its own loopback address),
the same measurements while it runs, and what the attack itself counted. The target is issue 7's "Done when":
the honest login and request latency under each attack within twice that without it (p95; p50 and p99 are
in the run lines). Everything is bounded: each attack stops when the honest measurement is done (or at its own
`max_s`), a slow phase stops at its budget, and the hoarders stop early if the server passes `MEMORY_CAP`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench import honest, seed
from bench.honest import Honest, HonestAgent
from bench.hostile_clients import failure
from bench.hostile_report import Outcome, rows_for
from bench.hostile_server import ServeProcess, seed_database, serve
from bench.report import Row

ATTACKS: Final = ("hoarders", "login-flood", "guessing", "connection-flood", "bad-frames", "slow-reader")
TITLES: Final = {
    "hoarders": "snapshot hoarders",
    "login-flood": "login flood",
    "guessing": "parallel guessing",
    "connection-flood": "connection flood",
    "bad-frames": "deep-nesting flood",
    "slow-reader": "slow reader",
}
SOURCES: Final = {name: f"127.0.0.{number}" for number, name in enumerate([*ATTACKS, "writers"], start=2)}
"""One loopback address per attacker; the honest agent is 127.0.0.1 and its logins come from 127.0.1.x."""
MEMORY_CAP: Final = 3 * 2**30
"""Stop an attack early past this server RSS: the machine is shared."""
KILL_CAP: Final = 5 * 2**30
"""Kill the server past this RSS (it kept growing after the attack stopped)."""
SMALL_TICKETS: Final = 1_000
READY_S: Final = 120.0
RESULT_S: Final = 60.0
ATTACK_MAX_S: Final = 180.0


@dataclass(frozen=True, slots=True)
class Cast:
    """Who is who among the seeded users (indexes into bench/seed.py)."""

    scale: float
    logins: int = 30
    get_users: int = 90
    rounds: int = 30

    def size(self, full: int, least: int = 1) -> int:
        return max(least, round(full * self.scale))

    @property
    def agent(self) -> int:
        return 0

    @property
    def login_users(self) -> range:
        return range(1, 1 + self.logins)

    @property
    def victim(self) -> int:
        return 1 + self.logins

    @property
    def hoarders(self) -> range:
        return range(self.victim + 1, self.victim + 1 + self.size(20))

    @property
    def writers(self) -> range:
        return range(self.hoarders.stop, self.hoarders.stop + 4)

    @property
    def users(self) -> int:
        return self.writers.stop + 1  # the last one is the slow reader


def _spec(name: str, cast: Cast, port: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"kind": name, "port": port, "source": SOURCES[name], "max_s": ATTACK_MAX_S}
    if name == "hoarders":
        spec |= {"users": list(cast.hoarders), "requests": 40, "rcvbuf": 4096}
    elif name == "login-flood":
        spec |= {"connections": cast.size(32), "email": seed.email(cast.victim), "rate": 90, "window": 4}
    elif name == "guessing":
        spec |= {"connections": cast.size(200, 2), "email": seed.email(cast.victim)}
    elif name == "connection-flood":
        spec |= {"connections": cast.size(5000, 10), "concurrency": 500}
    elif name == "bad-frames":
        spec |= {"connections": cast.size(8), "rate": 90, "window": 8}
    elif name == "slow-reader":
        spec |= {"user": cast.users - 1, "bytes_per_s": 200_000, "rcvbuf": 16384, "outcome_s": 20.0}
    elif name == "writers":
        writers = list(cast.writers)
        spec |= {"users": writers, "tickets": [1 + n for n in range(len(writers))], "rate": 90, "description": 4000}
    return spec


class Running:
    """An attack process: `stop()` ends it early; `result` is filled in once it has stopped."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.result: dict[str, Any] = {}
        self.stopped_early = ""

    def stop(self, why: str = "") -> None:
        self.stopped_early = self.stopped_early or why
        assert self.process.stdin is not None
        if not self.process.stdin.is_closing():
            self.process.stdin.close()


@contextlib.asynccontextmanager
async def attacking(spec: dict[str, Any]) -> AsyncIterator[Running]:
    """Run `python -m bench.attack spec` from READY until the block exits; then collect its RESULT."""
    command = [sys.executable, "-m", "bench.attack", json.dumps(spec)]
    process = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[1]
    )
    assert process.stdout is not None
    running = Running(process)
    try:
        async with asyncio.timeout(READY_S):
            line = await process.stdout.readline()
        if not line.startswith(b"READY"):
            raise RuntimeError(f"the {spec['kind']} attack did not start: {line.decode(errors='replace').strip()}")
        yield running
    finally:
        running.stop()
        try:
            async with asyncio.timeout(RESULT_S):
                while line := await process.stdout.readline():
                    if line.startswith(b"RESULT "):
                        running.result = json.loads(line[len(b"RESULT ") :])
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


class MemoryGuard:
    """Keeps the server from taking the shared machine's memory, from its start until it has stopped: past
    `MEMORY_CAP` the attack is stopped, and if the server still grows past `KILL_CAP` without it (it may hold work
    it has not noticed is abandoned), the server is killed.
    """

    def __init__(self, server: ServeProcess) -> None:
        self.server = server
        self.attack: Running | None = None
        self.peak = 0
        """The largest RSS seen (a killed process has no VmHWM to read)."""
        self.killed = ""
        self.task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            rss = self.server.rss_bytes()
            self.peak = max(self.peak, rss)
            if rss > KILL_CAP:
                self.server.kill()
                self.killed = f"server killed: RSS passed {KILL_CAP / 2**30:.0f} GiB"
                return
            if rss > MEMORY_CAP and self.attack is not None:
                self.attack.stop(f"stopped early: server RSS passed {MEMORY_CAP / 2**30:.0f} GiB")
            await asyncio.sleep(0.1)


async def _measure(server: ServeProcess, agent: HonestAgent, cast: Cast, budget_s: tuple[float, float]) -> Honest:
    get_users, rounds = await honest.requests(agent, get_users=cast.get_users, rounds=cast.rounds, budget_s=budget_s[0])
    logins = await honest.logins("127.0.0.1", server.port, cast.login_users, budget_s=budget_s[1])
    return Honest(logins=logins, get_users=get_users, rounds=rounds)


async def _victim_login(server: ServeProcess, user: int) -> str:
    """Whether the attacked user, with the right password and from an address of their own, gets in right after."""
    try:
        await honest.login_once("127.0.0.1", server.port, user, "127.0.2.1")
    except RuntimeError as exc:
        return str(exc)
    except Exception as exc:
        return failure(exc)
    return "Welcome"


async def run_attack(name: str, db: Path, log: Path, cast: Cast) -> Outcome:
    """A fresh server; the honest measurements without the attack, then with it; what the attack counted."""
    loop = asyncio.get_running_loop()
    begun = loop.time()
    async with contextlib.AsyncExitStack() as outer:
        server = await outer.enter_async_context(serve(db, log))
        guard = MemoryGuard(server)
        outer.callback(guard.task.cancel)  # the last thing to go: the server may grow while it shuts down
        async with contextlib.AsyncExitStack() as stack:
            agent = HonestAgent("127.0.0.1", server.port, cast.agent)
            stack.callback(agent.close)
            await agent.client()
            background = None
            if name == "slow-reader":  # the events the slow reader falls behind on: busy agents, not an attack
                background = await stack.enter_async_context(attacking(_spec("writers", cast, server.port)))
            # unmeasured: the first requests and logins on a fresh server are slower, which would flatter the ratios
            await honest.requests(agent, get_users=10, rounds=3, budget_s=20.0)
            await honest.logins("127.0.0.1", server.port, cast.login_users[:2], budget_s=20.0)
            mark, started = server.log_bytes(), loop.time()
            without = await _measure(server, agent, cast, (120.0, 120.0))
            quiet = (server.log_bytes() - mark) / (loop.time() - started)
            peak_before = server.peak_rss_bytes()
            budget = (max(15.0, 4 * without.get_users.seconds), max(15.0, 4 * without.logins.seconds))
            mark, started = server.log_bytes(), loop.time()
            async with attacking(_spec(name, cast, server.port)) as attack:
                guard.attack = attack
                under = await _measure(server, agent, cast, budget)
                fds = (server.open_fds(), server.fd_limit())
            written = server.log_bytes() - mark
            loud = written / (loop.time() - started)
            after = await _victim_login(server, cast.victim) if name == "guessing" else ""
            peak_after = server.peak_rss_bytes()
    if background is not None:
        attack.result["background writers"] = background.result.get("tally", {})
    return Outcome(
        name,
        without,
        under,
        attack.result,
        "; ".join(note for note in (attack.stopped_early, guard.killed) if note),
        (peak_before, max(peak_after, guard.peak)),
        (quiet, loud),
        written,
        fds,
        after,
        loop.time() - begun,
    )


async def hostile(args: argparse.Namespace, details: list[str]) -> list[Row]:
    chosen = [name.strip() for name in args.attacks.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ATTACKS))
    if unknown:
        raise ValueError(f"unknown attack(s) {', '.join(unknown)}; choose from {', '.join(ATTACKS)}")
    cast = Cast(scale=args.hostile_scale)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        small, big = Path(tmp) / "small.db", Path(tmp) / "big.db"
        await seed_database(small, users=cast.users, tickets=SMALL_TICKETS)
        if "hoarders" in chosen:
            await seed_database(big, users=cast.users, tickets=args.tickets)
        for name in ATTACKS:
            if name in chosen:
                print(f"bench: hostile {name}…", file=sys.stderr, flush=True)
                outcome = await run_attack(name, big if name == "hoarders" else small, Path(tmp) / f"{name}.log", cast)
                before = len(details)
                rows += rows_for(outcome, TITLES[name], details)
                print("\n".join(details[before:]), file=sys.stderr, flush=True)
    return rows
