"""Screens with fixed data and no server: view, help, palette, and live changes under an open dialog."""

from __future__ import annotations

import msgspec

from lesbillets_tui.messages import ServerEventReceived
from lesbillets_tui.screens.help import HelpScreen
from lesbillets_tui.screens.ticket_view import TicketViewScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from protocol.messages import TicketUpdated
from tests.tui.helpers import until
from tests.tui.test_snapshots import SIZE, offline_app, show_table, tickets


async def test_enter_views_the_ticket_and_follows_live_changes() -> None:
    """enter opens the full ticket; an update while it is open shows in it; escape goes back."""
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await show_table(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketViewScreen), "the view")
        assert app.tickets_screen is not None
        ticket = app.tickets_screen.table.cursor_ticket
        assert ticket is not None
        title = lambda: str(app.screen.query_one("#fields").render()).splitlines()[0]  # noqa: E731
        assert title() == f"#{ticket.number} {ticket.title}"
        full = next(t for t in tickets() if t.id == ticket.id)  # events carry the ticket in full
        changed = msgspec.structs.replace(full, title="Renamed while viewed", version=ticket.version + 1)
        app.post_message(ServerEventReceived(TicketUpdated(seq=41, ticket=changed)))
        await until(pilot, lambda: title() == f"#{ticket.number} Renamed while viewed", "the live title")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TicketsScreen))


async def test_help_and_palette_list_the_actions() -> None:
    """? opens the keys and closes with escape; the command palette offers the same actions by name."""
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await show_table(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TicketsScreen))
        titles = {command.title for command in app.get_system_commands(app.screen)}
        expected = {"Edit ticket", "New ticket", "View ticket", "Filter tickets", "Sort by next column"}
        assert expected | {"Reverse sort", "Resync", "Help", "Log out"} <= titles
