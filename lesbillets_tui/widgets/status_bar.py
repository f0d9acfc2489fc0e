"""The one-line bar under the table: connection state, who is logged in, unread inbox items, rows shown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from lesbillets_tui.safe_text import safe_line
from protocol.client import ConnectionState

_STATE_TEXT = {
    ConnectionState.CONNECTING: ("○ connecting…", "-pending"),
    ConnectionState.CONNECTED: ("● connected", "-ok"),
    ConnectionState.RECONNECTING: ("◌ reconnecting…", "-pending"),
    ConnectionState.CLOSED: ("○ offline", "-down"),
}


class StatusBar(Horizontal):
    """Connection state and user on the left, a note in the middle, "Showing N of M" and the sort on the right."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text-muted;
        & > Label { padding: 0 1; }
        & > #status-state.-ok { color: $text-success; }
        & > #status-state.-pending { color: $text-warning; text-style: bold; }
        & > #status-state.-down { color: $text-error; text-style: bold; }
        & > #status-user { color: $foreground; }
        & > #status-inbox.-unread { color: $text-accent; text-style: bold; }
        & > #status-note { width: 1fr; color: $text-warning; }
        & > #status-count { color: $foreground; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = ConnectionState.CONNECTING
        self.user = ""
        self.note = ""
        self.shown = 0
        self.total = 0
        self.sort = ""
        self.unread: int | None = None
        """Unread inbox items; None while the inbox is unknown (not fetched yet, or a server without one)."""
        self.marked = 0
        self.arriving = False
        """The table is still arriving (not `loading`: that is Textual's, and covers the widget with dots)."""
        self._shown: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Label(id="status-state", markup=False)
        yield Label(id="status-user", markup=False)
        yield Label(id="status-inbox", markup=False)
        yield Label(id="status-note", markup=False)
        yield Label(id="status-count", markup=False)
        yield Label(id="status-sort", markup=False)

    def on_mount(self) -> None:
        self._render_all()

    def show(
        self,
        *,
        state: ConnectionState | None = None,
        user: str | None = None,
        note: str | None = None,
        shown: int | None = None,
        total: int | None = None,
        sort: str | None = None,
        unread: int | None = None,
        marked: int | None = None,
        loading: bool | None = None,
    ) -> None:
        """Change some of the bar's parts (the others stay); ``loading`` while the table is still arriving."""
        if state is not None:
            self.state = state
        if user is not None:
            self.user = user
        if note is not None:
            self.note = note
        if shown is not None:
            self.shown = shown
        if total is not None:
            self.total = total
        if sort is not None:
            self.sort = sort
        if unread is not None:
            self.unread = unread
        if marked is not None:
            self.marked = marked
        if loading is not None:
            self.arriving = loading
        if self.is_mounted:
            self._render_all()

    def _render_all(self) -> None:
        text, cls = _STATE_TEXT[self.state]
        state = self.query_one("#status-state", Label)
        self._set("#status-state", text)
        state.set_classes(cls)
        self._set("#status-user", self.user)
        self._set("#status-note", self.note)
        self._set("#status-inbox", "" if self.unread is None else f"✉ {self.unread:,} unread")
        inbox = self.query_one("#status-inbox", Label)
        inbox.display = self.unread is not None
        inbox.set_class(bool(self.unread), "-unread")
        count = f"Showing {self.shown:,} of {self.total:,}"
        if self.arriving:
            count = f"{count} · loading…" if self.total else "Loading…"
        if self.marked:
            count = f"{self.marked:,} marked · {count}"
        self._set("#status-count", count)
        self._set("#status-sort", self.sort)

    def _set(self, selector: str, text: str) -> None:
        # Updating a label re-lays out the bar: skip it when nothing changed (most live events).
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Label).update(safe_line(text))  # the user's name and notes come from the server
