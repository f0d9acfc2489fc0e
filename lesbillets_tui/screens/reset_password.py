"""An admin sets a new password for a user (twice, then a confirmation: every session of theirs ends)."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from lesbillets_tui.context import Desk
from lesbillets_tui.safe_text import safe_block, safe_line
from lesbillets_tui.screens.confirm import ConfirmScreen
from lesbillets_tui.screens.form_keys import FORM_FOCUS_BINDINGS
from protocol.errors import LesBilletsError
from protocol.messages import User


class ResetPasswordScreen(ModalScreen[bool]):
    """Dismisses with True once the server set the password, False when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Set password"),
        Binding("escape", "cancel", "Cancel"),
        *FORM_FOCUS_BINDINGS,  # a burst of password, Tab, password fills both fields, not the first
    ]

    def __init__(self, desk: Desk, user: User) -> None:
        super().__init__()
        self.desk = desk
        self.user = user

    def compose(self) -> ComposeResult:
        with Vertical(id="reset-password", classes="form-dialog") as box:
            box.border_title = f"New password for {safe_line(self.user.name)}"
            yield Label("New password", classes="field-label")
            yield Input(id="reset-password-new", password=True)
            yield Label("The same again", classes="field-label")
            yield Input(id="reset-password-again", password=True)
            yield Static("", id="reset-password-message", classes="form-message", markup=False)
            with Horizontal(id="reset-password-buttons", classes="form-buttons"):
                yield Button("Set password (ctrl+s)", variant="warning", id="reset-password-submit")
                yield Button("Cancel (escape)", id="reset-password-cancel")

    def on_mount(self) -> None:
        self.query_one("#reset-password-new", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "reset-password-again":
            self.action_submit()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit() if event.button.id == "reset-password-submit" else self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def say(self, text: str) -> None:
        self.query_one("#reset-password-message", Static).update(safe_block(text))

    def action_submit(self) -> None:
        password = self.query_one("#reset-password-new", Input).value
        if not password:
            self.say("Please type the new password.")
            return
        if password != self.query_one("#reset-password-again", Input).value:
            self.say("The two passwords differ; type them again.")
            return
        name = safe_line(self.user.name)

        def then(yes: bool | None) -> None:
            if yes:
                self._send(password)

        question = f"Set a new password for {name}? Every session of theirs ends; tell them the new one."
        self.app.push_screen(ConfirmScreen(question, yes="Set password"), then)

    @work(exclusive=True, exit_on_error=False, group="reset-password")
    async def _send(self, password: str) -> None:
        client = self.desk.client
        if client is None:
            self.say("Not connected to the server.")
            return
        try:
            await client.reset_password(self.user.id, password)
        except LesBilletsError as exc:
            self.say(f"The password was not changed: {exc}")
            return
        self.dismiss(True)
