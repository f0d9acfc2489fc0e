"""Admin powers in the app against a real server: the users screen (add, disable, reset a password) for admins
only, and breaking another agent's lock after a confirmation naming them and how long they have held it."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.screens.add_user import AddUserScreen
from lesbillets_tui.screens.admin import AdminScreen
from lesbillets_tui.screens.confirm import ConfirmScreen
from lesbillets_tui.screens.help import HelpScreen
from lesbillets_tui.screens.reset_password import ResetPasswordScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from protocol.client import connect
from protocol.errors import Forbidden, Unauthorized
from protocol.messages import Role
from tests.support import ADMIN, ALICE, BOB, Agent, ServerHarness
from tests.tui.helpers import running_app, scripted_agent, table, until


def rendered(widget: Static | Label) -> str:
    return str(widget.render())


async def open_users(app: LesBilletsApp, pilot: Pilot[None]) -> AdminScreen:
    await pilot.press("U")
    await until(pilot, lambda: isinstance(app.screen, AdminScreen) and len(app.screen.accounts) >= 3, "the users")
    assert isinstance(app.screen, AdminScreen)
    return app.screen


async def test_admin_adds_a_user_who_can_then_log_in(server: ServerHarness) -> None:
    """U lists the users; a, the form, ctrl+s: the new user is listed and can log in."""
    async with running_app(server, ADMIN) as (app, pilot, _):
        users = await open_users(app, pilot)
        assert {account.user.email for account in users.accounts} == {ALICE.email, BOB.email, ADMIN.email}
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AddUserScreen), "the form")
        await pilot.press(*"ana@example.com", "tab", *"Ana Lopes", "tab", *"ana-password")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, AdminScreen) and len(users.accounts) == 4, "four users")
        ana = next(account for account in users.accounts if account.user.email == "ana@example.com")
        assert ana.user.name == "Ana Lopes" and ana.user.role is Role.AGENT and not ana.disabled
        assert "Added Ana Lopes" in rendered(users.query_one("#admin-message", Label))
    async with connect(server.url) as client:
        assert (await client.login("ana@example.com", "ana-password")).user.name == "Ana Lopes"


@pytest.mark.parametrize(
    ("email", "name", "password", "said"),
    [
        ("", "Ana", "pw-pw-pw", "Please fill in the email."),
        ("ana@example.com", "", "", "Please fill in the name and password."),
        (BOB.email, "Another Bob", "pw-pw-pw", "The user was not added:"),  # the server refuses a taken email
        ("ana@example.com", "Ana\x1b[2J", "pw-pw-pw", "The user was not added:"),  # and a control character
    ],
)
async def test_a_refused_user_keeps_the_form_and_says_why(
    server: ServerHarness, email: str, name: str, password: str, said: str
) -> None:
    """Missing fields, a taken email, a name the server refuses: a sentence in the form, nothing added."""
    async with running_app(server, ADMIN) as (app, pilot, _):
        users = await open_users(app, pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AddUserScreen), "the form")
        form = app.screen
        for field, value in (("email", email), ("name", name), ("password", password)):
            form.query_one(f"#add-user-{field}", Input).value = value
        await pilot.press("ctrl+s")
        message = form.query_one("#add-user-message", Static)
        await until(pilot, lambda: said in rendered(message), f"the sentence {said!r}")
        assert app.screen is form and "\x1b" not in rendered(message)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is users, "back to the users")
        assert len(users.accounts) == 3


async def test_admin_disables_a_user_after_a_confirmation_and_enables_them_again(server: ServerHarness) -> None:
    """d asks first, naming the user; yes disables (their login is refused); d again enables."""
    async with running_app(server, ADMIN) as (app, pilot, _):
        users = await open_users(app, pilot)
        bob_row = next(n for n, account in enumerate(users.accounts) if account.user.email == BOB.email)
        users.table.move_cursor(row=bob_row)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        assert "Disable Bob Dubois (bob@example.com)?" in rendered(app.screen.query_one("#confirm-question", Label))
        await pilot.press("y")
        await until(pilot, lambda: any(a.disabled and a.user.email == BOB.email for a in users.accounts), "disabled")
        async with connect(server.url) as client:
            with pytest.raises(Forbidden, match="disabled"):
                await client.login(BOB.email, BOB.password)
        users.table.move_cursor(
            row=next(n for n, account in enumerate(users.accounts) if account.user.email == BOB.email)
        )
        await pilot.press("d", "y")
        await until(pilot, lambda: not any(a.disabled for a in users.accounts), "enabled again")
    async with scripted_agent(server, BOB):
        pass  # Bob logs in again


async def test_admin_cannot_disable_themselves(server: ServerHarness) -> None:
    """Disabling one's own account is refused in the app, before asking."""
    async with running_app(server, ADMIN) as (app, pilot, _):
        users = await open_users(app, pilot)
        users.table.move_cursor(row=next(n for n, a in enumerate(users.accounts) if a.user.email == ADMIN.email))
        await pilot.press("d")
        assert app.screen is users
        assert "cannot disable yourself" in rendered(users.query_one("#admin-message", Label))


