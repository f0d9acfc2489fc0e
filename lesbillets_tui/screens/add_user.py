"""An admin adds a user: email, name, password and role; the server's rules decide, its sentence shows here."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from lesbillets_tui.context import Desk
from lesbillets_tui.safe_text import safe_block
from lesbillets_tui.screens.form_keys import FORM_FOCUS_BINDINGS
from protocol.errors import LesBilletsError
from protocol.messages import Role, User


class AddUserScreen(ModalScreen[User | None]):
    """Dismisses with the new user, or None when cancelled; a refusal keeps the form and says why."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Add"),
        Binding("escape", "cancel", "Cancel"),
        *FORM_FOCUS_BINDINGS,  # a burst of email, Tab, name... fills each field, not the first
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk

    def compose(self) -> ComposeResult:
        with Vertical(id="add-user", classes="form-dialog") as box:
            box.border_title = "Add a user"
            yield Label("Email", classes="field-label")
            yield Input(id="add-user-email", placeholder="ana@example.com")
            yield Label("Name", classes="field-label")
            yield Input(id="add-user-name", placeholder="Ana Lopes")
            yield Label("Password", classes="field-label")
            yield Input(id="add-user-password", password=True)
            yield Checkbox("Admin (can manage users and break locks)", id="add-user-admin")
            yield Static("", id="add-user-message", classes="form-message", markup=False)
            with Horizontal(id="add-user-buttons", classes="form-buttons"):
                yield Button("Add (ctrl+s)", variant="primary", id="add-user-submit")
                yield Button("Cancel (escape)", id="add-user-cancel")

    def on_mount(self) -> None:
        self.query_one("#add-user-email", Input).focus()

    def value(self, name: str) -> str:
        return self.query_one(f"#add-user-{name}", Input).value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "add-user-password":
            self.action_submit()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit() if event.button.id == "add-user-submit" else self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        email, name, password = self.value("email").strip(), self.value("name").strip(), self.value("password")
        missing = [label for label, value in (("email", email), ("name", name), ("password", password)) if not value]
        if missing:
            self.say(f"Please fill in the {' and '.join(missing)}.")
            return
        role = Role.ADMIN if self.query_one("#add-user-admin", Checkbox).value else Role.AGENT
        self._send(email, name, password, role)

    def say(self, text: str) -> None:
        self.query_one("#add-user-message", Static).update(safe_block(text))

    @work(exclusive=True, exit_on_error=False, group="add-user")
    async def _send(self, email: str, name: str, password: str, role: Role) -> None:
        client = self.desk.client
        if client is None:
            self.say("Not connected to the server.")
            return
        self.query_one("#add-user-submit", Button).disabled = True
        try:
            user = await client.add_user(email, name, password, role=role)
        except LesBilletsError as exc:
            self.say(f"The user was not added: {exc}")
            return
        finally:
            self.query_one("#add-user-submit", Button).disabled = False
        self.dismiss(user)
