"""Ticket numbers in the app against a real server: the # column and its sort, #1042 in the filter, and the
preview's number, due time and tags."""

from __future__ import annotations

from datetime import timedelta

from textual.content import Content
from textual.events import Key
from textual.widgets import Label

from lesbillets_tui.palette import OVERDUE
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.table_model import SortColumn
from lesbillets_tui.widgets.filter_bar import FilterBar
from lesbillets_tui.widgets.ticket_preview import TicketPreview
from lesbillets_tui.widgets.ticket_table import TicketTable
from protocol.messages import Priority, Status
from tests.conftest import ServerFactory
from tests.support import BOB, ManualClock, ServerHarness
from tests.tui.helpers import running_app, screen_lines, scripted_agent, until
from tests.tui.test_rough_edges import burst
from tests.tui.test_snapshots import offline_app, show_table


def numbers_shown(lines: list[str]) -> list[str]:
    """The first cell of each row: its number."""
    return [line.split()[0] for line in lines[1:] if line.strip()]


async def test_the_number_column_comes_first_and_sorts_with_s(server_factory: ServerFactory) -> None:
    """At 80x24 each row starts with its number; s reaches the # column (newest number first), S reverses it."""
    clock = ManualClock()
    server = await server_factory(clock=clock)
    async with scripted_agent(server, BOB) as bob:
        first = await bob.create_ticket("VPN drops")
        await bob.create_ticket("Printer jams")
        await bob.create_ticket("Badge reader")
        clock.advance(60)
        await bob.change_tickets([first.id], priority=Priority.HIGH)  # updated last: on top by default
        async with running_app(server, size=(80, 24)) as (app, pilot, _):
            lines = screen_lines(app)
            assert lines[0].split()[0] == "#"
            assert numbers_shown(lines) == ["#1", "#3", "#2"]
            assert lines[1].split()[:3] == ["#1", "VPN", "drops"]
            await pilot.press("s", "s")  # created by, then number
            assert app.desk.model.sort.column is SortColumn.NUMBER
            assert "# ▼" in screen_lines(app)[0]
            assert numbers_shown(screen_lines(app)) == ["#3", "#2", "#1"]
            await pilot.press("S")
            assert "# ▲" in screen_lines(app)[0]
            assert numbers_shown(screen_lines(app)) == ["#1", "#2", "#3"]


async def test_typing_a_number_in_the_filter_jumps_to_its_ticket(server: ServerHarness) -> None:
    """/#3 shows ticket #3 alone with the cursor on it; enter clears the filter and leaves the cursor on #3, in
    view, among all the tickets."""
    async with scripted_agent(server, BOB) as bob:
        for n in range(1, 31):
            await bob.create_ticket(f"Ticket number {n}")
        async with running_app(server, size=(80, 24)) as (app, pilot, _):
            screen = app.screen
            assert isinstance(screen, TicketsScreen)
            model, table, bar = app.desk.model, screen.query_one(TicketTable), screen.query_one(FilterBar)
            await pilot.press("slash", *"#3")
            await until(pilot, lambda: len(model) == 1, "the filter")
            cursor = lambda: table.cursor_ticket  # noqa: E731
            assert (ticket := cursor()) is not None and ticket.number == 3
            await until(pilot, lambda: "#3 Ticket number 3" in str(screen.query_one(TicketPreview).render()))

            await pilot.press("enter")
            await until(pilot, lambda: len(model) == 30, "every ticket again")
            assert (ticket := cursor()) is not None and ticket.number == 3
            assert bar.value == "" and not bar.has_class("-shown") and table.has_focus
            await until(pilot, lambda: "#3" in numbers_shown(screen_lines(app)), "#3 in view")
            assert table.cursor_row == 27  # the 28th newest of 30

            await pilot.press("k")  # among its neighbours
            assert (ticket := cursor()) is not None and ticket.number == 4


