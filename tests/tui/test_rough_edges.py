"""Issue 10's rough edges in the app, each at the size where the trial saw it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from textual.containers import VerticalScroll
from textual.events import Key
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import LinkChanged, SnapshotReceived
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.help import HelpScreen, HelpTable
from lesbillets_tui.screens.login import LoginScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.table_model import SortColumn
from lesbillets_tui.widgets.conflict_panel import ConflictPanel
from lesbillets_tui.widgets.filter_bar import FilterBar
from lesbillets_tui.widgets.status_bar import StatusBar
from lesbillets_tui.widgets.ticket_table import TicketTable
from protocol.client import ConnectionState
from protocol.messages import AllTickets, Priority, TicketCreated
from tests.conftest import ServerFactory
from tests.support import ADMIN, ALICE, BOB, ManualClock, ServerHarness
from tests.tui.factory import many_tickets
from tests.tui.helpers import (
    Recorder,
    next_of,
    row_text,
    running_app,
    screen_lines,
    scripted_agent,
    terminal_output,
    until,
)
from tests.tui.test_snapshots import offline_app, show_table, tickets

_NAMED = {"\t": "tab", "\r": "enter", " ": "space"}


def banner(app: LesBilletsApp) -> str:
    return str(app.screen.query_one("#banner", Static).render())


def burst(app: LesBilletsApp, text: str) -> None:
    """Queue every key of ``text`` at once, as a terminal delivers a paste or a password manager's typing."""
    for character in text:
        name = _NAMED.get(character)
        app.post_message(Key(name, None if name == "tab" else character) if name else Key(character, character))


async def test_login_form_takes_email_tab_password_in_one_burst(server: ServerHarness) -> None:
    """Email, Tab, password and enter typed at once (a password manager) fill both fields and log in."""
    app = LesBilletsApp(server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        burst(app, f"{ALICE.email}\t{ALICE.password}")
        login = app.screen
        await until(pilot, lambda: login.query_one("#login-password", Input).value == ALICE.password, "the password")
        assert login.query_one("#login-email", Input).value == ALICE.email
        burst(app, "\r")
        await until(pilot, lambda: isinstance(app.screen, TicketsScreen) and app.synced, "the table")


async def test_new_ticket_form_takes_title_tab_and_more_keys_in_one_burst(server: ServerHarness) -> None:
    """In the new-ticket form, title, Tab, description typed at once fill both fields; ctrl+s creates it so."""
    async with scripted_agent(server, BOB) as bob, running_app(server, size=(80, 24)) as (app, pilot, _):
        events = bob.events()
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the new-ticket form")
        form = app.screen
        burst(app, "Printer toner low\tReplace the cartridge")
        description = form.query_one("#description", TextArea)
        await until(pilot, lambda: description.text == "Replace the cartridge", "the description", within=3.0)
        assert form.query_one("#title", Input).value == "Printer toner low"
        assert form.focused is description
        await pilot.press("ctrl+s")
        created = await next_of(events, TicketCreated)
        assert (created.ticket.title, created.ticket.description) == ("Printer toner low", "Replace the cartridge")


@pytest.mark.parametrize("url", ["ws://127.0.0.1:99999", "ws://:8765", "ws://127.0.0.1:port"])
async def test_a_server_address_the_client_cannot_use_is_refused_at_once(url: str) -> None:
    """Edge 1: logging in to an address no client can use says why in a sentence and gives the button back."""
    app = LesBilletsApp(url, autoconnect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        login = app.screen
        login.query_one("#login-email", Input).value = ALICE.email
        login.query_one("#login-password", Input).value = ALICE.password
        login.query_one("#login-password", Input).focus()
        await pilot.pause()
        await pilot.press("enter")
        button = login.query_one("#login-button")
        message = login.query_one("#login-message", Static)
        await until(pilot, lambda: message.has_class("-error"), "the refusal", within=3.0)
        assert not button.disabled
        text = str(message.render())
        assert "Connecting" not in text and "Traceback" not in text and text.endswith(".")


async def test_help_fits_at_80x24_and_scrolls() -> None:
    """Edge 2: at 80x24 the help box is inside the screen, long lines wrap whole, and the end scrolls into view."""
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_table(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        await pilot.pause()
        box = app.screen.query_one("#help").region
        assert box.right <= 80 and box.bottom <= 24
        for cell in app.screen.query(Static):
            assert cell.region.right <= box.right  # nothing drawn past the border
        body = app.screen.query_one("#help-body", VerticalScroll)
        assert body.max_scroll_y > 0  # it does not all fit: it scrolls
        last = app.screen.query(HelpTable).last().query(Static).last()
        assert not body.region.contains_region(last.region)
        await pilot.press("end")
        await until(pilot, lambda: body.region.contains_region(last.region), "the last line in view")


async def test_palette_names_each_command_once() -> None:
    """Edge 13: no two commands in the palette share a title (ours was "Keys", like Textual's key panel)."""
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_table(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles)), titles
        assert "Help" in titles


async def test_escape_in_the_filter_bar_clears_the_filter() -> None:
    """Edge 11: escape in the filter bar shows every ticket again and returns to the table; enter keeps the filter."""
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_table(pilot)
        model, bar = app.desk.model, app.screen.query_one(FilterBar)
        await pilot.press("slash", *"printer", "enter")
        await until(pilot, lambda: len(model) == 1, "the filter")
        assert bar.has_class("-shown") and app.screen.query_one(TicketTable).has_focus
        await pilot.press("slash", "escape")
        await until(pilot, lambda: len(model) == model.total == 10, "every ticket again")
        assert bar.value == "" and not bar.has_class("-shown")
        assert app.screen.query_one(TicketTable).has_focus


async def test_keys_typed_in_one_burst_with_slash_go_to_the_filter() -> None:
    """`/` and the keys right behind it (a paste) all land in the filter box; none reaches the table, where `c`
    would close the ticket under the cursor and `o` reopen it."""
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_table(pilot)
        bar = app.screen.query_one(FilterBar)
        app.post_message(Key("slash", "/"))
        burst(app, "0xc004 co")
        await until(pilot, lambda: bar.value == "0xc004 co", "the whole burst in the filter")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.query_one(TicketTable).has_focus, "the table again")
        await pilot.press("c")  # typed on the table after the filter closed, `c` is a key of the table again
        await pilot.pause()
        assert bar.value == ""


async def show_many(pilot: Pilot[None], count: int) -> None:
    """The offline app's table with ``count`` generated tickets (more than a screen holds)."""
    await show_table(pilot)
    pilot.app.post_message(SnapshotReceived(AllTickets(rid=3, seq=50, tickets=many_tickets(count))))
    await until(pilot, lambda: len(pilot.app.desk.model) == count, "the tickets")  # type: ignore[attr-defined]


def cursor_line_in_view(table: TicketTable) -> bool:
    top = round(table.scroll_y)
    return top <= table.cursor_row < top + table.size.height - 1


async def test_cursor_row_stays_in_view_across_a_resize() -> None:
    """Edge 3: G at 250x60, then 80x24: the cursor's row (the one the preview shows) is still on screen."""
    app = offline_app()
    async with app.run_test(size=(250, 60)) as pilot:
        await show_many(pilot, 80)
        table = app.screen.query_one(TicketTable)
        await pilot.press("G")
        assert table.cursor_row == 79 and cursor_line_in_view(table)
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: table.size.height < 30 and cursor_line_in_view(table), "the cursor in view")
        cursor = table.cursor_ticket
        assert cursor is not None
        assert any(cursor.title[:20] in line for line in screen_lines(app))


