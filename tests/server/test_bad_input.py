"""Every bad frame gets a typed `Error` (or a close code), the connection lives on, and state stays as it was."""

from __future__ import annotations

import json
import uuid

import msgspec
import pytest

from protocol.codec import MSGPACK
from protocol.messages import Ack, AllTickets, Error, ErrorCode, GetTickets, LockTicket, Ticket
from tests.server.test_tickets import create
from tests.server.wire import Wire, wire
from tests.support import ALICE, ServerHarness

UNKNOWN = str(uuid.uuid4())

BAD_FRAMES: list[tuple[str, str | bytes, ErrorCode, int | None, str | None]] = [
    # (case, frame, code, rid echoed, detail)
    ("malformed json", "{not json", ErrorCode.BAD_REQUEST, None, None),
    ("empty frame", "", ErrorCode.BAD_REQUEST, None, None),
    ("not an object", "[1, 2]", ErrorCode.BAD_REQUEST, None, None),
    ("no type", '{"rid": 3}', ErrorCode.BAD_REQUEST, 3, None),
    ("unknown type", '{"type": "DropTables", "rid": 4}', ErrorCode.BAD_REQUEST, 4, "$.type"),
    ("server message sent by client", '{"type": "Ack", "rid": 5}', ErrorCode.BAD_REQUEST, 5, "$.type"),
    ("missing rid", '{"type": "GetTickets"}', ErrorCode.BAD_REQUEST, None, None),
    ("negative rid", '{"type": "GetTickets", "rid": -1}', ErrorCode.BAD_REQUEST, None, "$.rid"),
    ("string rid", '{"type": "GetTickets", "rid": "7"}', ErrorCode.BAD_REQUEST, None, "$.rid"),
    ("extra field", '{"type": "GetTickets", "rid": 8, "admin": true}', ErrorCode.BAD_REQUEST, 8, None),
    ("missing title", '{"type": "CreateTicket", "rid": 9}', ErrorCode.BAD_REQUEST, 9, None),
    ("empty title", '{"type": "CreateTicket", "rid": 10, "title": ""}', ErrorCode.BAD_REQUEST, 10, "$.title"),
    (
        "title too long",
        json.dumps({"type": "CreateTicket", "rid": 11, "title": "x" * 201}),
        ErrorCode.BAD_REQUEST,
        11,
        "$.title",
    ),
    (
        "description too long",
        json.dumps({"type": "CreateTicket", "rid": 12, "title": "t", "description": "x" * 20_001}),
        ErrorCode.BAD_REQUEST,
        12,
        "$.description",
    ),
    (
        "bad status",
        '{"type": "CreateTicket", "rid": 13, "title": "t", "status": "done"}',
        ErrorCode.BAD_REQUEST,
        13,
        "$.status",
    ),
    (
        "bad priority type",
        '{"type": "CreateTicket", "rid": 14, "title": "t", "priority": 3}',
        ErrorCode.BAD_REQUEST,
        14,
        "$.priority",
    ),
    ("bad uuid", '{"type": "LockTicket", "rid": 15, "ticket_id": "nope"}', ErrorCode.BAD_REQUEST, 15, "$.ticket_id"),
    ("unknown ticket", f'{{"type": "LockTicket", "rid": 16, "ticket_id": "{UNKNOWN}"}}', ErrorCode.NOT_FOUND, 16, None),
    (
        "version zero",
        f'{{"type": "UpdateTicket", "rid": 17, "ticket_id": "{UNKNOWN}", "version": 0}}',
        ErrorCode.BAD_REQUEST,
        17,
        "$.version",
    ),
    (
        "force not bool",
        f'{{"type": "UnlockTicket", "rid": 18, "ticket_id": "{UNKNOWN}", "force": "yes"}}',
        ErrorCode.BAD_REQUEST,
        18,
        "$.force",
    ),
    ("binary garbage", b"\xff\xfe\x00", ErrorCode.BAD_REQUEST, None, None),
    ("nested depth", "[" * 5000 + "]" * 5000, ErrorCode.BAD_REQUEST, None, None),
]


async def _state(peer: Wire) -> tuple[int, list[Ticket]]:
    snapshot = await peer.expect(GetTickets(rid=peer.rid()), AllTickets)
    return snapshot.seq, snapshot.tickets


@pytest.mark.parametrize(
    ("frame", "code", "rid", "detail"), [case[1:] for case in BAD_FRAMES], ids=[case[0] for case in BAD_FRAMES]
)
async def test_bad_frame_gets_typed_error(
    server: ServerHarness, frame: str | bytes, code: ErrorCode, rid: int | None, detail: str | None
) -> None:
    """The frame gets one `Error` with the code, rid and field path; state and connection are intact."""
    async with wire(server.url, login=ALICE) as alice:
        await create(alice, "existing")
        before = await _state(alice)
        reply = await alice.send_raw(frame)
        assert isinstance(reply, Error)
        assert (reply.code, reply.rid) == (code, rid)
        if detail is not None:
            assert reply.detail == detail
        assert reply.message and "Traceback" not in reply.message
        assert await _state(alice) == before  # still connected, nothing changed


@pytest.mark.parametrize(
    "frame",
    [b"\xc1", msgspec.msgpack.encode({"type": "GetTickets"}), msgspec.msgpack.encode([1, 2])],
    ids=["invalid msgpack", "missing rid", "array"],
)
async def test_bad_msgpack_frame(server: ServerHarness, frame: bytes) -> None:
    """MessagePack connections get the same typed `bad_request` for frames they cannot decode."""
    async with wire(server.url, codec=MSGPACK, login=ALICE) as alice:
        reply = await alice.send_raw(frame)
        assert isinstance(reply, Error)
        assert reply.code is ErrorCode.BAD_REQUEST
        await _state(alice)


async def test_requests_before_login_are_unauthorized(server: ServerHarness) -> None:
    """Before login every request but Login/Resume gets `unauthorized`, and the connection stays."""
    async with wire(server.url) as anonymous:
        for request in (GetTickets(rid=1), LockTicket(rid=2, ticket_id=uuid.uuid4())):
            reply = await anonymous.request(request)
            assert isinstance(reply, Error)
            assert reply.code is ErrorCode.UNAUTHORIZED
        await anonymous.login(ALICE)
        await _state(anonymous)


async def test_lock_of_unknown_ticket_changes_nothing(server: ServerHarness) -> None:
    """A refused change emits no event: the next event seen is from the next real change."""
    async with wire(server.url, login=ALICE) as alice:
        error = await alice.request(LockTicket(rid=alice.rid(), ticket_id=uuid.uuid4()))
        assert isinstance(error, Error)
        tid = await create(alice)
        ack = await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        assert ack.ticket is not None
        assert [e.seq for e in alice.events] == [1, 2]
