"""Text from the server is shown as the characters it has: never as markup, never as terminal control."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from textual.widgets import Select, Static

from lesbillets_server.auth import add_user
from lesbillets_server.storage import SqliteStore
from lesbillets_tui.safe_text import safe_block, safe_line
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.ticket_view import TicketViewScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.ticket_form import FormValues, invalid
from protocol.messages import ONE_LINE_TEXT, Priority, Status, Ticket
from tests.support import Agent, ServerHarness
from tests.tui.helpers import row_text, running_app, scripted_agent, table, terminal_output, until

# Stored before the protocol refused control characters (or written by another tool): the app must cope.
STORED_TITLE = "[bold red]pwned[/] \x1b[2J\x07\u202eevil"
STORED_DESCRIPTION = "first line\x1b]0;owned\x07\n\tsecond line \x00 \x9b6n"
# Markup is legitimate text, through the protocol and in a name given to `user add`.
MARKUP_TITLE = "[bold red]urgent[/] [link=https://example.com]click[/link] $accent"
EVE = Agent("eve@example.com", "eve-password", "[reverse]Eve[/] Admin")
# Nothing from the tickets' text may reach the terminal as control: Textual never sends these itself.
CONTROL = ["\x1b[2J", "\x1b]0;owned", "\x07", "\x00", "\x9b", "\u202e"]


async def _seed(server: ServerHarness) -> Ticket:
    """Eve (a markup name) and a ticket holding control characters, written straight into the database."""
    await server.stop()
    store = SqliteStore(server.config.db)
    try:
        eve = await add_user(store, EVE.email, EVE.name, EVE.password)
        now = datetime.now(UTC)
        ticket = Ticket(
            id=uuid.uuid4(),
            title=STORED_TITLE,
            description=STORED_DESCRIPTION,
            status=Status.OPEN,
            priority=Priority.HIGH,
            assignee=eve.id,
            created_at=now,
            created_by=eve.id,
            updated_at=now,
            updated_by=eve.id,
            version=1,
        )
        await store.create_tickets([ticket], now)
    finally:
        await store.close()
    await server.start()
    return ticket


def _assert_no_control(output: tuple[str, str]) -> None:
    text, raw = output
    for sequence in CONTROL:
        assert sequence not in raw, f"{sequence!r} reached the terminal"
    assert "pwned" not in text or "␛[2J" in text  # the title is there, drawn with its escape visible


async def test_hostile_text_is_shown_literally_everywhere(server: ServerHarness) -> None:
    """Table, preview, view, notification and form show stored control characters as symbols and markup as text."""
    stored = await _seed(server)
    async with scripted_agent(server, EVE) as eve:
        marked = await eve.create_ticket(MARKUP_TITLE, "[b]not bold[/b]", assignee=stored.created_by)
        await eve.lock(stored.id)
        async with running_app(server) as (app, pilot, recorder):
            await until(pilot, lambda: app.desk.model.total == 2 and app.desk.model.get(stored.id).lock is not None)  # type: ignore[union-attr]
            table(app).select_ticket(stored.id)
            await pilot.pause()

            row = row_text(app, "[bold red]pwned")
            assert "[bold red]pwned[/] ␛[2J␇�evil" in row  # literally, escape and bell visible
            assert row.count("[reverse]E") == 3  # lock holder, assignee and creator: a markup name as text
            assert f" {MARKUP_TITLE[:30]}" in row_text(app, "[bold red]urgent")
            shown = lambda: str(app.tickets_screen.query_one("TicketPreview", Static).render())  # type: ignore[union-attr]  # noqa: E731
            await until(pilot, lambda: "first line" in shown(), "the description, fetched in full")
            preview = shown()
            assert safe_line(STORED_TITLE) in preview
            assert "[reverse]Eve[/] Admin is editing this ticket" in preview
            assert "first line␛]0;owned␇\n\tsecond line ␀ �6n" in preview
            _assert_no_control(terminal_output(app))

            await pilot.press("e")  # Eve holds it: a notification quotes the title and her name
            await until(pilot, lambda: bool(recorder.notifications), "the notification")
            assert recorder.notifications[-1].startswith(f"“{safe_line(STORED_TITLE)}” is being edited by [reverse]")
            await pilot.pause()
            _assert_no_control(terminal_output(app))

            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TicketViewScreen), "the view")
            assert safe_line(STORED_TITLE) in str(app.screen.query_one("#fields", Static).render())
            body = lambda: str(app.screen.query_one("#view-description", Static).render())  # noqa: E731
            await until(pilot, lambda: body() == safe_block(STORED_DESCRIPTION), "the description in the view")
            _assert_no_control(terminal_output(app))
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen))

            table(app).select_ticket(marked.id)
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the form")
            await pilot.pause()
            assignee = app.screen.query_one("#assignee", Select)
            assert str(assignee.query_one("#label", Static).render()) == EVE.name  # not "Eve Admin" in reverse
            text, raw = terminal_output(app)
            assert MARKUP_TITLE in text and "[b]not bold[/b]" in text and EVE.name in text
            assert "\x1b[7m" not in raw  # reverse video appears nowhere: the name's markup was not applied


@pytest.mark.parametrize(
    ("title", "description", "problem"),
    [
        ("tab\tinside", "", "The title cannot hold control characters"),
        ("escape \x1b[2J", "", "The title cannot hold control characters"),
        ("override \u202e", "", "The title cannot hold control characters"),
        ("fine", "bell \x07", "The description cannot hold control characters"),
        ("fine", "carriage\rreturn", "The description cannot hold control characters"),
        ("[bold]markup[/] is text", "lines\n\tand tabs", ""),
    ],
    ids=["tab in title", "escape in title", "bidi override in title", "bell", "carriage return", "allowed"],
)
def test_form_refuses_what_the_server_would(title: str, description: str, problem: str) -> None:
    """The form says which text the server's rules refuse before sending it, as it does a missing title."""
    values = FormValues(title, description, Status.OPEN, Priority.NORMAL, None)
    assert invalid(values).startswith(problem) and bool(invalid(values)) == bool(problem)


