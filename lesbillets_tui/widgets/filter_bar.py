"""The `/` filter box above the table, with what was not understood next to it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

PLACEHOLDER = "words  status:open  priority:high,urgent  assignee:me  locked  #1042"


class FilterBar(Horizontal):
    """Posts `FilterBar.Changed` on every keystroke and `FilterBar.Done` on enter (the filter stays) or escape.

    Escape clears the filter first: it is the key people press to get every ticket back.
    """

    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        display: none;
        background: $panel;
        &.-shown { display: block; }
        & > #filter-prompt { padding: 0 1; color: $text-accent; text-style: bold; }
        & > Input { border: none; height: 1; width: 1fr; padding: 0; background: $panel; }
        & > Input:focus { border: none; background-tint: $foreground 5%; }
        & > #filter-errors { color: $text-error; padding: 0 1; max-width: 60%; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear", "Clear filter", show=False)]

    class Changed(Message):
        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    class Done(Message):
        """The agent left the filter box."""

    _errors = ""

    def compose(self) -> ComposeResult:
        yield Label("Filter /", id="filter-prompt")
        yield Input(placeholder=PLACEHOLDER, id="filter-input", select_on_focus=False)
        yield Label("", id="filter-errors", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    @property
    def value(self) -> str:
        return self.input.value

    def open(self) -> None:
        self.add_class("-shown")
        self.input.focus()

    def show_errors(self, errors: tuple[str, ...]) -> None:
        text = " ".join(errors)
        if text != self._errors:  # the screen says it again on every event: an update would lay the bar out again
            self._errors = text
            self.query_one("#filter-errors", Label).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_done()

    def action_clear(self) -> None:
        """Escape: drop the filter and go back to the table (enter keeps it)."""
        self.input.value = ""  # posts Changed, which shows every ticket again
        self.action_done()

    def action_done(self) -> None:
        if not self.value.strip():
            self.remove_class("-shown")
        self.post_message(self.Done())
