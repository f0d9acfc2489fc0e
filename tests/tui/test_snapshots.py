"""What the agent sees, at 120x36 with fixed data and a fixed clock (pytest --snapshot-update to accept changes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import msgspec
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import SessionOpened, SnapshotReceived, UsersReceived
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.widgets.ticket_preview import TicketPreview
from protocol.messages import AllTickets, Lock, Priority, Role, Status, Ticket, User, Welcome
from tests.tui.factory import ADMIN, BOB, ME, T0, USERS, make_ticket

SIZE = (120, 36)
URL = "ws://127.0.0.1:8765"
NOW = T0 + timedelta(hours=6)
SnapCompare = Callable[..., bool]


def tickets() -> list[Any]:
    """A small helpdesk: every status and priority, two of Bob's locks and one of mine."""
    rows = [
        ("Printer on 3rd floor jams on every duplex job", Status.OPEN, Priority.HIGH, BOB.id, "bob"),
        ("VPN drops every 20 minutes from home", Status.BLOCKED, Priority.URGENT, ME.id, "me"),
        ("Cannot log in to the expense portal after password reset", Status.OPEN, Priority.NORMAL, None, None),
        ("Shared drive S: shows as disconnected", Status.CLOSED, Priority.LOW, ADMIN.id, None),
        ("Invoice PDF export cuts off the last line", Status.OPEN, Priority.NORMAL, ME.id, None),
        ("Wi-Fi in meeting room B is very slow", Status.OPEN, Priority.LOW, None, "admin"),
        ("Request: second monitor for accounting", Status.BLOCKED, Priority.NORMAL, BOB.id, None),
        ("Phone system voicemail not forwarding to email", Status.OPEN, Priority.HIGH, None, None),
        ("Badge reader at the loading dock rejects new cards", Status.CLOSED, Priority.URGENT, ME.id, None),
        ("Laptop battery swells, replace before it fails", Status.OPEN, Priority.URGENT, ADMIN.id, None),
    ]
    holders = {"bob": (BOB, 150), "me": (ME, 172), "admin": (ADMIN, 61)}
    result = []
    for n, (title, status, priority, assignee, holder) in enumerate(rows):
        lock = None
        if holder is not None:
            user, seconds = holders[holder]
            lock = Lock(user_id=user.id, user_name=user.name, expires_at=NOW + timedelta(seconds=seconds))
        result.append(
            make_ticket(
                n * 37,
                title=title,
                description="The customer reports it every morning.\nSteps: open the app, press Sync.",
                status=status,
                priority=priority,
                assignee=assignee,
                created_by=(BOB.id, ADMIN.id, ME.id)[n % 3],
                lock=lock,
            )
        )
    return result


def offline_app() -> LesBilletsApp:
    """The real app with no server: the test posts what the link worker would."""
    return LesBilletsApp(URL, email=ME.email, autoconnect=False, now=lambda: NOW)


async def no_blink(pilot: Pilot[Any]) -> None:
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()


def preview_in_full(pilot: Pilot[Any], full: list[Ticket]) -> None:
    """Give the preview its ticket in full, as the screen's fetch (`GetTicket`) would with a server."""
    app = pilot.app
    assert isinstance(app, LesBilletsApp) and app.tickets_screen is not None
    row = app.tickets_screen.table.cursor_ticket
    assert row is not None
    app.tickets_screen.query_one(TicketPreview).show_full(next(t for t in full if t.id == row.id))


async def show_table(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, LesBilletsApp)
    welcome = Welcome(rid=1, user=ME, token="snapshot", lock_ttl_s=180.0, server_version="snapshot")
    app.post_message(SessionOpened(URL, welcome, ME.email))
    app.post_message(UsersReceived(USERS))
    app.post_message(SnapshotReceived(AllTickets(rid=2, seq=40, tickets=tickets())))
    while not (isinstance(app.screen, TicketsScreen) and app.desk.model.total):
        await pilot.pause()
    await pilot.pause()


