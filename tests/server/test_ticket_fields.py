"""Ticket numbers, due times and tags over a real websocket: given, resolved, refused and in the history."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from protocol.messages import (
    Ack,
    AllTickets,
    Changed,
    ChangeTickets,
    CreateTicket,
    Error,
    ErrorCode,
    GetHistory,
    GetTickets,
    History,
    HistoryKind,
    LockTicket,
    RenewLock,
    Reply,
    Request,
    Status,
    Ticket,
    TicketCreated,
    UnlockTicket,
    UpdateTicket,
)
from tests.conftest import Replicas
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, ServerHarness


async def new(peer: Wire, title: str = "Printer jam", **fields: object) -> Ticket:
    ack = await peer.expect(CreateTicket(rid=peer.rid(), title=title, **fields), Ack)  # type: ignore[arg-type]
    assert ack.ticket is not None
    return ack.ticket


async def state(peer: Wire) -> tuple[int, list[Ticket]]:
    snapshot = await peer.expect(GetTickets(rid=peer.rid()), AllTickets)
    return snapshot.seq, snapshot.tickets


# --- numbers -----------------------------------------------------------------------------------------------------


async def test_tickets_are_numbered_in_creation_order_and_keep_it(server: ServerHarness) -> None:
    """#1, #2, #3 in the replies, the events and the snapshot; a restart goes on at #4."""
    async with wire(server.url, login=ALICE) as alice:
        tickets = [await new(alice, f"t{i}") for i in range(3)]
        assert [t.number for t in tickets] == [1, 2, 3]
        events = [await alice.next_event() for _ in range(3)]
        assert [e.ticket.number for e in events if isinstance(e, TicketCreated)] == [1, 2, 3]
        assert sorted(t.number for t in (await state(alice))[1]) == [1, 2, 3]
    await server.restart()
    async with wire(server.url, login=ALICE) as alice:
        assert (await new(alice)).number == 4
        assert await alice.expect(LockTicket(rid=alice.rid(), ticket_id=2), Ack)


REQUESTS_BY_REF: list[tuple[str, Callable[[int, uuid.UUID | int], Request]]] = [
    ("LockTicket", lambda rid, ref: LockTicket(rid=rid, ticket_id=ref)),
    ("RenewLock", lambda rid, ref: RenewLock(rid=rid, ticket_id=ref)),
    ("UpdateTicket", lambda rid, ref: UpdateTicket(rid=rid, ticket_id=ref, version=1, title="by number")),
    ("UnlockTicket", lambda rid, ref: UnlockTicket(rid=rid, ticket_id=ref)),
    ("GetHistory", lambda rid, ref: GetHistory(rid=rid, ticket_id=ref)),
]


@pytest.mark.parametrize("make", [case[1] for case in REQUESTS_BY_REF], ids=[case[0] for case in REQUESTS_BY_REF])
async def test_every_request_names_a_ticket_by_number(
    server: ServerHarness, make: Callable[[int, uuid.UUID | int], Request]
) -> None:
    """Each request taking a ticket_id takes the number as well, and acts on that ticket."""
    async with wire(server.url, login=ALICE) as alice:
        await new(alice, "other")
        ticket = await new(alice)
        if not isinstance(make(0, 1), LockTicket | GetHistory):
            await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        reply = await alice.request(make(alice.rid(), ticket.number))
        assert isinstance(reply, Ack | History), reply
        if isinstance(reply, History):
            assert reply.ticket_id == ticket.id
        elif reply.ticket is not None:
            assert reply.ticket.id == ticket.id


BAD_REFS: list[tuple[str, uuid.UUID | int]] = [("unknown number", 999), ("unknown id", uuid.uuid4())]


