"""Sessions that end outside a request (`user passwd`, `user disable` from another process, expiry, a logout on
another connection) end on every open connection: notice, locks released, no more events, `unauthorized`."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lesbillets_server.auth import add_user, disable_user, set_password
from lesbillets_server.cli import app as server_cli
from lesbillets_server.store import SessionRecord, SqliteStore
from protocol.messages import (
    Ack,
    CreateTicket,
    Error,
    ErrorCode,
    GetTickets,
    LockTicket,
    Logout,
    Request,
    Resume,
    SessionEndReason,
    TicketUnlocked,
    UnlockReason,
    Welcome,
)
from tests.conftest import ServerFactory
from tests.server.test_tickets import create
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, ManualClock, ServerHarness

TIMEOUT = 5.0


async def eventually(condition: Callable[[], bool], what: str) -> None:
    try:
        async with asyncio.timeout(TIMEOUT):
            while not condition():  # noqa: ASYNC110 (the state is in the database file: nothing to wait on)
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def run_cli(*args: str, stdin: str | None = None) -> None:
    """The real `lesbillets-server` command, on a thread so the server keeps running meanwhile."""
    result = await asyncio.to_thread(CliRunner().invoke, server_cli, list(args), input=stdin)
    assert result.exit_code == 0, result.output


async def unlocked(watcher: Wire, ticket_id: uuid.UUID) -> TicketUnlocked:
    """The next `TicketUnlocked` of this ticket the watcher receives (other events are skipped)."""
    while True:
        event = await watcher.next_event()
        if isinstance(event, TicketUnlocked) and event.ticket_id == ticket_id:
            return event


async def assert_signed_out(peer: Wire, other: Wire) -> None:
    """Every request is refused `unauthorized`, and a change by someone else sends this connection nothing."""
    peer.events.clear()
    await create(other, "made after the session ended")
    requests: list[Request] = [
        CreateTicket(rid=peer.rid(), title="sneaked in"),
        LockTicket(rid=peer.rid(), ticket_id=uuid.uuid4()),
        GetTickets(rid=peer.rid()),
    ]
    for request in requests:
        reply = await peer.request(request)
        assert isinstance(reply, Error), reply
        assert reply.code is ErrorCode.UNAUTHORIZED
    assert not peer.events  # an event for the other's change would have come before these replies
    assert not peer.notices


def session_rows(db: str) -> int:
    with sqlite3.connect(db) as connection:
        count: int = connection.execute("SELECT count(*) FROM sessions").fetchone()[0]
    return count


@pytest.mark.parametrize(
    ("command", "stdin", "reason"),
    [
        (["user", "passwd", BOB.email, "--password-stdin"], "a-new-password\n", SessionEndReason.REVOKED),
        (["user", "disable", BOB.email], None, SessionEndReason.DISABLED),
    ],
    ids=["passwd", "disable"],
)
async def test_user_command_ends_open_sessions(
    server: ServerHarness, command: list[str], stdin: str | None, reason: SessionEndReason
) -> None:
    """`user passwd` / `user disable` in another process end Bob's session on both his connections at once."""
    async with (
        wire(server.url, login=ALICE) as alice,
        wire(server.url) as bob,
        wire(server.url) as bob_again,
    ):
        welcome = await bob.login(BOB)
        await bob_again.expect(Resume(rid=bob_again.rid(), token=welcome.token), Welcome)
        ticket_id = await create(alice)
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=ticket_id), Ack)

        await run_cli(*command, "--db", server.config.db, stdin=stdin)

        for connection in (bob, bob_again):
            notice = await connection.next_notice()
            assert notice.reason is reason
            assert notice.message
        assert (await unlocked(alice, ticket_id)).reason is UnlockReason.RELEASED
        await assert_signed_out(bob, alice)
        await assert_signed_out(bob_again, alice)
        refused = await bob.request(Resume(rid=bob.rid(), token=welcome.token))
        assert isinstance(refused, Error)
        assert refused.code is ErrorCode.UNAUTHORIZED


