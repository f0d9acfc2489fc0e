"""Presence on one server over real websockets: who has which ticket open appears and vanishes everywhere."""

from __future__ import annotations

import json
import uuid

import pytest

from protocol.messages import (
    Ack,
    Error,
    ErrorCode,
    GetPresence,
    Logout,
    Presence,
    PresenceChanged,
    SetDisabled,
    SetPresence,
    TicketPresence,
    Viewer,
)
from tests.conftest import ServerFactory
from tests.server.test_tickets import create
from tests.server.wire import Wire, wire
from tests.support import ADMIN, ALICE, BOB, ServerHarness


async def set_presence(peer: Wire, ticket_id: uuid.UUID | int | None, *, editing: bool = False) -> None:
    await peer.expect(SetPresence(rid=peer.rid(), ticket_id=ticket_id, editing=editing), Ack)


async def presence(peer: Wire) -> list[TicketPresence]:
    return (await peer.expect(GetPresence(rid=peer.rid()), Presence)).tickets


def viewers(notice: PresenceChanged) -> list[tuple[str, bool]]:
    return [(v.name, v.editing) for v in notice.viewers]


async def test_presence_appears_on_another_connection_and_vanishes_when_the_view_closes(
    server: ServerHarness,
) -> None:
    """Alice opens a ticket: Bob is told, and GetPresence shows her; she closes it: Bob is told it is empty."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        ticket_id = await create(alice)
        await set_presence(alice, ticket_id)
        notice = await bob.next_presence()
        assert notice.ticket_id == ticket_id and viewers(notice) == [(ALICE.name, False)]
        [shown] = await presence(bob)
        assert shown.ticket_id == ticket_id and [v.name for v in shown.viewers] == [ALICE.name]
        assert isinstance(shown.viewers[0], Viewer) and shown.viewers[0].user_id == (await alice.login(ALICE)).user.id

        await set_presence(bob, ticket_id, editing=True)
        assert viewers(await bob.next_presence()) in ([(ALICE.name, False), (BOB.name, True)], [(BOB.name, True)])

        await set_presence(bob, None)
        await set_presence(alice, None)
        while (notice := await bob.next_presence()).viewers:
            pass
        assert notice.ticket_id == ticket_id
        assert await presence(bob) == []


async def test_a_ticket_named_by_number_is_presence_on_its_id(server: ServerHarness) -> None:
    """SetPresence accepts the ticket's number; the notice carries its id."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        ticket_id = await create(alice)
        number = server.service.board.tickets[ticket_id].number
        if not number:
            pytest.skip("this server does not number tickets yet")
        await set_presence(alice, number)
        assert (await bob.next_presence()).ticket_id == ticket_id


async def test_a_dropped_connection_vanishes_within_five_seconds(server: ServerHarness) -> None:
    """Alice's connection drops without a word: Bob is told she left, well within 5 s."""
    async with wire(server.url, login=BOB) as bob:
        async with wire(server.url, login=ALICE) as alice:
            ticket_id = await create(alice)
            await set_presence(alice, ticket_id, editing=True)
            assert viewers(await bob.next_presence()) == [(ALICE.name, True)]
            alice.ws.transport.abort()  # no close frame: as a network would drop it
        notice = await bob.next_presence(within_s=5)
        assert (notice.ticket_id, notice.viewers) == (ticket_id, [])


async def test_a_frozen_connection_vanishes_within_the_keepalive(server_factory: ServerFactory) -> None:
    """Alice's laptop freezes (the TCP connection stays up, nothing is read or answered): the server's pings go
    unanswered, it closes her connection within `--keepalive`, and Bob is told she left."""
    server = await server_factory(keepalive_s=1.0)
    async with wire(server.url, login=BOB) as bob, wire(server.url, login=ALICE, ping_interval=None) as alice:
        ticket_id = await create(alice)
        await set_presence(alice, ticket_id)
        assert viewers(await bob.next_presence()) == [(ALICE.name, False)]
        alice.ws.transport.pause_reading()
        notice = await bob.next_presence(within_s=3)
        assert (notice.ticket_id, notice.viewers) == (ticket_id, [])


