"""Headless timing of the ticket table, for the benchmark suite and for a quick look by hand.

    python -m lesbillets_tui.perf 100000

runs the real app (no server: the link worker's messages are posted by hand, exactly as the worker posts
them) at 120x36 and reports

- ``first_paint_s``: from the snapshot message to the first table line painted with its tickets, and
- ``event_ms``: for single-ticket updates (a status change of a row in view), from the event message to
  the changed row painted (p50, p95, max).

"Painted" means Textual's compositor asked the table for that line (`render_line`), which is the last step
before the terminal write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import msgspec

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import ServerEventReceived, SessionOpened, SnapshotReceived
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.table_model import Sort, SortColumn
from lesbillets_tui.widgets.ticket_table import TicketTable
from protocol.messages import AllTickets, Priority, Role, Status, Ticket, TicketUpdated, User, Welcome

_T0 = datetime(2025, 1, 1, tzinfo=UTC)
_ME = User(id=uuid.UUID(int=1), email="bench@example.com", name="Bench Agent", role=Role.AGENT)


@dataclass(frozen=True)
class TableTimings:
    tickets: int
    first_paint_s: float
    event_p50_ms: float
    event_p95_ms: float
    event_max_ms: float


def generated_tickets(count: int) -> list[Ticket]:
    """``count`` plain tickets, the newest last."""
    statuses, priorities = list(Status), list(Priority)
    return [
        Ticket(
            id=uuid.UUID(int=10_000 + n),
            number=n + 1,
            title=f"Generated ticket number {n}",
            description="Printer jams on duplex jobs, floor 3.",
            status=statuses[n % 3],
            priority=priorities[n % 4],
            assignee=None,
            created_at=_T0 + timedelta(seconds=n),
            created_by=_ME.id,
            updated_at=_T0 + timedelta(seconds=n),
            updated_by=_ME.id,
            version=1,
        )
        for n in range(count)
    ]


async def measure_table(count: int, *, events: int = 50, size: tuple[int, int] = (120, 36)) -> TableTimings:
    """Time the first paint of ``count`` tickets and the paint of ``events`` single-ticket updates."""
    tickets = generated_tickets(count)
    app = LesBilletsApp("ws://bench.invalid", autoconnect=False, now=lambda: _T0 + timedelta(days=1))
    painted: dict[uuid.UUID, float] = {}
    async with app.run_test(size=size) as pilot:
        welcome = Welcome(rid=0, user=_ME, token="bench", lock_ttl_s=180.0, server_version="bench")
        app.post_message(SessionOpened(app.url, welcome, _ME.email))
        while not isinstance(app.screen, TicketsScreen):
            await pilot.pause()
        table = app.screen.query_one(TicketTable)
        original = table.render_line

        def render_line(y: int) -> object:
            strip = original(y)
            row = round(table.scroll_y) + y - 1
            if y > 0 and row < len(table.model):
                painted.setdefault(table.model.row(row).id, time.perf_counter())
            return strip

        table.render_line = render_line  # type: ignore[method-assign,assignment]

        started = time.perf_counter()
        app.post_message(SnapshotReceived(AllTickets(rid=0, seq=0, tickets=tickets)))
        async with asyncio.timeout(60):
            while not painted:
                await pilot.pause()
        first_paint = min(painted.values()) - started

        # Sorted by title, an update moves no row, so the changed row is one in view: the agent's case of
        # watching a status change (a row moving under a scrolled view is not repainted, rightly).
        app.desk.model.set_sort(Sort(SortColumn.TITLE, descending=False))
        table.model_changed()
        table.action_first()  # the cursor followed its ticket into the middle of the new order
        await pilot.pause()
        latencies = []
        by_id = {ticket.id: ticket for ticket in tickets}
        for n in range(events):
            current = app.desk.model.row(n % 20)
            changed = msgspec.structs.replace(
                by_id[current.id],  # events carry the ticket in full; the table holds its row
                version=current.version + 1,
                updated_at=_T0 + timedelta(days=1, seconds=n),
                status=Status.BLOCKED if current.status is not Status.BLOCKED else Status.OPEN,
            )
            painted.clear()
            sent = time.perf_counter()
            app.post_message(ServerEventReceived(TicketUpdated(seq=n + 1, ticket=changed)))
            async with asyncio.timeout(10):
                while changed.id not in painted:
                    await pilot.pause()
            latencies.append((painted[changed.id] - sent) * 1000)
    latencies.sort()
    return TableTimings(
        tickets=count,
        first_paint_s=first_paint,
        event_p50_ms=statistics.median(latencies),
        event_p95_ms=latencies[int(len(latencies) * 0.95) - 1],
        event_max_ms=latencies[-1],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Time the ticket table headless.")
    parser.add_argument("counts", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args()
    for count in args.counts:
        print(json.dumps(asdict(asyncio.run(measure_table(count, events=args.events)))))


if __name__ == "__main__":
    main()
