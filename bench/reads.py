"""An honest agent beside a user looping `GetHistory` on a long ticket, with and without the read budget, in one
run: `python -m bench.reads`.

For each `--read-share` (1000 is "no budget": a user could never spend it), a demo server (its own process, SQLite)
gets one ticket with 1,000 changes of a 20,000-character description. Bob then loops `GetHistory` on it from one
connection, then from four; meanwhile Alice's `GetUsers` round trips are timed. Reported: Alice's p50 and p95 beside
her own baseline with nobody attacking, measured first on the same server, and how many of Bob's reads were served
or refused.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

from protocol.client import connect
from protocol.errors import RateLimited

ALICE = ("alice@example.com", "alice")
BOB = ("bob@example.com", "bob")


async def _seed(url: str, changes: int) -> UUID:
    async with connect(url) as client:
        await client.login(*ALICE)
        ticket = await client.create_ticket("A ticket with a long history", "x" * 20_000)
        for n in range(changes):
            ticket = await client.lock(ticket.id)
            ticket = await client.update_ticket(ticket.id, ticket.version, description="xy"[n % 2] * 20_000)
            await client.unlock(ticket.id)
        return ticket.id


async def _reader(url: str, ticket_id: UUID, stop: asyncio.Event, counts: dict[str, int]) -> None:
    async with connect(url) as client:
        await client.login(*BOB)
        while not stop.is_set():
            try:
                await client.get_history(ticket_id)
                counts["served"] += 1
            except RateLimited:
                counts["refused"] += 1


async def _honest(url: str, rounds: int) -> tuple[float, float]:
    latencies = []
    async with connect(url) as client:
        await client.login(*ALICE)
        for _ in range(rounds):
            started = time.perf_counter()
            await client.get_users()
            latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.95)]


def _serve(db: Path, share: float) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "lesbillets_server", "serve", "--demo", "--db", str(db), "--port", "0"]
    # the seeding agent is a script: no per-connection request limit in its way
    command += ["--rate-limit", "100000", "--rate-burst", "100000", "--read-share", str(share)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"ws://127\.0\.0\.1:\d+", line)
        if found and "serving" in line:
            return process, found.group(0)
    raise SystemExit(f"the server did not start: {process.wait()}")


async def run(shares: list[float], changes: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for share in shares:
            process, url = _serve(Path(folder) / f"reads-{share}.db", share)
            try:
                ticket_id = await _seed(url, changes)
                base_p50, base_p95 = await _honest(url, rounds)
                print(f"--read-share {share:g}: Alice alone p50 {base_p50:.2f} ms, p95 {base_p95:.2f} ms")
                for readers in (1, 4):
                    stop, counts = asyncio.Event(), {"served": 0, "refused": 0}
                    tasks = [asyncio.create_task(_reader(url, ticket_id, stop, counts)) for _ in range(readers)]
                    await asyncio.sleep(1)  # Bob's loop is under way (and, with a budget, his bank spent)
                    p50, p95 = await _honest(url, rounds)
                    stop.set()
                    await asyncio.gather(*tasks)
                    print(
                        f"  beside {readers} connection(s) of Bob looping GetHistory: p50 {p50:.2f} ms "
                        f"({p50 / base_p50:.1f}x), p95 {p95:.2f} ms ({p95 / base_p95:.1f}x); "
                        f"Bob's reads served {counts['served']}, refused {counts['refused']}"
                    )
            finally:
                process.terminate()
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shares", default="1000,0.25", help="read shares to compare (1000: no budget)")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run([float(s) for s in args.shares.split(",")], args.changes, args.rounds))


if __name__ == "__main__":
    main()
