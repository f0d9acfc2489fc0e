"""The ticket's history beside the conversation: one line per change, oldest first, the newest in view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Label, Static

from lesbillets_tui.palette import MUTED
from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.timefmt import ago
from lesbillets_tui.timeline import TimelineLine
from lesbillets_tui.widgets.sticky_scroll import StickyScroll


def line_content(line: TimelineLine, now: datetime) -> Content:
    return Content.assemble(
        (safe_line(line.actor), "bold"),
        (" · ", MUTED),
        safe_line(line.what),
        (f" · {ago(line.at, now)}", MUTED),
    )


class Timeline(StickyScroll):
    """History lines; `show` replaces them; the newest stays in view unless the agent scrolled up."""

    DEFAULT_CSS = """
    Timeline {
        height: 1fr;
        padding: 0 1;
        background: $surface;
        border-left: solid $panel-lighten-2;
        & > #timeline-heading { text-style: bold; color: $text-primary; }
        & > #timeline-lines { height: auto; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[TimelineLine] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Label("History", id="timeline-heading")
        yield Static(Content.styled("Loading the history…", MUTED), id="timeline-lines")

    def show(self, lines: Sequence[TimelineLine], now: datetime) -> None:
        self.lines, self.loaded = list(lines), True
        self.tick(now)

    def say(self, text: str) -> None:
        """Instead of lines: why there are none (not connected, not found)."""
        self.query_one("#timeline-lines", Static).update(Content.styled(text, MUTED))

    def tick(self, now: datetime) -> None:
        """Redraw (ages move: "3m ago")."""
        if not self.loaded:
            return
        if self.lines:
            body = Content("\n").join(line_content(line, now) for line in self.lines)
        else:
            body = Content.styled("No changes yet.", MUTED)
        self.query_one("#timeline-lines", Static).update(body)

    def text(self) -> list[str]:
        """The lines as shown."""
        return str(self.query_one("#timeline-lines", Static).render()).splitlines()
