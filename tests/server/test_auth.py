"""Login, resume, logout and the user commands' effect on live sessions."""

from __future__ import annotations

import logging
import uuid

import pytest

from lesbillets_server.auth import disable_user, set_password
from lesbillets_server.store import SqliteStore
from protocol.messages import (
    Ack,
    AllTickets,
    Error,
    ErrorCode,
    GetTickets,
    LockTicket,
    Login,
    Logout,
    Resume,
    Role,
    TicketUnlocked,
    UnlockReason,
    Welcome,
)
from tests.conftest import ServerFactory
from tests.server.test_tickets import create
from tests.server.wire import wire
from tests.support import ADMIN, ALICE, BOB, ServerHarness


async def test_login_returns_user_token_and_settings(server: ServerHarness) -> None:
    """Welcome names the user and role, hands out a token, and states the lock TTL."""
    async with wire(server.url) as peer:
        welcome = await peer.login(ADMIN)
        assert (welcome.user.email, welcome.user.name, welcome.user.role) == (ADMIN.email, ADMIN.name, Role.ADMIN)
        assert len(welcome.token) >= 32
        assert welcome.lock_ttl_s == server.config.lock_ttl_s
        assert welcome.server_version


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (ALICE.email, "wrong"),
        ("nobody@example.com", ALICE.password),
        (ALICE.email, ALICE.password.upper()),
    ],
    ids=["wrong password", "unknown email", "case of password"],
)
async def test_bad_login_is_unauthorized(server: ServerHarness, email: str, password: str) -> None:
    """A wrong email or password gets one `unauthorized` sentence that does not say which was wrong."""
    async with wire(server.url) as peer:
        reply = await peer.request(Login(rid=1, email=email, password=password))
        assert isinstance(reply, Error)
        assert reply.code is ErrorCode.UNAUTHORIZED
        assert reply.message == "The email or password is wrong."
        still_out = await peer.request(GetTickets(rid=2))
        assert isinstance(still_out, Error)
        assert still_out.code is ErrorCode.UNAUTHORIZED


async def test_email_is_case_insensitive(server: ServerHarness) -> None:
    """Agents type their email in any case."""
    async with wire(server.url) as peer:
        await peer.expect(Login(rid=1, email=ALICE.email.upper(), password=ALICE.password), Welcome)


@pytest.mark.parametrize("token", ["x", "A" * 43, "not-even-close"], ids=["short", "well-formed", "garbage"])
async def test_resume_with_unknown_token(server: ServerHarness, token: str) -> None:
    """An unknown token is `unauthorized`."""
    async with wire(server.url) as peer:
        reply = await peer.request(Resume(rid=1, token=token))
        assert isinstance(reply, Error)
        assert reply.code is ErrorCode.UNAUTHORIZED


async def test_logout_revokes_token_and_releases_locks(server: ServerHarness) -> None:
    """After Logout the token no longer resumes, the connection is logged out, and its locks are released."""
    async with wire(server.url, login=BOB) as bob, wire(server.url) as alice:
        welcome = await alice.login(ALICE)
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        await alice.expect(Logout(rid=alice.rid()), Ack)
        events = [await bob.next_event() for _ in range(3)]
        assert isinstance(events[2], TicketUnlocked)
        assert events[2].reason is UnlockReason.RELEASED
        after = await alice.request(GetTickets(rid=alice.rid()))
        assert isinstance(after, Error)
        assert after.code is ErrorCode.UNAUTHORIZED
    async with wire(server.url) as again:
        reply = await again.request(Resume(rid=1, token=welcome.token))
        assert isinstance(reply, Error)
        assert reply.code is ErrorCode.UNAUTHORIZED


async def test_token_resumes_on_another_connection(server: ServerHarness) -> None:
    """A token from Login resumes the same user on a second connection."""
    async with wire(server.url) as first:
        welcome = await first.login(ALICE)
    async with wire(server.url) as second:
        resumed = await second.expect(Resume(rid=1, token=welcome.token), Welcome)
        assert resumed.user == welcome.user
        await second.expect(GetTickets(rid=2), AllTickets)


@pytest.mark.parametrize("change", ["passwd", "disable"])
async def test_password_change_or_disable_ends_sessions(server: ServerHarness, change: str) -> None:
    """`user passwd` and `user disable` (run against the same database) end the user's sessions."""
    async with wire(server.url) as first:
        welcome = await first.login(BOB)
    store = SqliteStore(server.config.db)
    try:
        if change == "passwd":
            set_password(store, BOB.email, "new-password")
        else:
            disable_user(store, BOB.email)
    finally:
        store.close()
    async with wire(server.url) as peer:
        reply = await peer.request(Resume(rid=1, token=welcome.token))
        assert isinstance(reply, Error)
        assert reply.code is ErrorCode.UNAUTHORIZED
        login = await peer.request(Login(rid=2, email=BOB.email, password=BOB.password))
        assert isinstance(login, Error)
        assert login.code is (ErrorCode.UNAUTHORIZED if change == "passwd" else ErrorCode.FORBIDDEN)


async def test_repeated_bad_logins_are_throttled(server: ServerHarness) -> None:
    """By default, after ten wrong passwords an address gets `rate_limited`, even for the right password."""
    async with wire(server.url) as peer:
        for rid in range(1, 11):
            reply = await peer.request(Login(rid=rid, email=BOB.email, password="guess"))
            assert isinstance(reply, Error)
            assert reply.code is ErrorCode.UNAUTHORIZED
        for agent in (BOB, ALICE):
            blocked = await peer.request(Login(rid=peer.rid(), email=agent.email, password=agent.password))
            assert isinstance(blocked, Error)
            assert blocked.code is ErrorCode.RATE_LIMITED


async def test_logout_signs_out_every_connection_of_the_session(server: ServerHarness) -> None:
    """Connections that resumed the same token are logged out with it and stop receiving events."""
    async with wire(server.url) as first, wire(server.url) as second, wire(server.url, login=BOB) as bob:
        welcome = await first.login(ALICE)
        await second.expect(Resume(rid=1, token=welcome.token), Welcome)
        await first.expect(Logout(rid=first.rid()), Ack)
        refused = await second.request(LockTicket(rid=2, ticket_id=uuid.uuid4()))
        assert isinstance(refused, Error)
        assert refused.code is ErrorCode.UNAUTHORIZED
        await create(bob, "after logout")
        await bob.next_event()
        assert not second.events


async def test_debug_logs_hold_no_password_or_token(
    server_factory: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Even at DEBUG the server's logs never contain a password or a session token."""
    caplog.set_level(logging.DEBUG)
    server = await server_factory()
    async with wire(server.url) as peer:
        welcome = await peer.login(ALICE)
        await peer.expect(Resume(rid=peer.rid(), token=welcome.token), Welcome)
    server_side = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.client"))
    assert "connection" in server_side  # the server did log at this level
    assert ALICE.password not in server_side
    assert welcome.token not in server_side
