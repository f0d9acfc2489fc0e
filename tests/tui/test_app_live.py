"""The app against a real server: login, the live table, locks, the edit flow, conflicts, filter, reconnect."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from textual.events import Key
from textual.widgets import Input, Static, TextArea

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import RowsReceived
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.login import LoginScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.widgets.status_bar import StatusBar
from protocol.messages import Priority, Status, TicketLocked, TicketUnlocked, TicketUpdated, UnlockReason
from tests.conftest import ServerFactory
from tests.support import ADMIN, ALICE, BOB, ManualClock, ServerHarness
from tests.tui.helpers import next_of, row_text, running_app, screen_lines, scripted_agent, table, until

T = TypeVar("T")


def banner(app: LesBilletsApp) -> str:
    return str(app.screen.query_one("#banner", Static).render())


async def test_login_screen_logs_in_and_shows_the_snapshot(server: ServerHarness) -> None:
    """Typing server, email and password logs in; the table shows what the server holds."""
    async with scripted_agent(server, BOB) as bob:
        for title in ("VPN drops", "Printer jams", "Badge reader"):
            await bob.create_ticket(title, "details", priority=Priority.HIGH)
    app = LesBilletsApp(server.url)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        app.screen.query_one("#login-email", Input).value = ALICE.email
        app.screen.query_one("#login-password", Input).focus()
        await pilot.press(*ALICE.password, "enter")
        await until(pilot, lambda: isinstance(app.screen, TicketsScreen) and app.synced, "the table")
        lines = screen_lines(app)
        assert [line.split()[:2] for line in lines[1:4]] == [["#3", "Badge"], ["#2", "Printer"], ["#1", "VPN"]]
        assert "Bob Dubois" in row_text(app, "VPN drops")
        status = app.screen.query_one(StatusBar)
        assert (status.shown, status.total, status.user) == (3, 3, ALICE.name)


async def test_wrong_password_is_said_on_the_login_screen(server: ServerHarness) -> None:
    """A refused login stays on the login screen with the server's sentence, and the form usable."""
    app = LesBilletsApp(server.url, email=ALICE.email, password="not-the-password")
    async with app.run_test(size=(120, 36)) as pilot:
        message = lambda: str(app.screen.query_one("#login-message", Static).render())  # noqa: E731
        await until(pilot, lambda: isinstance(app.screen, LoginScreen) and "password" in message().lower())
        assert app.screen.query_one("#login-message").has_class("-error")
        assert not app.screen.query_one("#login-button").disabled


async def test_unreachable_server_is_said_on_the_login_screen(server: ServerHarness) -> None:
    """Nothing listening: a sentence about the address, not a traceback."""
    url = server.url
    await server.stop()
    app = LesBilletsApp(url, email=ALICE.email, password=ALICE.password)
    async with app.run_test(size=(120, 36)) as pilot:
        message = lambda: str(app.screen.query_one("#login-message", Static).render())  # noqa: E731
        await until(pilot, lambda: "Could not connect" in message(), "the error")
        assert url in message() and "Traceback" not in message()


async def test_scripted_agent_changes_show_at_once_without_moving_the_cursor(server: ServerHarness) -> None:
    """Create, lock, update and unlock by another agent each reach the table; the cursor stays on its ticket."""
    async with scripted_agent(server, BOB) as bob:
        first = await bob.create_ticket("First ticket")
        await bob.create_ticket("Second ticket")
        async with running_app(server) as (app, pilot, _):
            widget = table(app)
            await pilot.press("j")
            assert widget.cursor_id == first.id

            created = await bob.create_ticket("Brand new ticket", priority=Priority.URGENT)
            await until(pilot, lambda: "urgent" in row_text(app, "Brand new ticket"), "the new row")
            assert widget.cursor_id == first.id and widget.cursor_row == 2

            await bob.lock(first.id)
            await until(pilot, lambda: "Bob Dubois" in row_text(app, "First ticket").split("First")[0], "the lock")

            await bob.update_ticket(first.id, first.version, title="First ticket, renamed", status=Status.BLOCKED)
            await until(pilot, lambda: "blocked" in row_text(app, "First ticket, renamed"), "the update")
            assert widget.cursor_id == first.id  # moved to the top, the cursor with it

            await bob.unlock(first.id)
            await until(pilot, lambda: "Bob" not in row_text(app, "First ticket, renamed").split("First")[0])
            assert app.desk.model.total == 3 and app.desk.model.get(created.id) is not None


