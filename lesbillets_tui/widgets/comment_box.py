"""The comment box at the foot of the ticket view: a new comment, or the edit of one of the agent's own.

The box only shows and takes text; the screen keeps every keystroke in the app's drafts (lesbillets_tui.drafts),
so what is typed here outlives the box.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Label, Static, TextArea

NEW_HEADING = "New comment (Markdown) · ctrl+s sends · no lock needed"
EDIT_HEADING = "Editing your comment · ctrl+s saves · escape stops editing"
FLEETING_S = 4.0
"""How long a fleeting sentence (news such as "Connected again.") stays, unless a key goes first."""


class CommentBox(Vertical):
    """A heading saying what the box holds, the text, and a line for what happened (sent, not sent, why)."""

    DEFAULT_CSS = """
    CommentBox {
        height: auto;
        padding: 0 1;
        background: $surface;
        border-top: solid $panel-lighten-2;
        & > #box-heading { color: $text-muted; width: 1fr; }
        &.-editing > #box-heading { color: $text-warning; text-style: bold; }
        & > TextArea { height: 6; }
        & > #box-status { height: auto; color: $text-muted; }
        & > #box-status.-ok { color: $text-success; }
        & > #box-status.-warning { color: $text-warning; }
        & > #box-status.-error { color: $text-error; text-style: bold; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._fading: Timer | None = None
        """The timer of the fleeting sentence shown (None: the sentence stays until the next one)."""

    def compose(self) -> ComposeResult:
        yield Label(NEW_HEADING, id="box-heading", markup=False)
        yield TextArea(
            "", id="box-text", soft_wrap=True, tab_behavior="focus", placeholder="Write a comment… (press c)"
        )
        status = Static("", id="box-status", markup=False)
        status.display = False
        yield status

    @property
    def area(self) -> TextArea:
        return self.query_one("#box-text", TextArea)

    @property
    def text(self) -> str:
        return self.area.text

    def hold(self, text: str, *, editing: bool) -> None:
        """Put ``text`` in the box: a new comment's, or (``editing``) a comment's being edited."""
        self.set_class(editing, "-editing")
        self.query_one("#box-heading", Label).update(EDIT_HEADING if editing else NEW_HEADING)
        area = self.area
        if area.text != text:
            area.load_text(text)
            area.move_cursor(area.document.end)

    def say(self, text: str, kind: str = "info", *, fleeting: bool = False) -> None:
        """A sentence under the box; ``kind`` is info, ok, warning or error (plain text, never markup).

        A ``fleeting`` one goes after `FLEETING_S` or at the next keystroke (see `let_fade`).
        """
        self._stop_fading()
        status = self.query_one("#box-status", Static)
        status.update(text)
        status.set_classes(f"-{kind}")
        status.display = bool(text)
        if fleeting:
            self.let_fade()

    def let_fade(self) -> None:
        """Let the sentence shown now go after `FLEETING_S`, or at the next keystroke (`keystroke`): news that
        is stale a moment later ("Connected again.") must not read as the box's state."""
        if not self.said or self._fading is not None:
            return
        self._fading = self.set_timer(FLEETING_S, self._fade)

    def keystroke(self) -> None:
        """The agent pressed a key: a fleeting sentence has been seen."""
        if self._fading is not None:
            self.say("")  # stops its timer too

    def on_text_area_changed(self) -> None:
        # The box eats the keys typed into it before the screen sees them; the change they make still bubbles.
        self.keystroke()

    def _fade(self) -> None:
        self._fading = None
        self.say("")

    def _stop_fading(self) -> None:
        if self._fading is not None:
            self._fading.stop()
            self._fading = None

    @property
    def said(self) -> str:
        return str(self.query_one("#box-status", Static).render())
