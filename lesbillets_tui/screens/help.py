"""Every key, and the filter's little language."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KEYS: tuple[tuple[str, str], ...] = (
    ("j / k, ↓ / ↑", "move down / up"),
    ("g / G", "first / last ticket"),
    ("PgUp / PgDn", "a page up / down"),
    ("enter", "view the ticket"),
    ("e", "edit: takes the lock first"),
    ("n", "new ticket"),
    ("/", "filter (enter or escape returns to the table)"),
    ("s / S", "sort by the next column / reverse the sort"),
    ("r", "resync the whole table from the server"),
    ("?", "this help"),
    ("ctrl+p", "command palette: every action by name"),
    ("q", "quit"),
)
EDITOR_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+s", "save (and release the lock)"),
    ("escape", "cancel and release the lock (asks first if you changed something)"),
    ("ctrl+l", "extend your lock, or lock again after losing it"),
    ("tab / shift+tab", "next / previous field"),
)
FILTERS: tuple[tuple[str, str], ...] = (
    ("printer jam", "both words in the title or description"),
    ('"printer jam"', "that phrase"),
    ("status:open", "open, blocked, closed (several: status:open,blocked)"),
    ("priority:high", "low, normal, high, urgent"),
    ("assignee:me", "me, none, or the start of a name or email"),
    ("locked / unlocked", "only tickets with / without a lock"),
)


_KEY_WIDTH = max(len(key) for rows in (KEYS, EDITOR_KEYS, FILTERS) for key, _ in rows) + 2


def _table(rows: tuple[tuple[str, str], ...], width: int = _KEY_WIDTH) -> Content:
    return Content("\n").join(
        Content.assemble((key.ljust(width), "$text-accent bold"), (text, "")) for key, text in rows
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label("Keys", classes="help-heading")
            with VerticalScroll():
                yield Static(_table(KEYS))
                yield Label("In the ticket form", classes="help-heading")
                yield Static(_table(EDITOR_KEYS))
                yield Label("Filter", classes="help-heading")
                yield Static(_table(FILTERS))
            yield Label("escape closes", id="help-footer")

    def action_close(self) -> None:
        self.dismiss(None)
