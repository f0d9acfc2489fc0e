"""A restart resumes the remembered session without a password; `lesbillets logout` forgets it."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.cli import app as cli
from lesbillets_tui.screens.login import LoginScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.session_store import SessionStore
from protocol.client import connect
from protocol.errors import Unauthorized
from tests.support import ALICE, ServerHarness
from tests.tui.helpers import SIZE, running_app, until


async def test_restart_resumes_and_logout_forgets(server: ServerHarness, tmp_path: Path) -> None:
    """The token is saved 0600; the next start resumes with no password; logout ends and forgets the session."""
    store = SessionStore(tmp_path / "lesbillets" / "session.json")
    async with running_app(server, store=store):
        pass
    token = store.tokens()[server.url]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.last_url == server.url

    restarted = LesBilletsApp(store=store)  # no URL, no email, no password
    async with restarted.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(restarted.screen, TicketsScreen) and restarted.synced, "the resume")
        assert restarted.desk.user is not None and restarted.desk.user.email == ALICE.email

    result = await asyncio.to_thread(CliRunner().invoke, cli, ["logout"], env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert f"Forgot the session for {server.url}." in result.output
    assert store.tokens() == {}
    async with connect(server.url) as client:
        with pytest.raises(Unauthorized):
            await client.resume(token)

    again = LesBilletsApp(store=store)
    async with again.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(again.screen, LoginScreen), "the login screen")
        assert again.screen.query_one("#login-email").value == ALICE.email  # type: ignore[attr-defined]


async def test_an_expired_token_asks_for_a_login(server: ServerHarness, tmp_path: Path) -> None:
    """A remembered token the server no longer knows leads to the login screen with a sentence, and is dropped."""
    store = SessionStore(tmp_path / "session.json")
    store.remember(server.url, ALICE.email, "not-a-token-the-server-knows")
    app = LesBilletsApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "expired" in str(app.screen.query_one("#login-message").render()), "the sentence")
    assert store.tokens() == {}


def test_cli_lists_both_commands_and_logout_without_sessions(tmp_path: Path) -> None:
    """`lesbillets --help` shows open and logout; logout with nothing saved says so."""
    runner = CliRunner()
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0 and "open" in result.output and "logout" in result.output
    result = runner.invoke(cli, ["logout"], env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.exit_code == 0 and "No session was remembered." in result.output


async def test_log_out_from_the_palette_returns_to_the_login_screen(server: ServerHarness, tmp_path: Path) -> None:
    """The "Log out" command ends the session on the server, forgets the token and shows the login form."""
    store = SessionStore(tmp_path / "session.json")
    async with running_app(server, store=store) as (app, pilot, _):
        token = store.tokens()[server.url]
        logout = next(c for c in app.get_system_commands(app.screen) if c.title == "Log out")
        logout.callback()
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        assert store.tokens() == {}
    async with connect(server.url) as client:
        with pytest.raises(Unauthorized):
            await client.resume(token)
