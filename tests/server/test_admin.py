"""Admin requests over real websockets: list, add, disable/enable and reset, with the CLI's rules."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from protocol.messages import (
    Accounts,
    Ack,
    AddUser,
    Error,
    ErrorCode,
    ListAccounts,
    LockTicket,
    Login,
    Request,
    ResetPassword,
    Role,
    SessionEndReason,
    SetDisabled,
    TicketUnlocked,
    UnlockReason,
    Welcome,
)
from tests.conftest import Replicas, ServerFactory
from tests.server.test_sessions_end import unlocked
from tests.server.test_tickets import create
from tests.server.wire import Wire, wire
from tests.support import ADMIN, AGENTS, ALICE, BOB, Agent, ServerHarness


async def accounts(admin: Wire) -> list[tuple[str, str, Role, bool]]:
    listed = await admin.expect(ListAccounts(rid=admin.rid()), Accounts)
    return [(a.user.email, a.user.name, a.user.role, a.disabled) for a in listed.accounts]


async def login_reply(url: str, email: str, password: str) -> Welcome | Error:
    async with wire(url) as peer:
        reply = await peer.request(Login(rid=peer.rid(), email=email, password=password))
        assert isinstance(reply, Welcome | Error)
        return reply


async def user_id(peer: Wire, agent: Agent) -> uuid.UUID:
    return (await peer.login(agent)).user.id


async def test_an_admin_lists_every_account(server: ServerHarness) -> None:
    """ListAccounts gives every user by email, with role and whether disabled."""
    async with wire(server.url, login=ADMIN) as admin:
        expected = sorted((a.email, a.name, a.role, False) for a in AGENTS)
        assert await accounts(admin) == expected


async def test_an_added_user_can_log_in(server: ServerHarness) -> None:
    """AddUser answers with the user (name trimmed as the CLI does); they log in and are listed."""
    async with wire(server.url, login=ADMIN) as admin:
        ack = await admin.expect(
            AddUser(rid=admin.rid(), email="carol@example.com", name="  Carol Dupont ", password="pw", role=Role.ADMIN),
            Ack,
        )
        assert ack.user is not None and (ack.user.name, ack.user.role) == ("Carol Dupont", Role.ADMIN)
        welcome = await login_reply(server.url, "carol@example.com", "pw")
        assert isinstance(welcome, Welcome) and welcome.user == ack.user
        assert ("carol@example.com", "Carol Dupont", Role.ADMIN, False) in await accounts(admin)


async def test_disabling_ends_the_users_sessions_and_releases_their_locks(server: ServerHarness) -> None:
    """Bob is disabled while connected and holding a lock: his connection gets SessionEnded{disabled}, his lock
    goes, he cannot log in; enabled again, he can."""
    async with (
        wire(server.url, login=ADMIN) as admin,
        wire(server.url, login=ALICE) as alice,
        wire(server.url) as bob,
    ):
        bob_id = await user_id(bob, BOB)
        ticket_id = await create(alice)
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=ticket_id), Ack)

        await admin.expect(SetDisabled(rid=admin.rid(), user_id=bob_id, disabled=True), Ack)
        assert (await bob.next_notice()).reason is SessionEndReason.DISABLED
        assert (await unlocked(alice, ticket_id)).reason is UnlockReason.RELEASED
        refused = await login_reply(server.url, BOB.email, BOB.password)
        assert isinstance(refused, Error) and refused.code is ErrorCode.FORBIDDEN
        assert (BOB.email, BOB.name, BOB.role, True) in await accounts(admin)

        await admin.expect(SetDisabled(rid=admin.rid(), user_id=bob_id, disabled=False), Ack)
        assert isinstance(await login_reply(server.url, BOB.email, BOB.password), Welcome)


async def test_a_disabled_admin_is_refused_before_their_session_ends(server_factory: ServerFactory) -> None:
    """Carol, an admin disabled by another while still connected, can neither re-enable herself nor disable the
    admin who did it, in the moment before the server notices her session ended (the watch is slowed here)."""
    server = await server_factory(session_check_s=3600.0)
    carol = Agent("carol@example.com", "carol-password", "Carol Dupont", Role.ADMIN)
    async with wire(server.url) as admin:
        admin_id = await user_id(admin, ADMIN)
        added = AddUser(rid=admin.rid(), email=carol.email, name=carol.name, password=carol.password, role=Role.ADMIN)
        await admin.expect(added, Ack)
        async with wire(server.url) as disabled:
            carol_id = await user_id(disabled, carol)
            await admin.expect(SetDisabled(rid=admin.rid(), user_id=carol_id, disabled=True), Ack)
            before = await accounts(admin)
            for request in (
                SetDisabled(rid=disabled.rid(), user_id=carol_id, disabled=False),
                SetDisabled(rid=disabled.rid(), user_id=admin_id, disabled=True),
                ResetPassword(rid=disabled.rid(), user_id=admin_id, password="taken over"),
                AddUser(
                    rid=disabled.rid(), email="mallory@example.com", name="Mallory", password="pw", role=Role.ADMIN
                ),
                ListAccounts(rid=disabled.rid()),
            ):
                refused = await disabled.expect(request, Error)
                assert refused.code is ErrorCode.FORBIDDEN and refused.message.endswith("."), refused
            assert await accounts(admin) == before
            assert (carol.email, carol.name, Role.ADMIN, True) in before
        assert isinstance(await login_reply(server.url, ADMIN.email, ADMIN.password), Welcome)


async def test_resetting_a_password_ends_the_users_sessions(server: ServerHarness) -> None:
    """Bob's password is reset while he is connected: SessionEnded{revoked}; the old password no longer works."""
    async with wire(server.url, login=ADMIN) as admin, wire(server.url) as bob:
        bob_id = await user_id(bob, BOB)
        await admin.expect(ResetPassword(rid=admin.rid(), user_id=bob_id, password="a fresh one"), Ack)
        assert (await bob.next_notice()).reason is SessionEndReason.REVOKED
        old = await login_reply(server.url, BOB.email, BOB.password)
        assert isinstance(old, Error) and old.code is ErrorCode.UNAUTHORIZED
        assert isinstance(await login_reply(server.url, BOB.email, "a fresh one"), Welcome)


