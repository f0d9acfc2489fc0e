"""The table beside its scrollbar: laid out for the cells that show, so the gutter never cuts the last column."""

from __future__ import annotations

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.table_model import SortColumn
from tests.support import BOB, ServerHarness, with_tickets
from tests.tui.helpers import running_app, scripted_agent, table, terminal_output, until


def table_on_screen(app: LesBilletsApp) -> list[str]:
    """The table's lines as the terminal shows them, up to its scrollbar."""
    widget = table(app)
    region = widget.scrollable_content_region
    text, _ = terminal_output(app)
    return [line[region.x : region.right] for line in text.splitlines()[region.y : region.bottom]]


def table_as_laid_out(app: LesBilletsApp) -> list[str]:
    widget = table(app)
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def test_sorted_by_the_last_column_its_mark_shows_beside_the_scrollbar(server: ServerHarness) -> None:
    """80x24 with more tickets than a screen, sorted by Created by (the last column): "By ▲" is on the screen."""
    await with_tickets(server, 60)
    async with running_app(server, size=(80, 24)) as (app, pilot, _):
        widget = table(app)
        await pilot.press("s")
        await until(pilot, lambda: app.desk.model.sort.column is SortColumn.CREATED_BY, "sorted by created by")
        await pilot.pause()
        assert widget.show_vertical_scrollbar
        header = table_on_screen(app)[0]
        assert header.rstrip().endswith("By ▲"), header
        assert table_on_screen(app) == table_as_laid_out(app)  # nothing drawn under the scrollbar


async def test_tags_in_the_last_column_end_whole_or_with_an_ellipsis(server: ServerHarness) -> None:
    """140 columns: "vpn network" shows whole, and tags too long for the column end in "…", not cut by the gutter."""
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("Tunnel drops", tags=["vpn", "network"])
        await bob.create_ticket("Printer jams", tags=["printer", "floor-3", "duplex"])
    async with running_app(server, size=(140, 40)) as (app, pilot, _):
        await until(pilot, lambda: app.desk.model.total == 2, "both tickets")
        await pilot.pause()
        lines = table_on_screen(app)
        assert lines[0].rstrip().endswith("Tags"), lines[0]
        tunnel = next(line for line in lines if " Tunnel drops" in line)
        printer = next(line for line in lines if " Printer jams" in line)
        assert tunnel.rstrip().endswith(" vpn network"), tunnel
        assert printer.rstrip().endswith(" printer floor-3…"), printer
        assert lines == table_as_laid_out(app)
