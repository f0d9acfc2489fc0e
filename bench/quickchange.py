"""Quick changes: one `ChangeTickets` naming N tickets, beside the editor's way of making the same N changes
(lock → update → unlock, one ticket after another) on the same server in the same run.

    python -m bench.quickchange [--tickets 200] [--repeats 5] [--db PATH]

One agent on a real server process (SQLite file, `synchronous=normal`) seeded with the tickets; each repeat flips
every ticket's status, so every change writes. Counted: wall time per repeat and per ticket, and events written.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench import seed
from bench.servers import launch
from bench.stats import median
from protocol.client import Client, connect
from protocol.messages import Status


async def _editor_way(client: Client, numbers: list[int], status: Status) -> None:
    for number in numbers:
        ticket = await client.lock(number)
        await client.update_ticket(number, ticket.version, status=status)
        await client.unlock(number)


async def _quick_way(client: Client, numbers: list[int], status: Status) -> None:
    changed = await client.change_tickets(numbers, status=status)
    assert not changed.refused and len(changed.tickets) == len(numbers), changed.refused[:3]


async def run(tickets: int, repeats: int, db: str) -> list[str]:
    lines: list[str] = []
    async with (
        launch("project", "--db", db, "--users", "1", "--tickets", str(tickets)) as server,
        connect(server.url, reconnect=False) as client,
    ):
        await client.resume(seed.token(0))
        numbers = [seed.ticket_number(i) for i in range(tickets)]
        timings: dict[str, list[float]] = {"editor (lock, update, unlock)": [], "ChangeTickets": []}
        flip = 0
        for _ in range(repeats):
            for name, way in (("editor (lock, update, unlock)", _editor_way), ("ChangeTickets", _quick_way)):
                flip += 1
                status = Status.CLOSED if flip % 2 else Status.OPEN
                started = time.perf_counter()
                await way(client, numbers, status)
                timings[name].append(time.perf_counter() - started)
        events = {"editor (lock, update, unlock)": 3 * tickets, "ChangeTickets": tickets}
        for name, values in timings.items():
            best = median(values)
            lines.append(
                f"{name:30} {tickets} tickets: median {best * 1000:8.1f} ms ({best / tickets * 1e6:7.0f} µs a "
                f"ticket), {events[name]} events, {len(values)} repeats"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quickchange", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--db", default=None, help="SQLite file (default: a new one in a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        db = args.db or str(Path(directory) / "quickchange.db")
        for line in asyncio.run(run(args.tickets, args.repeats, db)):
            print(line)


if __name__ == "__main__":
    main()
