"""Server, email and password; what went wrong is said right under the form."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from lesbillets_tui.messages import LoginRequested
from lesbillets_tui.safe_text import safe_block
from lesbillets_tui.screens.form_keys import FORM_FOCUS_BINDINGS
from lesbillets_tui.widgets.keys_footer import KeysFooter


class LoginScreen(Screen[None]):
    """Asks the app for a session (`LoginRequested`); the app answers with `set_busy`, `show_error` or by leaving."""

    BINDINGS: ClassVar[list[BindingType]] = [*FORM_FOCUS_BINDINGS]

    def __init__(self, url: str, email: str = "") -> None:
        super().__init__()
        self.url = url
        self.email = email
        self._message: tuple[str, str] | None = None  # said before the screen was mounted

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="login"):
            yield Label("Les Billets", id="login-title")
            yield Label("Live tickets for terminal agents", id="login-tagline")
            yield Label("Server", classes="field-label")
            yield Input(self.url, id="login-url", placeholder="ws://host:8765")
            yield Label("Email", classes="field-label")
            yield Input(self.email, id="login-email", placeholder="you@example.com")
            yield Label("Password", classes="field-label")
            yield Input(id="login-password", password=True)
            yield Button("Log in", variant="primary", id="login-button")
            yield Static("", id="login-message", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        target = "#login-password" if self.email else "#login-email"
        self.query_one(target, Input).focus()
        if self._message is not None:
            text, kind = self._message
            self.show_error(text) if kind == "error" else self.set_busy(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "login-password":
            self._submit()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._submit()

    def _submit(self) -> None:
        url = self.query_one("#login-url", Input).value.strip()
        email = self.query_one("#login-email", Input).value.strip()
        password = self.query_one("#login-password", Input).value
        missing = [name for name, value in (("server", url), ("email", email), ("password", password)) if not value]
        if missing:
            self.show_error(f"Please fill in the {' and '.join(missing)}.")
            return
        if not url.startswith(("ws://", "wss://")):
            self.show_error("The server address starts with ws:// or wss://, like ws://127.0.0.1:8765.")
            return
        self.post_message(LoginRequested(url, email, password))

    def set_busy(self, text: str) -> None:
        self._message = (text, "info")
        if not self.is_mounted:
            return
        self.query_one("#login-button", Button).disabled = True
        message = self.query_one("#login-message", Static)
        message.update(safe_block(text))
        message.set_classes("-info")

    def show_error(self, text: str, *, refused: bool = False) -> None:
        """Say ``text``; ``refused``: the server refused the email or password, so the password is typed again."""
        self._message = (text, "error")
        if not self.is_mounted:
            return
        self.query_one("#login-button", Button).disabled = False
        message = self.query_one("#login-message", Static)
        message.update(safe_block(text))  # the server's sentence
        message.set_classes("-error")
        password = self.query_one("#login-password", Input)
        if refused:
            # only a refused password is worth retyping: after a wrong address or a dropped link it is still right
            password.value = ""
        if self.query_one("#login-email", Input).value:
            password.focus()
