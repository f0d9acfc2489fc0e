"""Every bad frame gets a typed `Error` (or a close code), the connection lives on, and state stays as it was."""

from __future__ import annotations

import json
import logging
import uuid

import msgspec
import pytest

from protocol.codec import JSON, MSGPACK, Codec
from protocol.messages import (
    Ack,
    AllTickets,
    CloseCode,
    CreateTicket,
    Error,
    ErrorCode,
    GetTickets,
    LockTicket,
    Ticket,
    TicketCreated,
)
from tests.conftest import ServerFactory
from tests.server.test_tickets import create
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, ServerHarness

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


# --- hostile frames: each is bad input like any other -------------------------------------------------------------

DEEP = "[" * 1000 + "]" * 1000


def _mp(head: bytes, *pairs: bytes) -> bytes:
    """A MessagePack map built by hand (``head`` is its map header), for frames msgspec would never encode."""
    return head + b"".join(pairs)


MP_TYPE = b"\xa4type\xaaGetTickets"
MP_RID3 = b"\xa3rid\x03"

# (case, frame, rid echoed): every one must be answered `bad_request` on a connection that stays usable
HOSTILE_JSON: list[tuple[str, str | bytes, int | None]] = [
    ("deep nesting in an unknown field", '{"x":' + DEEP + ',"type":"Login","rid":5}', None),
    ("deep nesting after the rid", '{"rid":5,"type":"GetTickets","x":' + DEEP + "}", None),
    ("deep objects", '{"x":' + '{"a":' * 1000 + "1" + "}" * 1000 + ',"type":"GetTickets","rid":5}', None),
    ("deep nesting in a known field", '{"type":"CreateTicket","rid":6,"title":' + DEEP + "}", None),
    ("huge integer rid", '{"type":"GetTickets","rid":' + "9" * 5000 + "}", None),
    ("rid out of float range", '{"type":"GetTickets","rid":1e400}', None),
    ("NaN rid", '{"type":"GetTickets","rid":NaN}', None),
    ("Infinity rid", '{"type":"GetTickets","rid":Infinity}', None),
    ("float rid", '{"type":"GetTickets","rid":1.0}', None),
    ("boolean rid", '{"type":"GetTickets","rid":true}', None),
    ("two different types", '{"type":"GetTickets","rid":7,"type":"Logout"}', 7),
    ("lone surrogate escape", '{"type":"CreateTicket","rid":8,"title":"\\ud800"}', None),
    ("byte order mark", '\ufeff{"type":"GetTickets","rid":9}', None),
    ("trailing garbage", '{"type":"GetTickets","rid":10} {}', None),
    ("long string in an unknown field", '{"x":"' + "a" * 900_000 + '","type":"GetTickets","rid":11}', 11),
    ("long number in an unknown field", '{"x":' + "9" * 900_000 + ',"type":"GetTickets","rid":12}', 12),
    ("json in a binary frame", b'{"type":"GetTickets","rid":13}', 13),
]
HOSTILE_MSGPACK: list[tuple[str, str | bytes, int | None]] = [
    ("deep arrays in an unknown field", _mp(b"\x83", b"\xa1x" + b"\x91" * 1000 + b"\xc0", MP_TYPE, MP_RID3), None),
    ("deep maps after the rid", _mp(b"\x83", MP_TYPE, MP_RID3, b"\xa1x" + b"\x81\x01" * 1000 + b"\xc0"), None),
    ("extension type in an unknown field", _mp(b"\x83", MP_TYPE, MP_RID3, b"\xa1x\xd4\x05\x00"), 3),
    ("extension type as rid", _mp(b"\x82", MP_TYPE, b"\xa3rid\xd4\x05\x00"), None),
    ("timestamp as rid", _mp(b"\x82", MP_TYPE, b"\xa3rid\xd6\xff\x00\x00\x00\x01"), None),
    ("uint64 rid", msgspec.msgpack.encode({"type": "GetTickets", "rid": 2**64 - 1}), None),
    ("NaN rid", msgspec.msgpack.encode({"type": "GetTickets", "rid": float("nan")}), None),
    ("integer key", _mp(b"\x83", MP_TYPE, MP_RID3, b"\x01\x02"), None),
    ("map as a key", _mp(b"\x83", MP_TYPE, MP_RID3, b"\x81\x01\x01\x02"), None),
    ("map header promising 4G entries", b"\xdf\xff\xff\xff\xff" + MP_TYPE, None),
    ("string header promising 4 GB", _mp(b"\x82", b"\xa4type\xdb\xff\xff\xff\xff"), None),
    ("invalid UTF-8 in a string", _mp(b"\x83", b"\xa4type\xacCreateTicket", MP_RID3, b"\xa5title\xa2\xff\xfe"), 3),
    ("bytes where text belongs", msgspec.msgpack.encode({"type": "CreateTicket", "rid": 4, "title": b"t"}), 4),
    ("trailing garbage", msgspec.msgpack.encode({"type": "GetTickets", "rid": 5}) + b"\x00", None),
    ("msgpack in a text frame", '{"type":"GetTickets","rid":6}', None),
]