async def test_a_number_no_ticket_has_is_said_until_it_exists(server: ServerHarness) -> None:
    """/#3 with two tickets says no ticket has that number (enter keeps the filter, nothing to jump to); when Bob
    creates #3 it appears and the sentence goes. A number the rest of the filter hides is said too."""
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("VPN drops")
        await bob.create_ticket("Printer jams")
        async with running_app(server, size=(80, 24)) as (app, pilot, _):
            screen = app.screen
            assert isinstance(screen, TicketsScreen)
            bar = screen.query_one(FilterBar)
            errors = lambda: str(bar.query_one("#filter-errors", Label).render())  # noqa: E731
            await pilot.press("slash", *"#3")
            await until(pilot, lambda: errors() == "No ticket has the number #3.", "the sentence")
            assert screen_lines(app)[1].strip() == "No tickets match the filter."
            await pilot.press("enter")
            assert bar.value == "#3" and bar.has_class("-shown") and screen.query_one(TicketTable).has_focus

            await bob.create_ticket("Badge reader")
            await until(pilot, lambda: errors() == "" and len(app.desk.model) == 1, "#3 created")
            assert screen_lines(app)[1].split()[:3] == ["#3", "Badge", "reader"]

            await pilot.press("slash", "ctrl+u", *"status:closed #1")
            await until(pilot, lambda: errors() == "#1 does not match the rest of the filter.", "the other sentence")


def style_of(content: Content, text: str) -> str:
    """The style of the span that covers ``text`` in ``content`` ("" when none does)."""
    start = content.plain.index(text)
    covering = [span for span in content.spans if span.start <= start and start + len(text) <= span.end]
    return str(covering[-1].style) if covering else ""


async def test_the_preview_shows_the_number_due_time_and_tags_live(server: ServerHarness) -> None:
    """The preview's head is the ticket view's: "#2 title", "in 3h" then, as the clock passes it, "overdue 1m" in
    the overdue colour; the tags as words, not as "#vpn" (# is a number)."""
    clock = ManualClock()
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("Old one", status=Status.CLOSED)
        due = clock.now + timedelta(hours=3, seconds=30)
        await bob.create_ticket("VPN drops at night", due_at=due, tags=["vpn", "home-office"])
        async with running_app(server, size=(100, 30), now=clock) as (app, pilot, _):
            screen = app.screen
            assert isinstance(screen, TicketsScreen)
            preview = screen.query_one(TicketPreview)
            content = lambda: preview.content  # noqa: E731
            await until(pilot, lambda: "in 3h" in str(content()), "the due time")
            text = str(content())
            assert text.startswith("#2 VPN drops at night\n")
            assert "tags vpn home-office" in text and "#vpn" not in text
            assert isinstance(content(), Content) and OVERDUE not in style_of(content(), "in 3h")

            clock.advance(3 * 3600 + 90)
            await until(pilot, lambda: "overdue 1m" in str(content()), "overdue, live")
            assert isinstance(content(), Content) and OVERDUE in style_of(content(), "overdue 1m")


async def test_a_number_and_enter_typed_in_one_burst_jump_too() -> None:
    """ "/#1037⏎" at once (a paste, tmux send-keys) goes to #1037 like typed key by key: the enter reaches the filter,
    not the table (where it would open whichever ticket the cursor was on)."""
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_table(pilot)
        screen = app.screen
        assert isinstance(screen, TicketsScreen)
        table, bar = screen.query_one(TicketTable), screen.query_one(FilterBar)
        app.post_message(Key("slash", "/"))
        burst(app, "#1037\r")
        await until(pilot, lambda: not bar.has_class("-shown") and table.has_focus, "the filter closed")
        await pilot.pause()
        assert isinstance(app.screen, TicketsScreen)  # no ticket view opened
        assert (ticket := table.cursor_ticket) is not None and ticket.number == 1037
        assert len(app.desk.model) == app.desk.model.total == 10 and bar.value == ""
