"""The one-line bar under the table: connection state, who is logged in, unread inbox items, rows shown."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.table_layout import fit
from protocol.client import ConnectionState

_STATE_TEXT = {
    ConnectionState.CONNECTING: ("○ connecting…", "-pending"),
    ConnectionState.CONNECTED: ("● connected", "-ok"),
    ConnectionState.RECONNECTING: ("◌ reconnecting…", "-pending"),
    ConnectionState.CLOSED: ("○ offline", "-down"),
}


LABEL_PADDING = 2
"""Each label's padding (``padding: 0 1``)."""


def count_texts(
    shown: int, total: int, sort: str, *, marked: int = 0, arriving: bool = False, partial: bool = False
) -> list[tuple[str, str]]:
    """The bar's right end, its count and its sort, from the longest wording to the shortest; the sort's arrow is in
    every one (it is the only place saying which way the table runs).

    ``partial``: the counts are what the first load has brought so far, not how many tickets the helpdesk has.
    """
    if arriving and not total:
        counts = ["Loading…"]
    elif arriving and partial:
        some = f"{shown:,} of {total:,}" if shown != total else f"{total:,}"
        counts = [
            f"Showing {some} loaded so far…" if shown != total else f"{total:,} loaded so far…",
            f"{some} so far…",
        ]
    else:
        counts = [f"Showing {shown:,} of {total:,}", f"{shown:,} of {total:,}"]
        if arriving:  # a reload: the table shown is the whole one from before, while the new one arrives
            counts = [f"{count} · loading…" for count in counts]
    if marked:
        counts = [f"{marked:,} marked · {count}" for count in counts]
    # The sort says "by updated ▼": narrow, it joins the count without its "by".
    joined = f"{counts[-1]} · {sort.removeprefix('by ')}" if sort else counts[-1]
    return [(count, sort) for count in counts] + [(joined, "")]


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
        self.partial = False
        """The counts are of the first load's rows so far (while `arriving`), not of the whole table."""
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

    def on_resize(self, _event: events.Resize) -> None:
        self._render_all()  # the wording of the count depends on the width

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
        partial: bool | None = None,
    ) -> None:
        """Change some of the bar's parts (the others stay); ``loading`` while the table is still arriving,
        ``partial`` while what has arrived is only part of it (a first load: no table from before to count)."""
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
        if partial is not None:
            self.partial = partial
        if self.is_mounted:
            self._render_all()

    def _render_all(self) -> None:
        text, cls = _STATE_TEXT[self.state]
        state = self.query_one("#status-state", Label)
        self._set("#status-state", text)
        state.set_classes(cls)
        self._set("#status-note", self.note)
        self._set("#status-inbox", "" if self.unread is None else f"✉ {self.unread:,} unread")
        inbox = self.query_one("#status-inbox", Label)
        inbox.display = self.unread is not None
        inbox.set_class(bool(self.unread), "-unread")
        choices = count_texts(
            self.shown, self.total, self.sort, marked=self.marked, arriving=self.arriving, partial=self.partial
        )
        user = safe_line(self.user)
        count, sort = choices[0]
        width = self.size.width
        if width:  # laid out: the longest wording that fits beside the rest (the note gives way: it is 1fr)
            fixed = _cells(text) + LABEL_PADDING  # the state, and the note's padding
            if inbox.display:
                fixed += _cells(self._shown["#status-inbox"])
            count, sort = next(
                (
                    (count, sort)
                    for count, sort in choices
                    if fixed + _cells(user) + _cells(count) + _cells(sort) <= width
                ),
                choices[-1],
            )
            room = width - fixed - _cells(count) - _cells(sort) - LABEL_PADDING
            if cell_len(user) > room:  # the agent knows who they are; the count and the arrow matter more
                user = fit(user, room) if room > 1 else ""
        self._set("#status-user", user)
        self.query_one("#status-user", Label).display = bool(user)
        self._set("#status-count", count)
        self._set("#status-sort", sort)
        self.query_one("#status-sort", Label).display = bool(sort)

    def _set(self, selector: str, text: str) -> None:
        # Updating a label re-lays out the bar: skip it when nothing changed (most live events).
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Label).update(safe_line(text))  # the user's name and notes come from the server


def _cells(text: str) -> int:
    """A label's cells with its padding; none when it is empty (it is not displayed)."""
    return cell_len(text) + LABEL_PADDING if text else 0
