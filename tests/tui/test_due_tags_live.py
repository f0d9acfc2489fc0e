"""Due times and tags in the app against a real server: set in the form, shown live in the table, hideable."""

from __future__ import annotations

from datetime import timedelta

import msgspec
from textual.widgets import Input

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import SnapshotReceived
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.widgets.ticket_table import TicketTable
from protocol.messages import AllTickets, TicketCreated, TicketUpdated
from tests.support import BOB, ManualClock, ServerHarness
from tests.tui.factory import ME
from tests.tui.helpers import next_of, row_text, running_app, screen_lines, scripted_agent, until
from tests.tui.test_snapshots import NOW, URL, show_table, tickets


async def test_a_new_ticket_gets_a_due_time_and_tags_from_the_form(server: ServerHarness) -> None:
    """ "+3h" and "VPN, network vpn" in the new-ticket form reach the server as a time and two tags."""
    async with scripted_agent(server, BOB) as bob, running_app(server) as (app, pilot, _):
        events = bob.events()
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the form")
        form = app.screen
        form.query_one("#title", Input).value = "VPN drops at night"
        form.query_one("#due_at", Input).value = "+3h"
        form.query_one("#tags", Input).value = "VPN, network vpn"
        before = app.desk.now()
        await pilot.press("ctrl+s")
        created = (await next_of(events, TicketCreated)).ticket
        assert created.tags == ["vpn", "network"] and created.due_at is not None
        assert before + timedelta(hours=3) <= created.due_at <= app.desk.now() + timedelta(hours=3)
        await until(pilot, lambda: "in 3h" in row_text(app, "VPN drops at night"), "the due time in the table")


async def test_editing_only_the_tags_sends_only_the_tags(server: ServerHarness) -> None:
    """An edit that touches the tags leaves the due time as it was (the form sends only what changed)."""
    async with scripted_agent(server, BOB) as bob:
        due = (await bob.create_ticket("Printer jams", due_at=NOW, tags=["printer"])).due_at
        events = bob.events()
        async with running_app(server) as (app, pilot, _):
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the editor")
            tags = app.screen.query_one("#tags", Input)
            assert tags.value == "printer"
            tags.value = "printer floor-3"
            await pilot.press("ctrl+s")
            updated = (await next_of(events, TicketUpdated)).ticket
            assert (updated.tags, updated.due_at) == (["printer", "floor-3"], due)


async def test_the_due_column_turns_red_when_overdue_live_and_can_be_hidden() -> None:
    """Due shows "in 5m", then "overdue 5m" in the overdue colour as the clock moves; the palette hides it."""
    clock = ManualClock()
    clock.now = NOW
    app = LesBilletsApp(URL, email=ME.email, autoconnect=False, now=clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await show_table(pilot)
        rows = tickets()
        rows[0] = msgspec.structs.replace(rows[0], due_at=NOW + timedelta(minutes=5), tags=["printer", "floor-3"])
        app.post_message(SnapshotReceived(AllTickets(rid=3, seq=50, tickets=rows)))
        title = rows[0].title[:20]
        await until(pilot, lambda: "in 5m" in row_text(app, title), "the due time")
        assert "printer floor-3" in row_text(app, title)
        header = screen_lines(app)[0]
        assert "Due" in header and "Tags" in header

        clock.advance(10 * 60)
        await until(pilot, lambda: "overdue 5m" in row_text(app, title), "the overdue time, live")
        table = app.screen.query_one(TicketTable)
        assert table.get_component_rich_style("ticket-table--overdue").color is not None

        assert isinstance(app.screen, TicketsScreen)
        app.screen.action_toggle_due()
        await until(pilot, lambda: "Due" not in screen_lines(app)[0], "the Due column hidden")
        assert "overdue" not in row_text(app, title)
        app.screen.action_toggle_due()
        await until(pilot, lambda: "overdue 5m" in row_text(app, title), "the Due column back")
