"""The forms as a tester drove them with `tmux send-keys` (a whole burst of keys at once, like a password
manager): admin forms that kept every key in their first field, the new-ticket form's keys and hints, and a login
form that threw away a good password after a bad address."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Input, Static

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.screens.add_user import AddUserScreen
from lesbillets_tui.screens.confirm import ConfirmScreen
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.login import LoginScreen
from lesbillets_tui.screens.reset_password import ResetPasswordScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from protocol.client import connect
from protocol.messages import Role
from tests.conftest import ServerFactory
from tests.support import ADMIN, ALICE, BOB, ServerHarness
from tests.tui.helpers import running_app, scripted_agent, terminal_output, until
from tests.tui.test_admin_live import open_users
from tests.tui.test_rough_edges import burst


def bound_keys(app: LesBilletsApp) -> set[str]:
    """The keys the current screen answers to (the footer shows those it does not hide)."""
    return {active.binding.key for active in app.screen.active_bindings.values() if active.enabled}


def footer(app: LesBilletsApp) -> str:
    text, _ = terminal_output(app)
    return text.splitlines()[-1]


async def test_add_user_form_takes_email_tab_name_tab_password_in_one_burst(server: ServerHarness) -> None:
    """Email, Tab, name, Tab, password, enter typed at once fill the three fields and add the user."""
    async with running_app(server, ADMIN) as (app, pilot, _):
        users = await open_users(app, pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AddUserScreen), "the form")
        form = app.screen
        burst(app, "dan@example.com\tDan Newman\tpw-dan-123")
        password = form.query_one("#add-user-password", Input)
        await until(pilot, lambda: password.value == "pw-dan-123", "the password", within=3.0)
        assert form.query_one("#add-user-email", Input).value == "dan@example.com"
        assert form.query_one("#add-user-name", Input).value == "Dan Newman"
        burst(app, "\r")
        await until(pilot, lambda: app.screen is users and len(users.accounts) == 4, "four users")
        dan = next(account for account in users.accounts if account.user.email == "dan@example.com")
        assert dan.user.name == "Dan Newman" and dan.user.role is Role.AGENT
    async with connect(server.url) as client:
        assert (await client.login("dan@example.com", "pw-dan-123")).user.name == "Dan Newman"


async def test_reset_password_form_takes_both_passwords_and_enter_in_one_burst(server: ServerHarness) -> None:
    """The new password, Tab, the same again, enter typed at once fill both fields and ask to confirm."""
    async with running_app(server, ADMIN) as (app, pilot, _):
        users = await open_users(app, pilot)
        users.table.move_cursor(row=next(n for n, a in enumerate(users.accounts) if a.user.email == BOB.email))
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ResetPasswordScreen), "the form")
        form = app.screen
        burst(app, "newpass-123\tnewpass-123\r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation", within=3.0)
        assert form.query_one("#reset-password-new", Input).value == "newpass-123"
        assert form.query_one("#reset-password-again", Input).value == "newpass-123"
        await pilot.press("y")
        await until(pilot, lambda: app.screen is users, "back to the users")
    async with connect(server.url) as client:
        assert (await client.login(BOB.email, "newpass-123")).user.email == BOB.email


async def test_new_ticket_form_has_no_lock_key_and_the_edit_form_has(server: ServerHarness) -> None:
    """ctrl+l (lock / extend) is neither bound nor in the footer for a new ticket; a locked ticket's form has it."""
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("VPN drops")
    async with running_app(server) as (app, pilot, _):
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.is_new, "the new-ticket form")
        await pilot.pause()
        assert "ctrl+s" in bound_keys(app) and "ctrl+l" not in bound_keys(app)
        assert "Save" in footer(app) and "Lock" not in footer(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, TicketsScreen), "the table")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen) and not app.screen.is_new, "the edit form")
        await pilot.pause()
        assert "ctrl+l" in bound_keys(app) and "Lock / extend" in footer(app)


async def test_due_field_hint_names_no_date(server: ServerHarness) -> None:
    """The Due field's placeholder shows the forms it takes, not an example date that will one day be past."""
    async with running_app(server) as (app, pilot, _):
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the new-ticket form")
        hint = str(app.screen.query_one("#due_at", Input).placeholder)
        assert not re.search(r"\d{4}-\d{2}-\d{2}", hint), hint
        assert "+3h" in hint and "YYYY-MM-DD HH:MM" in hint


@pytest.mark.parametrize("where", ["invalid port", "nothing listening"])
async def test_login_keeps_the_password_after_an_address_error(
    server: ServerHarness, server_factory: ServerFactory, where: str
) -> None:
    """After an address the client cannot use or reach, the password stays: fixing the address and enter log in."""
    if where == "invalid port":
        url = "ws://127.0.0.1:99999"
    else:
        stopped = await server_factory()
        url = stopped.url
        await stopped.stop()
    app = LesBilletsApp(url, autoconnect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        login = app.screen
        burst(app, f"{ALICE.email}\t{ALICE.password}\r")
        message = login.query_one("#login-message", Static)
        await until(pilot, lambda: message.has_class("-error"), "the refusal")
        assert login.query_one("#login-password", Input).value == ALICE.password
        login.query_one("#login-url", Input).value = server.url
        await pilot.press("enter")  # the focus is back in the password field
        await until(pilot, lambda: isinstance(app.screen, TicketsScreen) and app.synced, "the table")


async def test_login_clears_only_the_password_after_a_wrong_one(server: ServerHarness) -> None:
    """The server's "wrong password" empties the password field (and keeps the email), ready for the right one."""
    app = LesBilletsApp(server.url, autoconnect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        login = app.screen
        burst(app, f"{ALICE.email}\tnot-the-password\r")
        message = login.query_one("#login-message", Static)
        await until(pilot, lambda: message.has_class("-error"), "the refusal")
        assert login.query_one("#login-password", Input).value == ""
        assert login.query_one("#login-email", Input).value == ALICE.email
        burst(app, f"{ALICE.password}\r")
        await until(pilot, lambda: isinstance(app.screen, TicketsScreen) and app.synced, "the table")
