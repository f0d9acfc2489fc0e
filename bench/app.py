"""Scenario 5, the app: first paint of the ticket table and event → repaint, headless (`App.run_test`).

Both widgets sit alone in a minimal app of 120 by 40 cells. First paint: from building the widget with its rows (the
model's `load` for the virtual `TicketTable`; the same seven columns as text for Textual's stock `DataTable`)
to the end of the first screen refresh that drew the widget's lines. Event → repaint: from applying a
`TicketUpdated` to the visible top row (`TableModel.apply` + `model_changed`, as the tickets screen does; or
`DataTable.update_cell`) to the end of the first screen refresh that drew the new title. No `pilot.pause()` in
the timed parts: the screen refreshes on its own update timer, as in the real app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from msgspec import structs
from rich.console import RenderableType
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import DataTable

from bench import seed
from protocol.messages import Ticket, TicketUpdated

if TYPE_CHECKING:
    from lesbillets_tui.widgets.ticket_table import TicketTable

SIZE: Final = (120, 40)
USERS: Final = 20
WAIT_S: Final = 180.0
DATATABLE_BUDGET_S: Final = 60.0
"""Measure the stock DataTable at a size only when its 10k time, scaled linearly, predicts no more than this."""


@dataclass
class Probe:
    """What the instrumented widget drew, and when the screen showed it."""

    painted: bool = False
    marker: str | None = None
    marker_painted: bool = False
    first_display: float | None = None
    marker_display: float | None = None
    shown: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the screen showed the first paint, or the marker."""

    def line(self, strip: Strip) -> None:
        self.painted = True
        if self.marker is not None and not self.marker_painted and self.marker in strip.text:
            self.marker_painted = True

    def expect(self, marker: str) -> None:
        self.marker, self.marker_painted, self.marker_display = marker, False, None
        self.shown.clear()

    async def first_paint(self) -> float:
        async with asyncio.timeout(WAIT_S):
            await self.shown.wait()
        assert self.first_display is not None
        return self.first_display

    async def marker_shown(self) -> float:
        async with asyncio.timeout(WAIT_S):
            await self.shown.wait()
        assert self.marker_display is not None
        return self.marker_display


class BenchApp(App[None]):
    """An empty app whose every screen refresh is timed (the widget under test is mounted into it)."""

    def __init__(self, probe: Probe) -> None:
        super().__init__()
        self.probe = probe

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        # Headless, this is where a finished compositor frame would be written to the terminal.
        super()._display(screen, renderable)
        now = time.perf_counter()
        probe = self.probe
        if probe.painted and probe.first_display is None:
            probe.first_display = now
            probe.shown.set()
        if probe.marker_painted and probe.marker_display is None:
            probe.marker_display = now
            probe.shown.set()


def _make_ticket_table(probe: Probe) -> type[TicketTable]:
    from lesbillets_tui.widgets.ticket_table import TicketTable

    class ProbedTicketTable(TicketTable):
        def render_line(self, y: int) -> Strip:
            strip = super().render_line(y)
            probe.line(strip)
            return strip

    return ProbedTicketTable


def _make_data_table(probe: Probe) -> type[DataTable[str]]:
    class ProbedDataTable(DataTable[str]):
        def render_line(self, y: int) -> Strip:
            strip = super().render_line(y)
            probe.line(strip)
            return strip

    return ProbedDataTable


@dataclass(frozen=True, slots=True)
class AppResult:
    widget: str
    tickets: int
    first_paint_s: float
    repaint_ms: list[float]


def _updated(ticket: Ticket, marker: str, moment: datetime) -> TicketUpdated:
    new = structs.replace(ticket, title=marker, version=ticket.version + 1, updated_at=moment)
    return TicketUpdated(seq=1, ticket=new)


async def measure_ticket_table(tickets: list[Ticket], repaints: int) -> AppResult:
    from lesbillets_tui.table_model import TableModel

    probe = Probe()
    app = BenchApp(probe)
    table_class = _make_ticket_table(probe)
    now = datetime.now(UTC)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        model = TableModel(me=seed.user_id(0), users=[seed.user(i) for i in range(USERS)])
        model.load(tickets)
        table = table_class(model)
        await app.mount(table)
        table.model_changed()
        first_paint = await probe.first_paint() - started
        await pilot.pause()

        def show(marker: str, index: int) -> Callable[[], None]:
            event = _updated(model.row(0), marker, now + timedelta(seconds=index + 1))

            def apply() -> None:
                model.apply(event)
                table.model_changed()

            return apply

        repaints_ms = await _time_repaints(probe, pilot, repaints, show)
    return AppResult("TicketTable", len(tickets), first_paint, repaints_ms)


def _datatable_rows(tickets: list[Ticket], now: datetime) -> list[tuple[str, ...]]:
    from lesbillets_tui.timefmt import ago

    names = {seed.user_id(i): seed.user(i).name for i in range(USERS)}
    return [
        (
            "",
            t.title,
            t.status.value,
            t.priority.value,
            names.get(t.assignee, "") if t.assignee else "",
            ago(t.updated_at, now),
            names.get(t.created_by, ""),
        )
        for t in tickets
    ]


async def measure_data_table(tickets: list[Ticket], repaints: int) -> AppResult:
    probe = Probe()
    app = BenchApp(probe)
    table_class = _make_data_table(probe)
    now = datetime.now(UTC)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        table = table_class()
        columns = table.add_columns("Lock", "Title", "Status", "Priority", "Assignee", "Updated", "Created by")
        row_keys = table.add_rows(_datatable_rows(tickets, now))
        await app.mount(table)
        first_paint = await probe.first_paint() - started
        await pilot.pause()

        def show(marker: str, index: int) -> Callable[[], None]:
            return lambda: table.update_cell(row_keys[0], columns[1], marker)

        repaints_ms = await _time_repaints(probe, pilot, repaints, show)
    return AppResult("DataTable", len(tickets), first_paint, repaints_ms)


async def _time_repaints(
    probe: Probe, pilot: Pilot[None], repaints: int, show: Callable[[str, int], Callable[[], None]]
) -> list[float]:
    """Time from applying each change (prepared outside the timed section) to the screen showing its marker."""
    repaints_ms = []
    for index in range(repaints):
        marker = f"repaint marker {index:04d}"
        probe.expect(marker)
        apply = show(marker, index)
        started = time.perf_counter()
        apply()
        repaints_ms.append((await probe.marker_shown() - started) * 1000)
        await pilot.pause()
    return repaints_ms


def ticket_table_available() -> str | None:
    """None when the virtual table can be imported; else why not."""
    try:
        from lesbillets_tui.table_model import TableModel  # noqa: F401
        from lesbillets_tui.widgets.ticket_table import TicketTable  # noqa: F401
    except Exception as exc:  # any import failure means the widget is not there (yet)
        return f"{type(exc).__name__}: {exc}"
    return None


def make_tickets(count: int) -> list[Ticket]:
    return seed.tickets(count, USERS)
