"""Every key, and the filter's little language."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KEYS: tuple[tuple[str, str], ...] = (
    ("j / k, ↓ / ↑", "move down / up"),
    ("g / G", "first / last ticket"),
    ("PgUp / PgDn", "a page up / down"),
    ("enter", "view the ticket"),
    ("e", "edit: takes the lock first"),
    ("n", "new ticket"),
    ("/", "filter: enter keeps it, escape clears it"),
    ("s / S", "sort by the next column / reverse the sort"),
    ("r", "resync the whole table from the server"),
    ("i", "inbox: assignments, mentions, broken locks"),
    ("space", "mark a ticket (quick changes act on all marked)"),
    ("a / c / o / p", "assign to me / close / reopen / set priority"),
    ("d / t", "set the due time / add or remove tags"),
    ("escape", "clear the marks"),
    ("?", "this help"),
    ("ctrl+p", "command palette: every action by name"),
    ("q", "quit"),
)
ADMIN_KEYS: tuple[tuple[str, str], ...] = (
    ("U", "users: add, disable or enable, reset a password"),
    ("B", "break another agent's lock on the selected ticket"),
)
EDITOR_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+s", "save (and release the lock)"),
    ("escape", "cancel and release the lock (asks first if you changed something)"),
    ("ctrl+l", "extend your lock, or lock again after losing it"),
    ("tab / shift+tab", "next / previous field"),
)
VIEW_KEYS: tuple[tuple[str, str], ...] = (
    ("c", "write a comment (Markdown; needs no lock)"),
    ("ctrl+s", "send it, or save the edit of your comment"),
    ("E", "edit your last comment (enter: the one under the cursor)"),
    ("escape", "leave the comment box, then close the view"),
    ("e", "edit the ticket's fields: takes the lock first"),
    ("t", "hide the history (narrow screen: show it instead)"),
    ("", "what you typed is kept per ticket until it is sent"),
)
FILTERS: tuple[tuple[str, str], ...] = (
    ("printer jam", "both words in the title or description"),
    ('"printer jam"', "that phrase"),
    ("status:open", "open, blocked, closed (several: status:open,blocked)"),
    ("priority:high", "low, normal, high, urgent"),
    ("assignee:me", "me, none, or the start of a name or email"),
    ("locked / unlocked", "only tickets with / without a lock"),
    ("tag:vpn", "tickets with that tag"),
    ("#1042", "ticket 1042; enter goes to it in the whole table"),
)


_KEY_WIDTH = max(len(key) for rows in (KEYS, ADMIN_KEYS, EDITOR_KEYS, VIEW_KEYS, FILTERS) for key, _ in rows) + 2


class HelpTable(Grid):
    """Keys on the left, what they do on the right; a long explanation wraps under itself, never off the edge."""

    DEFAULT_CSS = f"""
    HelpTable {{
        grid-size: 2;
        grid-columns: {_KEY_WIDTH} 1fr;
        grid-rows: auto;
        height: auto;
        & > .help-key {{ color: $text-accent; text-style: bold; }}
    }}
    """

    def __init__(self, rows: tuple[tuple[str, str], ...]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        for key, text in self.rows:
            yield Static(key, classes="help-key", markup=False)
            yield Static(text, markup=False)


class HelpScreen(ModalScreen[None]):
    """Fits any terminal from 80x24 up: the box shrinks to the screen and its body scrolls (arrows, page keys).
    An admin's keys show only to admins, as in the footer and the palette."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, *, admin: bool = False) -> None:
        super().__init__()
        self.admin = admin

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            with VerticalScroll(id="help-body"):
                yield Label("Keys", classes="help-heading")
                yield HelpTable(KEYS)
                if self.admin:
                    yield Label("Admins", classes="help-heading")
                    yield HelpTable(ADMIN_KEYS)
                yield Label("In the ticket view", classes="help-heading")
                yield HelpTable(VIEW_KEYS)
                yield Label("In the ticket form", classes="help-heading")
                yield HelpTable(EDITOR_KEYS)
                yield Label("Filter", classes="help-heading")
                yield HelpTable(FILTERS)
            yield Label("escape closes · ↑ ↓ page keys scroll", id="help-footer")

    def action_close(self) -> None:
        self.dismiss(None)