BOB_ID = "$bob"  # replaced by Bob's id in the test
ADMIN_ID = "$admin"
REFUSED: dict[str, tuple[Agent, dict[str, Any], ErrorCode]] = {
    "an agent lists accounts": (ALICE, {"type": "ListAccounts"}, ErrorCode.FORBIDDEN),
    "an agent adds a user": (
        ALICE,
        {"type": "AddUser", "email": "x@example.com", "name": "X", "password": "pw"},
        ErrorCode.FORBIDDEN,
    ),
    "an agent disables Bob": (ALICE, {"type": "SetDisabled", "user_id": BOB_ID, "disabled": True}, ErrorCode.FORBIDDEN),
    "an agent resets Bob's password": (
        ALICE,
        {"type": "ResetPassword", "user_id": BOB_ID, "password": "mine now"},
        ErrorCode.FORBIDDEN,
    ),
    "an email taken, in other case": (
        ADMIN,
        {"type": "AddUser", "email": "BOB@example.com", "name": "Bob again", "password": "pw"},
        ErrorCode.CONFLICT,
    ),
    "a name of spaces": (
        ADMIN,
        {"type": "AddUser", "email": "x@example.com", "name": "   ", "password": "pw"},
        ErrorCode.BAD_REQUEST,
    ),
    "a name with an escape": (
        ADMIN,
        {"type": "AddUser", "email": "x@example.com", "name": "X\u001b[2J", "password": "pw"},
        ErrorCode.BAD_REQUEST,
    ),
    "not an email": (
        ADMIN,
        {"type": "AddUser", "email": "not an email", "name": "X", "password": "pw"},
        ErrorCode.BAD_REQUEST,
    ),
    "an empty password": (
        ADMIN,
        {"type": "AddUser", "email": "x@example.com", "name": "X", "password": ""},
        ErrorCode.BAD_REQUEST,
    ),
    "a role nobody has": (
        ADMIN,
        {"type": "AddUser", "email": "x@example.com", "name": "X", "password": "pw", "role": "owner"},
        ErrorCode.BAD_REQUEST,
    ),
    "disabling oneself": (
        ADMIN,
        {"type": "SetDisabled", "user_id": ADMIN_ID, "disabled": True},
        ErrorCode.BAD_REQUEST,
    ),
    "disabling nobody": (
        ADMIN,
        {"type": "SetDisabled", "user_id": str(uuid.uuid4()), "disabled": True},
        ErrorCode.NOT_FOUND,
    ),
    "disabling without saying": (ADMIN, {"type": "SetDisabled", "user_id": BOB_ID}, ErrorCode.BAD_REQUEST),
    "resetting nobody's password": (
        ADMIN,
        {"type": "ResetPassword", "user_id": str(uuid.uuid4()), "password": "pw"},
        ErrorCode.NOT_FOUND,
    ),
    "an empty new password": (
        ADMIN,
        {"type": "ResetPassword", "user_id": BOB_ID, "password": ""},
        ErrorCode.BAD_REQUEST,
    ),
    "a password too long": (
        ADMIN,
        {"type": "ResetPassword", "user_id": BOB_ID, "password": "x" * 1025},
        ErrorCode.BAD_REQUEST,
    ),
    "not a user id": (
        ADMIN,
        {"type": "ResetPassword", "user_id": "bob", "password": "pw"},
        ErrorCode.BAD_REQUEST,
    ),
}


