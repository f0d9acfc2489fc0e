"""The footer redraws its keys when they change, and only then (Textual's redraws them on every focus change)."""

from __future__ import annotations

from textual.widgets import Input
from textual.widgets._footer import FooterKey

from lesbillets_tui.screens.help import HelpScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.widgets.keys_footer import KeysFooter
from tests.tui.helpers import until
from tests.tui.test_snapshots import SIZE, offline_app, show_table


def footer_keys(screen: TicketsScreen) -> list[FooterKey]:
    return list(screen.query_one(KeysFooter).query(FooterKey))


async def test_the_footer_keeps_its_keys_while_they_stay_the_same() -> None:
    """Once the table shows, its keys are in the footer; the screen coming back from the help with the same keys
    keeps the very same key widgets; the filter's own keys do replace them."""
    app = offline_app()
    async with app.run_test(size=SIZE) as pilot:
        await show_table(pilot)
        screen = app.screen
        assert isinstance(screen, TicketsScreen) and screen.focused is screen.table
        await until(pilot, lambda: any(key.key == "e" for key in footer_keys(screen)), "the table's keys")
        drawn = footer_keys(screen)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back to the table")
        await pilot.pause()
        await pilot.pause()
        assert footer_keys(screen) == drawn  # the same widgets: not composed again

        await pilot.press("slash")
        await until(pilot, lambda: isinstance(screen.focused, Input), "the filter")
        await until(pilot, lambda: footer_keys(screen) != drawn, "the filter's keys")