async def test_keys_in_one_burst_with_ctrl_s_are_all_saved(server: ServerHarness) -> None:
    """Text and ctrl+s arriving together (a paste, then save; a fast typist over ssh) save every key typed."""
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("Printer jams")
        events = bob.events()
        async with running_app(server) as (app, pilot, _):
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the editor")
            await pilot.press("end")
            for character in " pasted":  # queued all at once, as a terminal delivers a burst
                app.post_message(Key("space" if character == " " else character, character))
            app.post_message(Key("ctrl+s", None))
            updated = await next_of(events, TicketUpdated)
            assert updated.ticket.title == "Printer jams pasted"


async def test_edit_flow_is_seen_by_the_other_agent(server: ServerHarness) -> None:
    """e locks, typing edits, ctrl+s saves with the version and unlocks: the other agent sees each step."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Printer jams", "On duplex jobs.")
        events = bob.events()
        async with running_app(server) as (app, pilot, _):
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the editor")
            locked = await next_of(events, TicketLocked)
            assert (locked.ticket_id, locked.lock.user_name) == (ticket.id, ALICE.name)
            assert "you" in row_text(app, "Printer jams")

            await pilot.press("end", *" again")
            app.screen.query_one("#description", TextArea).focus()
            await pilot.press("end", *" Also on A3.")
            await pilot.press("ctrl+s")

            updated = await next_of(events, TicketUpdated)
            assert updated.ticket.title == "Printer jams again"
            assert updated.ticket.description == "On duplex jobs. Also on A3."
            assert updated.ticket.version == ticket.version + 1
            unlocked = await next_of(events, TicketUnlocked)
            assert unlocked.reason is UnlockReason.RELEASED
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen), "the editor to close")
            await until(pilot, lambda: "you" not in row_text(app, "Printer jams again"), "the lock to go")


async def test_new_ticket_form_creates_a_ticket(server: ServerHarness) -> None:
    """n opens an empty form; ctrl+s creates the ticket, which the other agent sees and the cursor lands on."""
    async with scripted_agent(server, BOB) as bob:
        events = bob.events()
        async with running_app(server) as (app, pilot, _):
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the form")
            await pilot.press("ctrl+s")
            assert "needs a title" in banner(app)
            await pilot.press(*"Fax is back")
            await pilot.press("ctrl+s")
            from protocol.messages import TicketCreated

            created = await next_of(events, TicketCreated)
            assert (created.ticket.title, created.ticket.created_by) == (
                "Fax is back",
                app.desk.user.id if app.desk.user else None,
            )
            await until(pilot, lambda: table(app).cursor_id == created.ticket.id, "the cursor on the new ticket")


async def test_locked_by_someone_else_gives_a_notification_and_no_form(server: ServerHarness) -> None:
    """e on a ticket another agent holds names the holder and the time left, and opens nothing."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("VPN drops")
        await bob.lock(ticket.id)
        async with running_app(server) as (app, pilot, recorder):
            await pilot.press("e")
            await until(pilot, lambda: recorder.notifications, "a notification")
            assert "Bob Dubois" in recorder.notifications[-1] and "min" in recorder.notifications[-1]
            assert isinstance(app.screen, TicketsScreen)


async def test_cancel_releases_the_lock_and_asks_first_when_changed(server: ServerHarness) -> None:
    """escape with nothing changed releases at once; with changes it asks, and "n" keeps the form."""
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("VPN drops")
        events = bob.events()
        async with running_app(server) as (app, pilot, _):
            await pilot.press("e")
            await next_of(events, TicketLocked)
            await pilot.press("escape")
            assert (await next_of(events, TicketUnlocked)).reason is UnlockReason.RELEASED
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen))

            await pilot.press("e")
            await next_of(events, TicketLocked)
            await until(pilot, lambda: isinstance(app.screen, EditorScreen))
            await pilot.press("x", "escape")
            await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the question")
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, EditorScreen))
            assert app.screen.query_one("#title", Input).value == "VPN dropsx"
            await pilot.press("escape", "y")
            assert (await next_of(events, TicketUnlocked)).reason is UnlockReason.RELEASED