async def open_my_editor(pilot: Pilot[Any]) -> tuple[EditorScreen, Ticket]:
    """The table, then the edit form on the ticket this agent holds; the form and the ticket it opened on."""
    await show_table(pilot)
    app = pilot.app
    assert isinstance(app, LesBilletsApp)
    ticket = next(t for t in tickets() if t.lock is not None and t.lock.user_id == ME.id)
    lock = Lock(user_id=ME.id, user_name=ME.name, expires_at=NOW + timedelta(seconds=180))
    ticket = msgspec.structs.replace(ticket, lock=lock)
    app.push_screen(EditorScreen(app.desk, ticket))
    while not isinstance(app.screen, EditorScreen):
        await pilot.pause()
    return app.screen, ticket


async def still_cursors(pilot: Pilot[Any]) -> None:
    await no_blink(pilot)
    pilot.app.screen.query_one("#title", Input).cursor_position = 0
    pilot.app.screen.query_one("#description", TextArea).cursor_blink = False


def test_login_screen(snap_compare: SnapCompare) -> None:
    """The login form, email remembered, waiting for the password."""
    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=no_blink)


def test_table_with_locks(snap_compare: SnapCompare) -> None:
    """The live table: colours, locks (mine and others', with time left), preview and status bar."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await show_table(pilot)
        await pilot.press("j", "j")
        preview_in_full(pilot, tickets())
        await pilot.pause()

    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=run_before)


def test_editor(snap_compare: SnapCompare) -> None:
    """The edit form for a ticket this agent holds, with its lease."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_my_editor(pilot)
        await still_cursors(pilot)

    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare: SnapCompare) -> None:
    """? lists every key and the filter language."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await show_table(pilot)
        preview_in_full(pilot, tickets())
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=run_before)


def test_hostile_text_is_shown_literally(snap_compare: SnapCompare) -> None:
    """Markup shows as text and stored control characters as symbols: table, preview, lock holder, names."""
    eve = User(id=uuid.UUID(int=9), email="eve@example.com", name="[reverse]Eve[/] \x1b]0;owned\x07", role=Role.AGENT)
    hostile = [
        make_ticket(
            350,
            title="[bold red]pwned[/] \x1b[2J\x07\u202eevil",
            description="first line\x1b]0;owned\x07\n\tsecond line \x00 \x9b6n [b]not bold[/b]",
            priority=Priority.URGENT,
            assignee=eve.id,
            created_by=eve.id,
            lock=Lock(user_id=eve.id, user_name=eve.name, expires_at=NOW + timedelta(seconds=90)),
        ),
        make_ticket(340, title="[bold red]urgent[/] [link=https://example.com]click[/link] $accent", created_by=eve.id),
    ]

    async def run_before(pilot: Pilot[Any]) -> None:
        await show_table(pilot)
        app = pilot.app
        app.post_message(UsersReceived([*USERS, eve]))
        app.post_message(SnapshotReceived(AllTickets(rid=3, seq=41, tickets=[*hostile, *tickets()])))
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        preview_in_full(pilot, hostile)
        await pilot.pause()

    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=run_before)


def test_editor_after_a_conflict(snap_compare: SnapCompare) -> None:
    """A conflict in the form: the title both changed (theirs beside mine, "Use theirs"), the priority only they
    changed (a save keeps theirs)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        editor, ticket = await open_my_editor(pilot)
        await pilot.pause()  # composed
        editor.query_one("#title", Input).value = "VPN drops every 20 minutes on the home router"
        theirs = msgspec.structs.replace(
            ticket, version=ticket.version + 2, title="VPN drops every 20 minutes (all home users)",
            priority=Priority.LOW, updated_by=BOB.id,
        )  # fmt: skip
        await editor.show_conflicts(theirs)
        editor.say("Not saved: Bob Dubois changed the title and the priority.", "error")
        await still_cursors(pilot)

    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=run_before)
