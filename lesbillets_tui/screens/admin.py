"""Users, for admins (`U`): every account, disabled ones too; add one, disable or enable one, reset a password.

The server enforces who may do this (`forbidden` for agents); the app offers the screen to admins only.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from lesbillets_tui.context import Desk
from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.screens.add_user import AddUserScreen
from lesbillets_tui.screens.confirm import ConfirmScreen
from lesbillets_tui.screens.reset_password import ResetPasswordScreen
from protocol.errors import LesBilletsError
from protocol.messages import Account, Role, User


def who(user: User) -> str:
    return f"{safe_line(user.name)} ({safe_line(user.email)})"


class UsersTable(DataTable[str]):
    """The users, moved through with the ticket table's keys too (j/k, g/G), not only the arrows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "First", show=False),
        Binding("G", "scroll_bottom", "Last", show=False),
    ]


class AdminScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    AdminScreen {
        align: center middle;
        background: $background 60%;
        & > #admin {
            width: 110;
            max-width: 100%;
            height: 80%;
            padding: 0 1;
            border: round $primary;
            border-title-style: bold;
            background: $surface;
        }
        & DataTable { height: 1fr; }
        & #admin-message { color: $text-muted; height: auto; }
        & #admin-message.-error { color: $text-error; text-style: bold; }
        & #admin-footer { color: $text-muted; dock: bottom; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add user"),
        Binding("d", "toggle_disabled", "Disable / enable"),
        Binding("p", "reset_password", "Reset password"),
        Binding("r", "refresh", "Refresh"),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.accounts: list[Account] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="admin") as box:
            box.border_title = "Users"
            yield UsersTable(cursor_type="row", zebra_stripes=True, id="admin-table")
            yield Label("Loading the users…", id="admin-message", markup=False)
            yield Label("a add · d disable or enable · p reset password · r refresh · escape close", id="admin-footer")

    @property
    def table(self) -> UsersTable:
        return self.query_one("#admin-table", UsersTable)

    def on_mount(self) -> None:
        self.table.add_columns("Name", "Email", "Role", "State")
        self.table.focus()
        self.action_refresh()

    @property
    def selected(self) -> Account | None:
        row = self.table.cursor_row
        return self.accounts[row] if 0 <= row < len(self.accounts) else None

    def say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#admin-message", Label)
        message.update(text)
        message.set_class(error, "-error")

    def show_accounts(self, accounts: list[Account]) -> None:
        keep = self.selected.user.id if self.selected is not None else None
        self.accounts = sorted(accounts, key=lambda account: (account.disabled, account.user.name.casefold()))
        table = self.table
        table.clear()
        for account in self.accounts:
            user = account.user
            table.add_row(
                safe_line(user.name),
                safe_line(user.email),
                "admin" if user.role is Role.ADMIN else "agent",
                "disabled" if account.disabled else "active",
                key=str(user.id),
            )
        row = next((n for n, account in enumerate(self.accounts) if account.user.id == keep), 0)
        if self.accounts:
            table.move_cursor(row=row)

    # --- actions ------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._load()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_add(self) -> None:
        def then(user: User | None) -> None:
            if user is not None:
                self._load(f"Added {who(user)}.")

        self.app.push_screen(AddUserScreen(self.desk), then)

    def action_toggle_disabled(self) -> None:
        account = self.selected
        if account is None:
            return
        user = account.user
        me = self.desk.user
        if me is not None and user.id == me.id:
            self.say("You cannot disable yourself: ask another admin.", error=True)
            return
        if account.disabled:
            question = f"Enable {who(user)}? They can log in again."
        else:
            question = f"Disable {who(user)}? Their sessions end and their locks are released."

        def then(yes: bool | None) -> None:
            if yes:
                self._set_disabled(account, not account.disabled)

        self.app.push_screen(ConfirmScreen(question, yes="Enable" if account.disabled else "Disable"), then)

    def action_reset_password(self) -> None:
        account = self.selected
        if account is None:
            return

        def then(done: bool | None) -> None:
            if done:
                self.say(f"Set a new password for {who(account.user)}; their sessions ended.")

        self.app.push_screen(ResetPasswordScreen(self.desk, account.user), then)

    # --- network ------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="admin-load")
    async def _load(self, done: str = "") -> None:
        """Fetch the list again; ``done`` is said once it is shown (what the admin just did)."""
        client = self.desk.client
        if client is None:
            self.say("Not connected to the server.", error=True)
            return
        try:
            accounts = await client.list_accounts()
        except LesBilletsError as exc:
            self.say(f"Could not list the users: {exc}", error=True)
            return
        self.show_accounts(accounts)
        disabled = sum(account.disabled for account in accounts)
        self.say(done or f"{len(accounts):,} users, {disabled:,} of them disabled.")

    @work(exclusive=True, exit_on_error=False, group="admin-change")
    async def _set_disabled(self, account: Account, disabled: bool) -> None:
        client = self.desk.client
        if client is None:
            self.say("Not connected to the server.", error=True)
            return
        try:
            await client.set_disabled(account.user.id, disabled)
        except LesBilletsError as exc:
            self.say(f"Could not {'disable' if disabled else 'enable'} {who(account.user)}: {exc}", error=True)
            return
        self._load(f"{'Disabled' if disabled else 'Enabled'} {who(account.user)}.")