async def test_reconnecting_hides_no_column_header() -> None:
    """Edge 4: while reconnecting, every header stays whole; the state and a note are in the status bar."""
    app = offline_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await show_table(pilot)
        header = lambda: screen_lines(app)[0]  # noqa: E731
        before = header()
        app.post_message(LinkChanged(ConnectionState.RECONNECTING, None))
        status = app.screen.query_one(StatusBar)
        await until(pilot, lambda: status.state is ConnectionState.RECONNECTING, "the reconnecting state")
        await pilot.pause()
        assert header() == before and "Updated" in before and "Created by" in before
        assert status.note == "rows may be stale"


@pytest.mark.parametrize("size", [(80, 24), (140, 40), (250, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_sort_mark_always_shows(size: tuple[int, int]) -> None:
    """Edge 5: sorted by each column in turn, both ways, the header shows the column's ▲ or ▼."""
    app = offline_app()
    async with app.run_test(size=size) as pilot:
        await show_table(pilot)
        model = app.desk.model
        for _ in SortColumn:
            for _direction in range(2):
                arrow = "▼" if model.sort.descending else "▲"
                assert screen_lines(app)[0].count(arrow) == 1, (model.sort, screen_lines(app)[0])
                await pilot.press("S")
            await pilot.press("s")


async def test_at_80_columns_every_column_shows_and_help_and_quit_stay_in_the_footer() -> None:
    """Edge 10: at 80x24 no column is dropped (initials, short ages), titles keep 30+ cells, the footer has ? and q."""
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_table(pilot)
        header = screen_lines(app)[0].split()
        assert header == ["#", "Lock", "Title", "Status", "Prio", "To", "Upd", "▼", "By"]
        bob_row = row_text(app, "Printer on 3rd floor")
        assert "● BD 2:30" in bob_row and "Printer on 3rd floor jams on " in bob_row
        text, _ = terminal_output(app)
        footer = text.splitlines()[-1]
        assert "? Help" in footer and "q Quit" in footer


async def test_an_empty_lock_column_shrinks_when_narrow() -> None:
    """Edge 10: with no lock among the rows in view, the Lock column at 80 columns is just its header wide."""
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_table(pilot)
        unlocked = [msgspec.structs.replace(ticket, lock=None) for ticket in tickets()]
        app.post_message(SnapshotReceived(AllTickets(rid=3, seq=50, tickets=unlocked)))
        await until(pilot, lambda: all(t.lock is None for t in app.desk.model.tickets.values()), "no locks")
        await pilot.pause()
        assert screen_lines(app)[0].startswith(" #     Lock Title")


async def test_palette_screenshot_saves_where_a_folder_exists_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edge 8: with no ~/Downloads, the palette's Screenshot saves in the working folder and names the file."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.chdir(work)
    app, recorder = offline_app(), Recorder()
    async with app.run_test(size=(80, 24), message_hook=recorder) as pilot:
        await show_table(pilot)
        screenshot = next(c for c in app.get_system_commands(app.screen) if c.title == "Screenshot")
        screenshot.callback()
        await until(pilot, lambda: any("creenshot" in n for n in recorder.notifications), "the notification")
        saved = list(work.glob("*.svg"))
        assert len(saved) == 1 and saved[0].read_text().startswith("<svg")
        assert any(str(saved[0]) in n for n in recorder.notifications), recorder.notifications


async def test_a_conflict_shows_theirs_beside_yours_and_takes_theirs_on_request(server: ServerHarness) -> None:
    """Edge 12: after a conflict each field they changed shows both values; "Use theirs" puts theirs in the form."""
    async with scripted_agent(server, ADMIN) as admin:
        ticket = await admin.create_ticket("Badge reader", "Fails at the dock.")
        async with running_app(server, size=(100, 40)) as (app, pilot, _):
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the editor")
            editor = app.screen
            await pilot.press("end", *" at gate 2")
            editor.query_one("#description", TextArea).focus()
            await pilot.press("end", *" Mine.")

            await admin.unlock(ticket.id, force=True)
            await admin.lock(ticket.id)
            changed = await admin.update_ticket(ticket.id, ticket.version, title="Badge reader (dock 2)")
            await admin.update_ticket(ticket.id, changed.version, priority=Priority.URGENT)
            await admin.unlock(ticket.id)
            await pilot.press("ctrl+l")
            await until(pilot, lambda: "Locked again" in banner(app), "the re-lock")

            await pilot.press("ctrl+s")
            panel = editor.query_one(ConflictPanel)
            await until(pilot, lambda: panel.has_class("-shown"), "the conflict panel")
            rows = {c.field: (c.theirs, c.yours, c.same) for c in panel.conflicts}
            assert rows == {
                "title": ("“Badge reader (dock 2)”", "“Badge reader at gate 2”", False),
                "priority": ("urgent", "urgent", True),  # theirs alone: taken into the form
            }
            shown = " ".join(str(s.render()) for s in panel.query(Static))
            assert "theirs: “Badge reader (dock 2)”" in shown and "yours:  “Badge reader at gate 2”" in shown
            # the priority was theirs alone: nothing to choose, the form shows theirs, and a save keeps it
            assert "yours:  you had not changed it: theirs is in the form" in shown
            assert not editor.query("#take-priority")
            assert editor.query_one("#priority", Select).value is Priority.URGENT

            await pilot.click("#take-title")
            await until(pilot, lambda: editor.query_one("#title", Input).value == "Badge reader (dock 2)", "theirs")
            await until(pilot, lambda: not editor.query("#take-title"), "the title settled")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen), "the save")
        current = {t.id: t for t in (await admin.get_tickets()).tickets}[ticket.id]
        assert (current.title, current.description) == ("Badge reader (dock 2)", "Fails at the dock. Mine.")
        assert current.priority is Priority.URGENT  # not changed by this agent: theirs stays


async def test_reading_the_form_renews_the_lock_and_the_warning_comes_early(server_factory: ServerFactory) -> None:
    """Moving between fields or scrolling the description renews the lease; idle, the warning comes 90 s early."""
    clock = ManualClock()
    server = await server_factory(clock=clock, sweep_interval_s=0.05)
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("VPN drops", "\n".join(f"log line {n}" for n in range(200)))
    async with running_app(server, now=clock) as (app, pilot, _):
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the editor")
        editor = app.screen
        assert isinstance(editor, EditorScreen) and editor.deadline is not None
        ttl = app.desk.lock_ttl_s

        clock.advance(31)
        description = editor.query_one("#description", TextArea)
        description.focus()  # no key pressed: the focus moves (a click, or the form's own)
        await until(pilot, lambda: editor.deadline == clock.now + timedelta(seconds=ttl), "a renewal on focus")

        clock.advance(31)
        description.scroll_to(y=50, animate=False)  # reading further down
        await until(pilot, lambda: editor.deadline == clock.now + timedelta(seconds=ttl), "a renewal on scroll")

        clock.advance(ttl - 80)  # idle, 80 s left
        await until(pilot, lambda: "press ctrl+l to keep it" in banner(app), "the early warning")