def _no_noise(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing above DEBUG and no traceback was logged: the client's mistake was answered, not reported."""
    loud = [r for r in caplog.records if r.levelno > logging.DEBUG or r.exc_info is not None]
    assert loud == [], [r.getMessage() for r in loud]


@pytest.mark.parametrize(
    ("codec", "frame", "rid"),
    [pytest.param(JSON, *case[1:], id=f"json: {case[0]}") for case in HOSTILE_JSON]
    + [pytest.param(MSGPACK, *case[1:], id=f"msgpack: {case[0]}") for case in HOSTILE_MSGPACK],
)
async def test_hostile_frame_is_a_bad_request(
    server: ServerHarness, caplog: pytest.LogCaptureFixture, codec: Codec, frame: str | bytes, rid: int | None
) -> None:
    """A hostile frame gets `bad_request` (rid when readable), the connection works on, nothing is logged."""
    caplog.set_level(logging.DEBUG, logger="lesbillets_server")
    async with wire(server.url, codec=codec, login=ALICE) as alice:
        before = await _state(alice)
        reply = await alice.send_raw(frame)
        assert isinstance(reply, Error)
        assert (reply.code, reply.rid) == (ErrorCode.BAD_REQUEST, rid)
        assert reply.message.startswith(("The message could not be read", "Invalid field"))
        assert reply.message.endswith(".") and "Traceback" not in reply.message
        assert await _state(alice) == before  # still connected, nothing changed
    _no_noise(caplog)
    assert len([r for r in caplog.records if r.name == "lesbillets_server.connection"]) <= 1


@pytest.mark.parametrize(
    ("codec", "frame", "sentence"),
    [
        (JSON, b'{"type":"GetTickets","rid":1}', "JSON must be sent in text frames"),
        (MSGPACK, "\x81\xa4type", "MessagePack must be sent in binary frames"),
    ],
    ids=["json-binary", "msgpack-text"],
)
async def test_each_encoding_has_one_frame_type(
    server: ServerHarness, codec: Codec, frame: str | bytes, sentence: str
) -> None:
    """JSON travels in text frames and MessagePack in binary ones; the other type gets a sentence saying so."""
    async with wire(server.url, codec=codec, login=ALICE) as alice:
        reply = await alice.send_raw(frame)
        assert isinstance(reply, Error)
        assert reply.code is ErrorCode.BAD_REQUEST
        assert sentence in reply.message
        await _state(alice)


async def test_duplicate_keys_take_the_last_value(server: ServerHarness) -> None:
    """A repeated key is not refused: the last value counts, for the request and for the rid echoed."""
    async with wire(server.url, login=ALICE) as alice:
        reply = await alice.send_raw('{"type":"GetTickets","rid":1,"rid":2}')
        assert isinstance(reply, AllTickets)
        assert reply.rid == 2


async def test_invalid_utf8_text_frame_closes_1007(server: ServerHarness, caplog: pytest.LogCaptureFixture) -> None:
    """A text frame that is not UTF-8 breaks the websocket protocol itself: close 1007, no traceback."""
    caplog.set_level(logging.DEBUG, logger="lesbillets_server")
    async with wire(server.url, login=ALICE) as alice:
        await alice.ws.send(b'{"type":"GetTickets","rid":1,"x":"\xff"}', text=True)
        code, _ = await alice.closed()
        assert code == 1007
    _no_noise(caplog)


async def test_flood_of_bad_frames_logs_one_line(
    server_factory: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad frames count against the rate limit like any request; the close for flooding logs one line in all."""
    server = await server_factory(rate_per_s=1, rate_burst=5)
    caplog.set_level(logging.DEBUG, logger="lesbillets_server")
    frame = '{"x":' + DEEP + ',"type":"GetTickets","rid":1}'
    async with wire(server.url) as peer:
        for _ in range(12):  # pipelined: one burst; the 11th frame is the one that closes
            await peer.ws.send(frame)
        replies = [await peer.next_reply() for _ in range(10)]
        codes = [reply.code for reply in replies if isinstance(reply, Error)]
        assert codes == [ErrorCode.BAD_REQUEST] * 5 + [ErrorCode.RATE_LIMITED] * 5
        code, _ = await peer.closed()
        assert code == CloseCode.POLICY_VIOLATION
    assert not [r for r in caplog.records if r.exc_info is not None]
    above_debug = [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG]
    assert len(above_debug) == 1 and "flooding" in above_debug[0]


# --- text rules: what titles and descriptions may hold --------------------------------------------------------------

# (case, character): refused in titles and descriptions alike
REFUSED_EVERYWHERE = [
    ("NUL", "\x00"),
    ("BEL", "\x07"),
    ("ESC", "\x1b"),
    ("carriage return", "\r"),
    ("DEL", "\x7f"),
    ("C1 CSI", "\x9b"),
    ("line separator", "\u2028"),
    ("right-to-left override", "\u202e"),
    ("left-to-right embedding", "\u202a"),
    ("first strong isolate", "\u2068"),
]
ALLOWED_IN_DESCRIPTION_ONLY = [("newline", "\n"), ("tab", "\t")]
ACCEPTED_TEXT = [
    ("rich markup", "[bold red]pwned[/] [link=https://example.com]x[/link]"),
    ("textual markup", "$accent [@click=app.quit]quit[/]"),
    ("right-to-left with marks", "\u05e9\u05dc\u05d5\u05dd \u200fworld\u200e \u0645\u0631\u062d\u0628\u0627"),
    ("emoji and combining marks", "printer 🖨️ jams, cafe\u0301, 👩‍💻"),
    ("backslash escapes as text", "\\x1b[2J \\n \\u202e"),
]


@pytest.mark.parametrize(
    ("field", "character"),
    [
        pytest.param(field, character, id=f"{field}: {case}")
        for field in ("title", "description")
        for case, character in REFUSED_EVERYWHERE
    ]
    + [pytest.param("title", character, id=f"title: {case}") for case, character in ALLOWED_IN_DESCRIPTION_ONLY],
)
async def test_control_characters_are_refused(server: ServerHarness, field: str, character: str) -> None:
    """A title or description holding a refused character gets `bad_request` naming the field, in both requests."""
    async with wire(server.url, login=ALICE) as alice:
        tid = await create(alice, "clean")
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        before = await _state(alice)
        text = f"before{character}after"
        create_fields = {"title": "t", field: text}
        requests = [
            {"type": "CreateTicket", "rid": alice.rid(), **create_fields},
            {"type": "UpdateTicket", "rid": alice.rid(), "ticket_id": str(tid), "version": 1, field: text},
        ]
        for request in requests:
            reply = await alice.send_raw(json.dumps(request))
            assert isinstance(reply, Error)
            assert (reply.code, reply.rid, reply.detail) == (ErrorCode.BAD_REQUEST, request["rid"], f"$.{field}")
            assert "control characters" in reply.message and "regex" not in reply.message
        assert await _state(alice) == before


@pytest.mark.parametrize("text", [text for _, text in ACCEPTED_TEXT], ids=[case for case, _ in ACCEPTED_TEXT])
async def test_any_other_text_is_stored_and_sent_as_is(server: ServerHarness, text: str) -> None:
    """Markup-like and right-to-left text is legitimate: stored and broadcast exactly as sent."""
    description = f"{text}\n\tsecond line"
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        await bob.expect(GetTickets(rid=bob.rid()), AllTickets)
        ack = await alice.expect(CreateTicket(rid=alice.rid(), title=text, description=description), Ack)
        assert ack.ticket is not None
        assert (ack.ticket.title, ack.ticket.description) == (text, description)
        event = await bob.next_event()
        assert isinstance(event, TicketCreated)
        assert (event.ticket.title, event.ticket.description) == (text, description)
    await server.restart()
    async with wire(server.url, login=BOB) as bob:
        (stored,) = (await bob.expect(GetTickets(rid=bob.rid()), AllTickets)).tickets
        assert (stored.title, stored.description) == (text, description)