async def test_expired_session_ends_on_open_connections(server_factory: ServerFactory) -> None:
    """When a session's time runs out (by the server's clock) while connected, it ends like a revoked one."""
    clock = ManualClock()
    server = await server_factory(clock=clock, session_ttl_s=60.0, lock_ttl_s=600.0)
    async with wire(server.url, login=BOB) as bob, wire(server.url) as alice:
        clock.advance(30)
        await alice.login(ALICE)  # her session outlives Bob's by 30 s
        ticket_id = await create(alice)
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=ticket_id), Ack)
        clock.advance(31)
        assert (await bob.next_notice()).reason is SessionEndReason.EXPIRED
        assert (await unlocked(alice, ticket_id)).reason is UnlockReason.RELEASED
        await assert_signed_out(bob, alice)


async def test_logout_ends_the_session_on_its_other_connections(server: ServerHarness) -> None:
    """Logout answers Ack on its own connection and sends `SessionEnded` (logged_out) to the session's others."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url) as first, wire(server.url) as second:
        welcome = await first.login(BOB)
        await second.expect(Resume(rid=second.rid(), token=welcome.token), Welcome)
        await first.expect(Logout(rid=first.rid()), Ack)
        assert (await second.next_notice()).reason is SessionEndReason.LOGGED_OUT
        await assert_signed_out(second, alice)
        await assert_signed_out(first, alice)  # and no notice for the one that asked


async def test_revoked_session_without_a_connection_loses_its_locks_at_once(server: ServerHarness) -> None:
    """A dropped session waiting out its grace period loses its locks as soon as `user disable` ends it."""
    assert server.config.lock_grace_s > 2 * TIMEOUT
    async with wire(server.url, login=ALICE) as alice:
        ticket_id = await create(alice)
        async with wire(server.url, login=BOB) as bob:
            await bob.expect(LockTicket(rid=bob.rid(), ticket_id=ticket_id), Ack)
        await run_cli("user", "disable", BOB.email, "--db", server.config.db)
        assert (await unlocked(alice, ticket_id)).reason is UnlockReason.RELEASED


async def test_expired_session_rows_are_deleted_at_start(template_db: Path, tmp_path: Path) -> None:
    """Sessions that expired while the server was down are deleted when it starts; live ones stay."""
    clock = ManualClock()
    harness = ServerHarness(template_db, tmp_path, clock=clock)
    store = SqliteStore(harness.config.db)
    try:
        record = store.user_by_email(BOB.email)
        assert record is not None
        for n, age in enumerate([-1, 1, 1000]):
            expires = clock.now - timedelta(seconds=age)
            store.add_session(SessionRecord(id=f"s{n}", user_id=record.user.id, expires_at=expires), f"token-hash-{n}")
    finally:
        store.close()
    assert session_rows(harness.config.db) == 3
    await harness.start()
    try:
        await eventually(lambda: session_rows(harness.config.db) == 1, "the expired sessions to be deleted")
    finally:
        await harness.stop()


async def test_expired_session_rows_are_deleted_while_running(server_factory: ServerFactory) -> None:
    """A running server deletes the rows of sessions that expired since (checked every hour of its clock)."""
    clock = ManualClock()
    server = await server_factory(clock=clock, session_ttl_s=3600.0)
    async with wire(server.url, login=BOB):
        pass
    assert session_rows(server.config.db) == 1
    clock.advance(3601)
    await eventually(lambda: session_rows(server.config.db) == 0, "the expired session to be deleted")


@pytest.mark.parametrize("change", ["passwd", "disable", "none"])
def test_a_login_checked_against_an_old_password_opens_no_session(tmp_path: Path, change: str) -> None:
    """A session is stored only if the user is still enabled with the hash that was checked (a race with the CLI)."""
    store = SqliteStore(tmp_path / "race.db")
    try:
        user = add_user(store, "ana@example.com", "Ana", "old-password")
        record = store.user_by_id(user.id)
        assert record is not None
        if change == "passwd":
            set_password(store, user.email, "new-password")
        elif change == "disable":
            disable_user(store, user.email)
        session = SessionRecord(id="s", user_id=user.id, expires_at=datetime.now(UTC) + timedelta(days=1))
        stored = store.add_session(session, "token-hash", password_hash=record.password_hash)
        assert stored is (change == "none")
        assert (store.session_by_token("token-hash") is not None) is stored
    finally:
        store.close()
