"""Issue 9 and 10's requests at and past the edges of their inputs, on both engines: each gets its one typed
reply, the connection stays open and serves the next request, and nothing changes that should not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from protocol.messages import (
    Accounts,
    Ack,
    AddComment,
    AddUser,
    Changed,
    CreateTicket,
    Error,
    ErrorCode,
    GetInbox,
    GetPresence,
    Inbox,
    ListAccounts,
    Presence,
    Role,
    SetDisabled,
)
from tests.conftest import ServerFactory
from tests.server.wire import Wire, wire
from tests.support import ADMIN, ALICE, BOB, Agent, ServerHarness, add_test_users

EngineServer = Callable[[], Awaitable[ServerHarness]]


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine_server(
    request: pytest.FixtureRequest, tmp_path: Path, server_factory: ServerFactory
) -> AsyncIterator[EngineServer]:
    """Start a server with the test users on each engine."""
    started: list[ServerHarness] = []

    async def start() -> ServerHarness:
        if request.param == "sqlite":
            return await server_factory()
        pg_url = str(request.getfixturevalue("pg_url"))
        await add_test_users(pg_url)
        server = ServerHarness(None, tmp_path, db=pg_url)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


async def still_serves(peer: Wire) -> None:
    """The connection was not closed: its next request gets its reply."""
    await peer.expect(GetPresence(rid=peer.rid()), Presence)


async def unread(peer: Wire) -> int:
    return (await peer.expect(GetInbox(rid=peer.rid()), Inbox)).unread


MARK_READ: dict[str, tuple[dict[str, Any], int]] = {
    # seqs past what a 64-bit column holds name no item (SQLite raised OverflowError, PostgreSQL "bigint out of
    # range": both answered `internal` and closed the connection 1011); up_to past it covers every item
    "a seq of 2**63": ({"seqs": [2**63]}, 1),
    "a seq of 2**64 - 1": ({"seqs": [2**64 - 1]}, 1),
    "a seq of 10**30": ({"seqs": [10**30]}, 1),
    "up_to 2**63 - 1": ({"up_to": 2**63 - 1}, 0),
    "up_to 2**63": ({"up_to": 2**63}, 0),
    "up_to 2**64 - 1": ({"up_to": 2**64 - 1}, 0),
    "up_to 10**30": ({"up_to": 10**30}, 0),
}


@pytest.mark.parametrize(("fields", "left"), MARK_READ.values(), ids=MARK_READ.keys())
async def test_mark_read_past_64_bits(engine_server: EngineServer, fields: dict[str, Any], left: int) -> None:
    """MarkRead with seqs past a 64-bit integer answers Ack: a seq there marks nothing, up_to there marks all."""
    server = await engine_server()
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        ticket = (await alice.expect(CreateTicket(rid=alice.rid(), title="Printer jams"), Ack)).ticket
        assert ticket is not None
        await alice.expect(AddComment(rid=alice.rid(), ticket_id=ticket.number, body="@bob have a look"), Ack)
        await bob.next_inbox_change()
        reply = await bob.send_raw(json.dumps({"type": "MarkRead", "rid": 7, **fields}))
        assert isinstance(reply, Ack) and reply.rid == 7, reply
        assert await unread(bob) == left
        await still_serves(bob)


NUMBERS: dict[str, tuple[dict[str, Any], ErrorCode]] = {
    "GetTicket #0": ({"type": "GetTicket", "ticket_id": 0}, ErrorCode.BAD_REQUEST),
    "GetTicket #-1": ({"type": "GetTicket", "ticket_id": -1}, ErrorCode.BAD_REQUEST),
    "GetTicket #2**53 - 1": ({"type": "GetTicket", "ticket_id": 2**53 - 1}, ErrorCode.NOT_FOUND),
    "GetTicket #2**53": ({"type": "GetTicket", "ticket_id": 2**53}, ErrorCode.BAD_REQUEST),
    "GetTicket #2**63": ({"type": "GetTicket", "ticket_id": 2**63}, ErrorCode.BAD_REQUEST),
    "GetHistory #2**53 - 1": ({"type": "GetHistory", "ticket_id": 2**53 - 1}, ErrorCode.NOT_FOUND),
    "AddComment on #999999": ({"type": "AddComment", "ticket_id": 999_999, "body": "hi"}, ErrorCode.NOT_FOUND),
    "SetPresence #2**53 - 1": ({"type": "SetPresence", "ticket_id": 2**53 - 1}, ErrorCode.NOT_FOUND),
    "ChangeTickets #2**53 - 1": (
        {"type": "ChangeTickets", "ticket_ids": [2**53 - 1], "status": "closed"},
        ErrorCode.NOT_FOUND,
    ),
    "UpdateTicket version 10**30": (
        {"type": "UpdateTicket", "ticket_id": 1, "version": 10**30, "title": "x"},
        ErrorCode.NOT_LOCK_HOLDER,
    ),
    "RenewLock fence 10**30": ({"type": "RenewLock", "ticket_id": 1, "fence": 10**30}, ErrorCode.NOT_LOCK_HOLDER),
}


@pytest.mark.parametrize(("frame", "code"), NUMBERS.values(), ids=NUMBERS.keys())
async def test_ticket_numbers_and_counters_at_their_edges(
    engine_server: EngineServer, frame: dict[str, Any], code: ErrorCode
) -> None:
    """Ticket numbers, versions and fences at and past their bounds get a typed error with a sentence."""
    server = await engine_server()
    async with wire(server.url, login=ALICE) as alice:
        await alice.expect(CreateTicket(rid=alice.rid(), title="Ticket #1"), Ack)
        seq = server.service.seq
        reply = await alice.send_raw(json.dumps({"rid": 7, **frame}))
        if isinstance(reply, Error):
            assert (reply.code, reply.rid) == (code, 7), reply
            assert reply.message.endswith(".") and "\n" not in reply.message
        else:  # ChangeTickets reports its refusals in its reply
            assert isinstance(reply, Changed) and reply.rid == 7, reply
            assert [refusal.code for refusal in reply.refused] == [code] and reply.tickets == []
        assert server.service.seq == seq
        await still_serves(alice)


CAROL = Agent("carol@example.com", "carol-password", "Carol Dupont", Role.ADMIN)
DAVE = Agent("dave@example.com", "dave-password", "Dave Durand", Role.ADMIN)


async def test_two_admins_disabling_each_other_at_once(engine_server: EngineServer) -> None:
    """Carol and Dave, both admins, disable each other at the same moment: one request wins, the other is refused
    forbidden, and one of them is still an enabled admin (on PostgreSQL both checks ran before either write, and
    both ended up disabled)."""
    server = await engine_server()
    async with wire(server.url, login=ADMIN) as admin:
        ids = {}
        for agent in (CAROL, DAVE):
            added = AddUser(
                rid=admin.rid(), email=agent.email, name=agent.name, password=agent.password, role=Role.ADMIN
            )
            user = (await admin.expect(added, Ack)).user
            assert user is not None
            ids[agent.email] = user.id
        async with wire(server.url, login=CAROL) as carol, wire(server.url, login=DAVE) as dave:
            await carol.send(SetDisabled(rid=carol.rid(), user_id=ids[DAVE.email], disabled=True))
            await dave.send(SetDisabled(rid=dave.rid(), user_id=ids[CAROL.email], disabled=True))
            replies = [await carol.next_reply(), await dave.next_reply()]
        assert sorted(type(reply).__name__ for reply in replies) == ["Ack", "Error"], replies
        assert [reply.code for reply in replies if isinstance(reply, Error)] == [ErrorCode.FORBIDDEN]
        listed = await admin.expect(ListAccounts(rid=admin.rid()), Accounts)
        disabled = {account.user.email for account in listed.accounts if account.disabled}
        assert disabled in ({CAROL.email}, {DAVE.email})