async def test_broken_lock_and_conflict_keep_what_was_typed(server: ServerHarness) -> None:
    """An admin breaks the lock and changes the ticket: the form keeps the text, re-locks, warns, then saves."""
    async with scripted_agent(server, ADMIN) as admin:
        ticket = await admin.create_ticket("Badge reader", "Fails at the dock.")
        async with running_app(server) as (app, pilot, _):
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the editor")
            editor = app.screen
            editor.query_one("#description", TextArea).focus()
            await pilot.press("end", *" Mine.")

            await admin.unlock(ticket.id, force=True)
            await until(pilot, lambda: "admin broke your lock" in banner(app), "the lost-lock banner")
            await admin.lock(ticket.id)
            await admin.update_ticket(ticket.id, ticket.version, title="Badge reader (dock 2)")
            await admin.unlock(ticket.id)

            await pilot.press("ctrl+s")
            assert "ctrl+l" in banner(app)  # no lock, no save; the text stays
            await pilot.press("ctrl+l")
            await until(pilot, lambda: "Locked again" in banner(app), "the re-lock")
            assert "Camille Admin changed this ticket" in banner(app) and "title" in banner(app)

            await pilot.press("ctrl+s")  # based on the old version: the server answers conflict
            await until(pilot, lambda: "Not saved" in banner(app), "the conflict")
            assert app.screen is editor
            assert editor.query_one("#description", TextArea).text == "Fails at the dock. Mine."

            await pilot.press("ctrl+s")  # now knowingly over theirs: only the fields this agent changed
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen), "the save")
        current = {t.id: t for t in (await admin.get_tickets()).tickets}[ticket.id]
        assert (current.title, current.description) == ("Badge reader (dock 2)", "Fails at the dock. Mine.")
        assert current.lock is None


async def test_filter_and_sort(server: ServerHarness) -> None:
    """/ narrows the rows live (words and keys), s and S change the order; the bar counts."""
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("Printer jams", priority=Priority.LOW)
        await bob.create_ticket("VPN drops since the printer driver update", priority=Priority.URGENT)
        await bob.create_ticket("Badge reader", status=Status.CLOSED, priority=Priority.HIGH)
        async with running_app(server) as (app, pilot, _):
            status = app.screen.query_one(StatusBar)
            await pilot.press("slash", *"printer")
            await until(pilot, lambda: status.shown == 2)
            await pilot.press(*" priority:u")
            await until(pilot, lambda: status.shown == 1)
            assert "VPN drops" in screen_lines(app)[1]
            await pilot.press("enter")
            assert app.focused is table(app)

            await pilot.press("slash", "ctrl+u", *"status:nope")
            await until(pilot, lambda: "Unknown status" in str(app.screen.query_one("#filter-errors").render()))
            await pilot.press("ctrl+u", "escape")
            await until(pilot, lambda: status.shown == 3)

            await pilot.press("s", "s", "s", "s")  # created by, number, lock, then title (A→Z)
            assert app.desk.model.sort.column == "title"
            assert [line.split()[1] for line in screen_lines(app)[1:4]] == ["Badge", "Printer", "VPN"]  # after #n
            await pilot.press("S")
            assert [line.split()[1] for line in screen_lines(app)[1:4]] == ["VPN", "Printer", "Badge"]
            assert "Title ▼" in screen_lines(app)[0]


async def test_reconnects_after_the_server_restarts_and_keeps_an_open_form(server: ServerHarness) -> None:
    """The bar says reconnecting and the table is stale; then it resumes the event stream, and the form never left."""
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("VPN drops")
    async with running_app(server) as (app, pilot, _):
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the editor")
        editor = app.screen
        await pilot.press("end", *" (typed before the restart)")
        await server.stop()
        await until(pilot, lambda: not app.synced and table(app).stale, "the stale table")
        assert "reconnect" in banner(app).lower()
        await server.start()
        await until(pilot, lambda: app.synced and not table(app).stale, "the resync", within=20)
        assert app.screen is editor
        assert editor.query_one("#title", Input).value == "VPN drops (typed before the restart)"
        async with scripted_agent(server, BOB) as bob:
            await bob.create_ticket("After the restart")
            await until(pilot, lambda: app.desk.model.total == 2, "a live event after the restart")