@pytest.mark.parametrize(("who", "fields", "code"), REFUSED.values(), ids=REFUSED.keys())
async def test_refused_admin_requests_change_nothing(
    server: ServerHarness, who: Agent, fields: dict[str, Any], code: ErrorCode
) -> None:
    """Each refused request gets its error with a sentence; the accounts and Bob's session and password stay."""
    async with wire(server.url, login=ADMIN) as admin, wire(server.url) as bob, wire(server.url) as asker:
        ids = {BOB_ID: str(await user_id(bob, BOB)), ADMIN_ID: str((await asker.login(ADMIN)).user.id)}
        if who is not ADMIN:
            await asker.login(who)
        before = await accounts(admin)
        frame = {"rid": 9, **{k: ids.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}}
        reply = await asker.send_raw(json.dumps(frame))
        assert isinstance(reply, Error) and (reply.code, reply.rid) == (code, 9), reply
        assert reply.message.endswith(".") and "\n" not in reply.message
        assert await accounts(admin) == before
        await bob.expect(ListAccounts(rid=bob.rid()), Error)  # still logged in (forbidden, not unauthorized)
        assert not bob.notices
        assert isinstance(await login_reply(server.url, BOB.email, BOB.password), Welcome)


@pytest.mark.parametrize(
    "request_",
    [
        ListAccounts(rid=1),
        AddUser(rid=1, email="x@example.com", name="X", password="pw"),
        SetDisabled(rid=1, user_id=uuid.uuid4(), disabled=True),
        ResetPassword(rid=1, user_id=uuid.uuid4(), password="pw"),
    ],
    ids=["list", "add", "disable", "reset"],
)
async def test_admin_requests_need_a_login(server: ServerHarness, request_: Request) -> None:
    """Before Login, every admin request is unauthorized."""
    async with wire(server.url) as anonymous:
        reply = await anonymous.request(request_)
        assert isinstance(reply, Error) and reply.code is ErrorCode.UNAUTHORIZED


async def test_hashing_waits_in_the_bounded_check_pool(server_factory: ServerFactory) -> None:
    """With one check running and no queue, an AddUser and a Login at the same moment get one check: the other is
    refused rate_limited (an AddUser refused adds nobody). New passwords are hashed on the login pool, not on the
    event loop."""
    server = await server_factory(login_workers=1, login_queue=0)
    async with wire(server.url, login=ADMIN) as admin, wire(server.url) as stranger:
        add = AddUser(rid=admin.rid(), email="new@example.com", name="New", password="pw")
        login = Login(rid=stranger.rid(), email=ALICE.email, password=ALICE.password)
        await admin.send(add)
        await stranger.send(login)
        added, logged_in = await admin.next_reply(), await stranger.next_reply()
        refused = [r for r in (added, logged_in) if isinstance(r, Error)]
        assert len(refused) == 1 and refused[0].code is ErrorCode.RATE_LIMITED
        added_someone = isinstance(added, Ack)
        assert len(await accounts(admin)) == len(AGENTS) + (1 if added_someone else 0)


async def test_disabling_on_one_replica_ends_the_session_on_another(replicas: Replicas) -> None:
    """The admin on A disables Bob, who is connected to B: B ends his session and releases his lock."""
    a, b = await replicas(2)
    async with wire(a.url, login=ADMIN) as admin, wire(b.url) as bob:
        bob_id = await user_id(bob, BOB)
        ticket_id = await create(bob)
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=ticket_id), Ack)
        await admin.expect(SetDisabled(rid=admin.rid(), user_id=bob_id, disabled=True), Ack)
        async with asyncio.timeout(5):
            assert (await bob.next_notice()).reason is SessionEndReason.DISABLED
            event = await unlocked(admin, ticket_id)
        assert isinstance(event, TicketUnlocked) and event.reason is UnlockReason.RELEASED