@pytest.mark.parametrize(
    ("text", "line", "block"),
    [
        ("plain [b]markup[/b] 日本 🖨️", "plain [b]markup[/b] 日本 🖨️", "plain [b]markup[/b] 日本 🖨️"),
        ("\x1b[2J\x07\x00\x7f", "␛[2J␇␀␡", "␛[2J␇␀␡"),
        ("a\nb\tc", "a␊b␉c", "a\nb\tc"),
        ("windows\r\nline\rcr", "windows␍␊line␍cr", "windows\nline␍cr"),
        ("\x9b6n \u202eevil\u2066 \u2028", "�6n �evil� �", "�6n �evil� �"),
        ("right-to-left \u200f\u05e9\u200e", "right-to-left \u200f\u05e9\u200e", "right-to-left \u200f\u05e9\u200e"),
    ],
    ids=["ordinary", "C0 and DEL", "newline and tab", "carriage returns", "C1 and bidi", "rtl marks"],
)
def test_safe_text_draws_controls_as_symbols(text: str, line: str, block: str) -> None:
    """Controls become visible symbols; a block keeps its newlines and tabs; everything else is left alone."""
    assert (safe_line(text), safe_block(text)) == (line, block)


def test_safe_text_refuses_nothing_the_protocol_refuses_to_let_through() -> None:
    """Every character the wire's text rules refuse is replaced for display (newline and tab kept in blocks)."""
    rule = re.compile(ONE_LINE_TEXT)
    refused = [chr(code) for code in range(0x3000) if not rule.search(chr(code))]
    assert len(refused) == 0x20 + 0x21 + 2 + 5 + 4
    for character in refused:
        assert rule.search(safe_line(character)), f"U+{ord(character):04X} shown as is"
        assert character in "\n\t" or rule.search(safe_block(character)), f"U+{ord(character):04X} in a block"