async def test_admin_resets_a_password(server: ServerHarness) -> None:
    """p, the new password twice, a confirmation: the old password no longer works, the new one does."""
    async with running_app(server, ADMIN) as (app, pilot, _):
        users = await open_users(app, pilot)
        users.table.move_cursor(row=next(n for n, a in enumerate(users.accounts) if a.user.email == BOB.email))
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ResetPasswordScreen), "the form")
        await pilot.press(*"new-bob-pw", "tab", *"new-bob-px", "enter")
        message = app.screen.query_one("#reset-password-message", Static)
        await until(pilot, lambda: "differ" in rendered(message), "the passwords differ")
        app.screen.query_one("#reset-password-again", Input).value = "new-bob-pw"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is users, "back to the users")
        assert "Set a new password for Bob Dubois" in rendered(users.query_one("#admin-message", Label))
    async with connect(server.url) as client:
        with pytest.raises(Unauthorized):
            await client.login(BOB.email, BOB.password)
        assert (await client.login(BOB.email, "new-bob-pw")).user.email == BOB.email


async def test_an_agent_has_no_users_screen_nor_lock_breaking(server: ServerHarness) -> None:
    """For an agent, U and B do nothing, and neither is in the footer or the palette."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Printer jams")
        await bob.lock(ticket.id)
        async with running_app(server, ALICE) as (app, pilot, recorder):
            await pilot.press("U", "B")
            await pilot.pause()
            assert isinstance(app.screen, TicketsScreen) and not recorder.notifications
            keys = {active.binding.key for active in app.screen.active_bindings.values() if active.enabled}
            assert "U" not in keys and "B" not in keys and "c" in keys
            titles = {command.title for command in app.get_system_commands(app.screen)}
            assert "Users" not in titles and "Break lock" not in titles and "Assign to me" in titles
            current = app.desk.model.get(ticket.id)
            assert current is not None and current.lock is not None


async def test_admin_breaks_a_lock_after_a_confirmation_naming_the_holder(server: ServerHarness) -> None:
    """B on Bob's ticket asks "Break Bob Dubois's lock … held it for …"; no keeps it, yes breaks it."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Printer jams")
        await bob.lock(ticket.id)
        async with running_app(server, ADMIN) as (app, pilot, recorder):
            assert table(app).select_ticket(ticket.id)
            await pilot.press("B")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
            question = rendered(app.screen.query_one("#confirm-question", Label))
            assert "Break Bob Dubois's lock on" in question and "They have held it for" in question
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen), "no")
            assert app.desk.model.get(ticket.id).lock is not None  # type: ignore[union-attr]

            await pilot.press("B")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation again")
            await pilot.press("y")
            await until(pilot, lambda: app.desk.model.get(ticket.id).lock is None, "the lock broken")  # type: ignore[union-attr]
            assert any("Broke Bob Dubois's lock" in note for note in recorder.notifications)


@pytest.mark.parametrize(("agent", "shown"), [(ALICE, False), (ADMIN, True)], ids=["agent", "admin"])
async def test_the_help_lists_the_admin_keys_to_admins_only(server: ServerHarness, agent: Agent, shown: bool) -> None:
    """? shows U and B under "Admins" to an admin, and not at all to an agent (as the footer and the palette)."""
    async with running_app(server, agent) as (app, pilot, _):
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        texts = {rendered(static) for static in app.screen.query(Static)}
        assert any("break another agent's lock" in text for text in texts) is shown
        assert ("users: add, disable or enable, reset a password" in texts) is shown