@pytest.mark.parametrize("ref", [case[1] for case in BAD_REFS], ids=[case[0] for case in BAD_REFS])
@pytest.mark.parametrize("make", [case[1] for case in REQUESTS_BY_REF], ids=[case[0] for case in REQUESTS_BY_REF])
async def test_a_ref_to_no_ticket_is_not_found(
    server: ServerHarness, make: Callable[[int, uuid.UUID | int], Request], ref: uuid.UUID | int
) -> None:
    """A number or an id no ticket has is `not_found` on every request path, and nothing changes."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await new(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        before = await state(alice)
        reply = await alice.request(make(alice.rid(), ref))
        assert isinstance(reply, Error) and reply.code is ErrorCode.NOT_FOUND, reply
        assert await state(alice) == before


async def test_numbers_are_unique_across_replicas(replicas: Replicas) -> None:
    """Alice on A and Bob on B create at once: every number is given once, and either replica resolves it."""
    a, b = await replicas(2)
    async with wire(a.url, login=ALICE) as alice, wire(b.url, login=BOB) as bob:

        async def ten(peer: Wire) -> list[Ticket]:
            return [await new(peer, f"t{i}") for i in range(10)]

        made = [t for batch in await asyncio.gather(ten(alice), ten(bob)) for t in batch]
        assert sorted(t.number for t in made) == list(range(1, 21))
        for _ in range(20):
            await bob.next_event()
        on_a = next(t for t in made if t.created_by != made[-1].created_by)
        locked = await bob.expect(LockTicket(rid=bob.rid(), ticket_id=on_a.number), Ack)
        assert locked.ticket is not None and locked.ticket.id == on_a.id


# --- due times and tags ------------------------------------------------------------------------------------------


async def test_due_time_and_tags_are_set_changed_and_sent_to_everyone(server: ServerHarness) -> None:
    """Create and update carry the due time (in UTC) and the tags (once each); the events carry them too."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        due = datetime(2026, 11, 24, 18, 0, tzinfo=timezone(timedelta(hours=1)))
        ticket = await new(alice, due_at=due, tags=["vpn", "home-office", "vpn"])
        assert (ticket.due_at, ticket.tags) == (datetime(2026, 11, 24, 17, 0, tzinfo=UTC), ["vpn", "home-office"])
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        ack = await alice.expect(
            UpdateTicket(rid=alice.rid(), ticket_id=ticket.number, version=1, due_at=None, tags=["printer"]), Ack
        )
        assert ack.ticket is not None and (ack.ticket.due_at, ack.ticket.tags) == (None, ["printer"])
        created, _, updated = [await bob.next_event() for _ in range(3)]
        assert isinstance(created, TicketCreated) and created.ticket == ticket
        assert getattr(updated, "ticket", None) == ack.ticket


async def test_history_shows_due_times_and_tags(server: ServerHarness) -> None:
    """The history names tags as comma-separated words and due times in ISO 8601, before and after."""
    async with wire(server.url, login=ALICE) as alice:
        due = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
        ticket = await new(alice, tags=["vpn", "home"], due_at=due)
        await alice.expect(
            ChangeTickets(rid=alice.rid(), ticket_ids=[ticket.id], add_tags=["wifi"], remove_tags=["vpn"]), Changed
        )
        await alice.expect(
            ChangeTickets(rid=alice.rid(), ticket_ids=[ticket.id], due_at=due + timedelta(hours=2)), Changed
        )
        await alice.expect(
            ChangeTickets(rid=alice.rid(), ticket_ids=[ticket.id], due_at=None, remove_tags=["home", "wifi"]), Changed
        )
        history = await alice.expect(GetHistory(rid=alice.rid(), ticket_id=ticket.number), History)
    created, tagged, moved, cleared = history.entries
    assert created.kind is HistoryKind.CREATED
    assert {(c.field, c.old, c.new) for c in created.changes} >= {
        ("tags", None, "vpn, home"),
        ("due_at", None, "2026-11-24T17:00:00Z"),
    }
    assert [(c.field, c.old, c.new) for c in tagged.changes] == [("tags", "vpn, home", "home, wifi")]
    assert [(c.field, c.old, c.new) for c in moved.changes] == [
        ("due_at", "2026-11-24T17:00:00Z", "2026-11-24T19:00:00Z")
    ]
    assert [(c.field, c.old, c.new) for c in cleared.changes] == [
        ("due_at", "2026-11-24T19:00:00Z", None),
        ("tags", "home, wifi", None),
    ]
    assert all(e.kind is HistoryKind.UPDATED for e in (tagged, moved, cleared))


# --- bad input for the new fields: each a typed error, nothing changed ------------------------------------------

_T = '"type":"CreateTicket","title":"t"'
_C = '"type":"ChangeTickets","ticket_ids":[1]'
_U = '"type":"UpdateTicket","ticket_id":1,"version":1'

