"""The bundled client, and the app on top of it, when the server ends the session they are logged in with."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lesbillets_server.auth import disable_user
from lesbillets_server.store import SqliteStore
from lesbillets_tui.session_store import SessionStore
from protocol.client import ConnectionChanged, ConnectionState, connect
from protocol.errors import SessionEndedError, Unauthorized
from protocol.messages import SessionEndReason
from tests.support import ALICE, ServerHarness
from tests.tui.helpers import running_app, until

TIMEOUT = 5.0


async def test_logout_elsewhere_closes_the_client_with_a_typed_error(server: ServerHarness) -> None:
    """`events()` ends with CLOSED and the server's sentence; requests then raise `SessionEndedError`."""
    async with connect(server.url) as client, connect(server.url) as other:
        welcome = await client.login(ALICE.email, ALICE.password)
        stream = client.events()
        await other.resume(welcome.token)
        await other.logout()
        async with asyncio.timeout(TIMEOUT):
            closed = await anext(stream)
        assert isinstance(closed, ConnectionChanged)
        assert closed.state is ConnectionState.CLOSED
        assert closed.reason == "This session was logged out on another connection; log in again."
        assert client.session_ended is not None
        assert client.session_ended.reason is SessionEndReason.LOGGED_OUT
        assert client.token is None and client.user is None
        with pytest.raises(SessionEndedError) as ended:
            await client.get_tickets()
        assert isinstance(ended.value, Unauthorized)  # scripts that handle `unauthorized` handle this too
        assert str(ended.value) == closed.reason


async def test_the_app_asks_to_log_in_again_and_forgets_the_token(server: ServerHarness, tmp_path: Path) -> None:
    """When an admin disables the agent, the app says so (with the L hint) and drops the saved token."""
    store = SessionStore(tmp_path / "session.json")
    async with running_app(server, store=store) as (_app, pilot, recorder):
        assert server.url in store.tokens()
        admin_store = SqliteStore(server.config.db)
        try:
            disable_user(admin_store, ALICE.email)
        finally:
            admin_store.close()
        await until(pilot, lambda: any("Press L to log in again" in n for n in recorder.notifications), "the hint")
        assert any("This account was disabled; ask an admin." in n for n in recorder.notifications)
        assert store.tokens() == {}