async def test_logging_out_clears_presence(server: ServerHarness) -> None:
    """Logout ends the session's presence at once; the connection stays open but shows nowhere."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        ticket_id = await create(alice)
        await set_presence(alice, ticket_id)
        await bob.next_presence()
        await alice.expect(Logout(rid=alice.rid()), Ack)
        notice = await bob.next_presence()
        assert (notice.ticket_id, notice.viewers) == (ticket_id, [])
        assert await presence(bob) == []


async def test_a_session_ended_by_an_admin_clears_presence(server: ServerHarness) -> None:
    """Bob is disabled while he has a ticket open: his session ends and Alice is told he is gone."""
    async with (
        wire(server.url, login=ALICE) as alice,
        wire(server.url) as bob,
        wire(server.url, login=ADMIN) as admin,
    ):
        bob_id = (await bob.login(BOB)).user.id
        ticket_id = await create(alice)
        await set_presence(bob, ticket_id)
        assert viewers(await alice.next_presence()) == [(BOB.name, False)]
        await admin.expect(SetDisabled(rid=admin.rid(), user_id=bob_id, disabled=True), Ack)
        notice = await alice.next_presence()
        assert (notice.ticket_id, notice.viewers) == (ticket_id, [])


async def test_one_user_on_two_connections_is_one_viewer_editing_wins(server: ServerHarness) -> None:
    """Alice views on one connection and edits on another: one viewer, editing; the editor closes: viewing."""
    async with (
        wire(server.url, login=ALICE) as viewing,
        wire(server.url, login=ALICE) as editing,
        wire(server.url, login=BOB) as bob,
    ):
        ticket_id = await create(viewing)
        await set_presence(viewing, ticket_id)
        assert viewers(await bob.next_presence()) == [(ALICE.name, False)]
        await set_presence(editing, ticket_id, editing=True)
        assert viewers(await bob.next_presence()) == [(ALICE.name, True)]
        await editing.ws.close()
        assert viewers(await bob.next_presence()) == [(ALICE.name, False)]


async def test_a_flood_of_set_presence_is_coalesced(server_factory: ServerFactory) -> None:
    """150 SetPresence hopping between two tickets, sent at once: each is acknowledged, and the other agent gets
    a handful of notices, not one or two per request."""
    server = await server_factory(rate_per_s=10_000, rate_burst=10_000)
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        first, second, marker = await create(alice, "first"), await create(alice, "second"), await create(alice)
        requests = [SetPresence(rid=alice.rid(), ticket_id=(first, second)[n % 2]) for n in range(150)]
        for request in requests:
            await alice.send(request)
        for request in requests:
            assert (await alice.next_reply()).rid == request.rid
        await set_presence(alice, marker)  # after the flood: its notice is the last one
        seen = [await bob.next_presence()]
        while (seen[-1].ticket_id, viewers(seen[-1])) != (marker, [(ALICE.name, False)]):
            seen.append(await bob.next_presence())
        assert len(seen) <= 10, f"{len(seen)} notices for 151 requests"


BAD = {
    "an unknown ticket id": ({"ticket_id": str(uuid.uuid4())}, ErrorCode.NOT_FOUND),
    "an unknown ticket number": ({"ticket_id": 999_999}, ErrorCode.NOT_FOUND),
    "a number below 1": ({"ticket_id": 0}, ErrorCode.BAD_REQUEST),
    "not a ticket id": ({"ticket_id": "the printer"}, ErrorCode.BAD_REQUEST),
    "a name of one's own": ({"ticket_id": None, "name": "The CEO"}, ErrorCode.BAD_REQUEST),
    "editing as text": ({"ticket_id": None, "editing": "yes"}, ErrorCode.BAD_REQUEST),
}


@pytest.mark.parametrize(("fields", "code"), BAD.values(), ids=BAD.keys())
async def test_bad_set_presence_is_refused_and_changes_nothing(
    server: ServerHarness, fields: dict[str, object], code: ErrorCode
) -> None:
    """Each bad SetPresence gets its error; presence stays as it was (Alice on her ticket)."""
    async with wire(server.url, login=ALICE) as alice:
        ticket_id = await create(alice)
        await set_presence(alice, ticket_id)
        reply = await alice.send_raw(json.dumps({"type": "SetPresence", "rid": 7, **fields}))
        assert isinstance(reply, Error) and reply.code is code and reply.rid == 7
        [shown] = await presence(alice)
        assert (shown.ticket_id, [v.name for v in shown.viewers]) == (ticket_id, [ALICE.name])


@pytest.mark.parametrize("request_", [SetPresence(rid=1, ticket_id=None), GetPresence(rid=1)], ids=["set", "get"])
async def test_presence_needs_a_login(server: ServerHarness, request_: SetPresence | GetPresence) -> None:
    """Before Login, presence requests are unauthorized."""
    async with wire(server.url) as anonymous:
        reply = await anonymous.request(request_)
        assert isinstance(reply, Error) and reply.code is ErrorCode.UNAUTHORIZED