BAD_FIELDS: list[tuple[str, str, ErrorCode, str | None]] = [
    # (case, the frame's fields but rid, code, detail)
    ("due time without a zone", _T + ',"due_at":"2026-11-24T17:00:00"', ErrorCode.BAD_REQUEST, "$.due_at"),
    ("due time past 9999 in UTC", _T + ',"due_at":"9999-12-31T23:00:00-05:00"', ErrorCode.BAD_REQUEST, "$.due_at"),
    ("due time before 1970", _T + ',"due_at":"1969-12-31T23:59:59Z"', ErrorCode.BAD_REQUEST, "$.due_at"),
    ("due time as a number", _T + ',"due_at":1764000000', ErrorCode.BAD_REQUEST, "$.due_at"),
    ("due time in words", _T + ',"due_at":"tomorrow"', ErrorCode.BAD_REQUEST, "$.due_at"),
    ("tags not a list", _T + ',"tags":"vpn"', ErrorCode.BAD_REQUEST, "$.tags"),
    ("uppercase tag", _T + ',"tags":["VPN"]', ErrorCode.BAD_REQUEST, "$.tags[0]"),
    ("tag with a space", _T + ',"tags":["ok","two words"]', ErrorCode.BAD_REQUEST, "$.tags[1]"),
    ("tag starting with a dash", _T + ',"tags":["-x"]', ErrorCode.BAD_REQUEST, "$.tags[0]"),
    ("empty tag", _T + ',"tags":[""]', ErrorCode.BAD_REQUEST, "$.tags[0]"),
    ("tag too long", _T + ',"tags":["' + "x" * 33 + '"]', ErrorCode.BAD_REQUEST, "$.tags[0]"),
    ("21 tags", _T + ',"tags":' + json.dumps([f"t{i}" for i in range(21)]), ErrorCode.BAD_REQUEST, "$.tags"),
    ("update: due time without a zone", _U + ',"due_at":"2026-11-24T17:00"', ErrorCode.BAD_REQUEST, "$.due_at"),
    ("update: uppercase tag", _U + ',"tags":["A"]', ErrorCode.BAD_REQUEST, "$.tags[0]"),
    ("update: tags null", _U + ',"tags":null', ErrorCode.BAD_REQUEST, "$.tags"),
    ("no tickets", '"type":"ChangeTickets","ticket_ids":[],"status":"closed"', ErrorCode.BAD_REQUEST, "$.ticket_ids"),
    (
        "201 tickets",
        '"type":"ChangeTickets","status":"closed","ticket_ids":' + json.dumps(list(range(1, 202))),
        ErrorCode.BAD_REQUEST,
        "$.ticket_ids",
    ),
    ("number zero", '"type":"ChangeTickets","ticket_ids":[0],"status":"closed"', ErrorCode.BAD_REQUEST, None),
    ("negative number", '"type":"LockTicket","ticket_id":-3', ErrorCode.BAD_REQUEST, None),
    ("number past 2^53", '"type":"LockTicket","ticket_id":9007199254740992', ErrorCode.BAD_REQUEST, None),
    ("number as a float", '"type":"LockTicket","ticket_id":1.0', ErrorCode.BAD_REQUEST, None),
    ("number as a string", '"type":"LockTicket","ticket_id":"1"', ErrorCode.BAD_REQUEST, None),
    ("unknown number", '"type":"LockTicket","ticket_id":999', ErrorCode.NOT_FOUND, None),
    ("change naming no field", _C, ErrorCode.BAD_REQUEST, None),
    ("tag added and removed", _C + ',"add_tags":["a"],"remove_tags":["a"]', ErrorCode.BAD_REQUEST, "$.remove_tags"),
    ("change: bad status", _C + ',"status":"done"', ErrorCode.BAD_REQUEST, "$.status"),
    ("change: uppercase tag", _C + ',"add_tags":["Vpn"]', ErrorCode.BAD_REQUEST, "$.add_tags[0]"),
    ("change: due without a zone", _C + ',"due_at":"2026-11-24T17:00:00"', ErrorCode.BAD_REQUEST, "$.due_at"),
    ("change: unknown assignee", _C + f',"assignee":"{uuid.uuid4()}"', ErrorCode.BAD_REQUEST, "$.assignee"),
    ("change: unknown field", _C + ',"title":"renamed"', ErrorCode.BAD_REQUEST, None),
]


@pytest.mark.parametrize(
    ("fields", "code", "detail"), [case[1:] for case in BAD_FIELDS], ids=[case[0] for case in BAD_FIELDS]
)
async def test_bad_new_fields_get_a_typed_error_and_change_nothing(
    server: ServerHarness, fields: str, code: ErrorCode, detail: str | None
) -> None:
    """Each bad due time, tag, ticket number or quick change: one typed Error, the table as it was."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await new(alice, tags=["vpn"])  # #1, locked by Alice, so an update reaches its fields' checks
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        before = await state(alice)
        rid = alice.rid()
        reply: Reply = await alice.send_raw("{" + fields + f',"rid":{rid}' + "}")
        assert isinstance(reply, Error), reply
        assert (reply.code, reply.rid) == (code, rid)
        if detail is not None:
            assert reply.detail == detail
        assert reply.message.endswith(".") and "Traceback" not in reply.message
        assert await state(alice) == before
        assert (await state(alice))[1][0].status is Status.OPEN
