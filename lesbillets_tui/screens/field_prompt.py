"""One line typed for a quick change (a due time, tags), checked as it is typed; enter applies, escape cancels."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from lesbillets_tui.due_tags import FieldError

Check = Callable[[str], object]
"""Reads the text as the change will; raises `FieldError` with a sentence when it cannot be sent."""


class FieldPrompt(ModalScreen[str | None]):
    """Dismisses with the text typed (checked by ``check``), or None when cancelled."""

    DEFAULT_CSS = """
    FieldPrompt {
        align: center middle;
        background: $background 60%;
        & > #field-prompt {
            width: 64;
            max-width: 100%;
            height: auto;
            padding: 0 1;
            border: round $primary;
            border-title-style: bold;
            background: $surface;
        }
        & Label { width: 100%; }
        & #field-prompt-hint { color: $text-muted; }
        & #field-prompt-error { color: $text-error; display: none; }
        & #field-prompt-error.-shown { display: block; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, hint: str, check: Check, *, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.prompt_title = title
        self.hint = hint
        self.check = check
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="field-prompt") as box:
            box.border_title = self.prompt_title
            yield Input(self.value, placeholder=self.placeholder, id="field-prompt-input")
            yield Label("", id="field-prompt-error", markup=False)
            yield Label(self.hint, id="field-prompt-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        error = self.query_one("#field-prompt-error", Label)
        error.update("")
        error.remove_class("-shown")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self.check(event.value)
        except FieldError as exc:
            error = self.query_one("#field-prompt-error", Label)
            error.update(str(exc))
            error.add_class("-shown")
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