async def test_r_replaces_an_out_of_date_table_with_a_fresh_snapshot(server: ServerHarness) -> None:
    """r fetches the whole table again: a change the table no longer shows comes back with a newer snapshot."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("VPN drops")
        events = bob.events()
        async with running_app(server) as (app, pilot, recorder):
            [first] = recorder.pages
            await bob.lock(ticket.id)
            await bob.update_ticket(ticket.id, ticket.version, title="VPN drops at night")
            await bob.unlock(ticket.id)
            await next_of(events, TicketUnlocked)
            live = lambda: row_text(app, "VPN drops at night") and app.desk.model.get(ticket.id).lock is None  # noqa: E731
            await until(pilot, live, "the change, live")

            # Deliberately out of date: reload the table from the first load's rows, as if the events were missed.
            app.post_message(RowsReceived(first.rows, fresh=True, complete=True))
            await until(pilot, lambda: row_text(app, "VPN drops") and not row_text(app, "VPN drops at"), "the old row")

            await pilot.press("r")
            await until(pilot, lambda: row_text(app, "VPN drops at night"), "the change, after r")
            assert len(recorder.pages) == 3
            fresh = recorder.pages[-1]
            assert fresh.fresh and fresh.complete
            assert app.desk.model.get(ticket.id) == next(row for row in fresh.rows if row.id == ticket.id)
            assert app.synced and not recorder.notifications


async def test_lease_renews_on_activity_warns_when_idle_and_survives_expiry(server_factory: ServerFactory) -> None:
    """Typing renews the lock (not more than every 30 s); idle near the end warns; expiry keeps the text."""
    clock = ManualClock()
    server = await server_factory(clock=clock, sweep_interval_s=0.05)
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("VPN drops")
    async with running_app(server, now=clock) as (app, pilot, _):
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the editor")
        editor = app.screen
        assert isinstance(editor, EditorScreen) and editor.deadline is not None
        first_deadline = editor.deadline

        await pilot.press("end", "!")
        clock.advance(10)  # active, but renewed less than 30 s ago: no renewal yet
        await pilot.press("!")
        clock.advance(21)
        await until(pilot, lambda: editor.deadline is not None and editor.deadline > first_deadline, "the renewal")
        assert editor.deadline == clock.now + timedelta(seconds=app.desk.lock_ttl_s)

        clock.advance(app.desk.lock_ttl_s - 30)  # idle with 30 s left
        await until(pilot, lambda: "press ctrl+l to keep it" in banner(app), "the warning")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: "You hold the lock" in banner(app), "the extension")

        clock.advance(app.desk.lock_ttl_s + 1)
        await until(pilot, lambda: "expired" in banner(app), "the expiry")
        assert app.screen is editor and editor.query_one("#title", Input).value == "VPN drops!!"


async def test_a_server_back_with_another_lock_time_sets_the_editors_lease(server: ServerHarness) -> None:
    """The server restarts with --lock-ttl 100: the app resumes and the editor counts the new lease, not 180 s."""
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("VPN drops")
    async with running_app(server) as (app, pilot, _):
        assert app.desk.lock_ttl_s == 180
        await server.stop()
        await until(pilot, lambda: not app.synced, "the link down")
        server.config = replace(server.config, lock_ttl_s=100)
        await server.start()
        await until(pilot, lambda: app.synced and not table(app).stale, "the resync", within=20)
        assert app.desk.lock_ttl_s == 100
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the editor")
        await until(pilot, lambda: app.screen.deadline is not None, "the lock")  # type: ignore[attr-defined]
        left = (app.screen.deadline - app.desk.now()).total_seconds()  # type: ignore[attr-defined]
        assert 90 < left <= 100
