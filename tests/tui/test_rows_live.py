"""The app on rows: the first screenful from the first page, the rest merged as it comes; the preview's description
fetched in full (`GetTicket`) and kept live; a sentence when it cannot be had."""

from __future__ import annotations

import gc

from lesbillets_server.row_encoding import HEAD_ROWS, PAGE_ROWS
from lesbillets_tui.table_model import FIRST_ROWS
from lesbillets_tui.widgets.status_bar import StatusBar
from lesbillets_tui.widgets.ticket_preview import TicketPreview
from protocol.messages import Priority
from tests.support import BOB, ServerHarness, with_tickets
from tests.tui.helpers import running_app, screen_lines, scripted_agent, until
from tests.tui.test_snapshots import SIZE, offline_app, show_table

COUNT = HEAD_ROWS + PAGE_ROWS + 7


def _preview(app: object) -> str:
    return str(app.tickets_screen.query_one(TicketPreview).render())  # type: ignore[attr-defined]


async def test_first_load_shows_the_newest_page_then_merges_the_rest(server: ServerHarness) -> None:
    """The first page (the newest tickets) is a table of its own; the later pages add the rest; the cursor stays
    on the newest ticket and the bar counts every ticket."""
    tickets = await with_tickets(server, COUNT)
    newest = sorted(tickets, key=lambda ticket: ticket.updated_at, reverse=True)
    async with running_app(server) as (app, pilot, recorder):
        first, *rest = recorder.pages
        assert first.fresh and not first.complete and len(first.rows) == FIRST_ROWS
        assert [row.id for row in first.rows] == [ticket.id for ticket in newest[:FIRST_ROWS]]
        assert rest and not any(page.fresh for page in rest) and rest[-1].complete
        assert app.desk.model.total == COUNT and app.desk.model.loaded
        assert f" {newest[0].title} " in screen_lines(app)[1]
        assert app.tickets_screen is not None
        cursor = app.tickets_screen.table.cursor_ticket
        assert cursor is not None and cursor.id == newest[0].id
        status = app.screen.query_one(StatusBar)
        await until(pilot, lambda: (status.shown, status.total, status.arriving) == (COUNT, COUNT, False))
        assert gc.isenabled()  # paused during the load only


async def test_preview_fetches_the_description_and_follows_updates(server: ServerHarness) -> None:
    """The preview shows the row at once, the description once fetched in full, and an update's new text."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("VPN drops", "Since the update.\nOnly at home.", priority=Priority.HIGH)
        async with running_app(server) as (app, pilot, _):
            assert "VPN drops" in _preview(app)
            await until(pilot, lambda: "Since the update." in _preview(app), "the description, fetched in full")
            await bob.lock(ticket.id)
            await bob.update_ticket(ticket.id, ticket.version, description="Fixed by the new driver.")
            await until(pilot, lambda: "Fixed by the new driver." in _preview(app), "the update's description")
            assert "Since the update." not in _preview(app)


async def test_preview_says_why_it_has_no_description() -> None:
    """With no connection the preview shows the row and a sentence, not an endless wait."""
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await show_table(pilot)
        await until(pilot, lambda: "Not connected: the description shows once the connection is back." in _preview(app))
