"""The codecs, without an event loop: every message round-trips; every bad frame is refused precisely."""

from __future__ import annotations

import contextlib
import random
import typing
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from protocol.codec import JSON, MSGPACK, Codec, codec_for, describe_decode_error, json_schema
from protocol.messages import (
    BATCH_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    MULTILINE_TEXT,
    ONE_LINE_TEXT,
    RID_MAX,
    TITLE_MAX,
    Account,
    Accounts,
    Ack,
    AddComment,
    AddUser,
    AllTickets,
    Changed,
    ChangeTickets,
    ClientMessage,
    Comment,
    CommentAdded,
    CommentEdited,
    CreateTicket,
    EditComment,
    Error,
    ErrorCode,
    FieldChange,
    GetHistory,
    GetInbox,
    GetPresence,
    GetRows,
    GetTicket,
    GetTickets,
    GetUsers,
    History,
    HistoryEntry,
    HistoryKind,
    HitField,
    Inbox,
    InboxChanged,
    InboxItem,
    InboxKind,
    ListAccounts,
    Lock,
    LockTicket,
    Login,
    Logout,
    MarkRead,
    Message,
    Presence,
    PresenceChanged,
    Priority,
    Refusal,
    RenewLock,
    ResetPassword,
    Resume,
    Role,
    Row,
    Rows,
    Search,
    SearchHit,
    SearchResults,
    ServerMessage,
    SessionEnded,
    SessionEndReason,
    SetDisabled,
    SetPresence,
    Span,
    Status,
    Ticket,
    TicketCreated,
    TicketDetail,
    TicketLocked,
    TicketPresence,
    TicketUnlocked,
    TicketUpdated,
    UnlockReason,
    UnlockTicket,
    UpdateTicket,
    User,
    UserName,
    Users,
    Viewer,
    Welcome,
)

CODECS = [pytest.param(JSON, id="json"), pytest.param(MSGPACK, id="msgpack")]

ALICE_ID = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
TICKET_ID = uuid.UUID("7e57c0de-0000-4000-8000-000000000001")
NOW = datetime(2026, 11, 24, 9, 15, 0, 123456, tzinfo=UTC)
USER = User(id=ALICE_ID, email="alice@example.com", name="Alice Martin", role=Role.AGENT)
LOCK = Lock(user_id=ALICE_ID, user_name="Alice Martin", expires_at=NOW)
TICKET = Ticket(
    id=TICKET_ID,
    title="Printer jams",
    description="Ünïcödé, emoji 🖨️ and\nnewlines",
    status=Status.BLOCKED,
    priority=Priority.URGENT,
    assignee=ALICE_ID,
    created_at=NOW,
    created_by=ALICE_ID,
    updated_at=NOW,
    updated_by=ALICE_ID,
    version=3,
    lock=LOCK,
    number=1042,
    due_at=NOW,
    tags=["vpn", "home-office"],
)
COMMENT = Comment(
    id=uuid.UUID("c0ffee00-0000-4000-8000-000000000001"),
    ticket_id=TICKET_ID,
    author=ALICE_ID,
    author_name="Alice Martin",
    body="Asked **Bob**: @bob can you look?",
    created_at=NOW,
    mentions=[ALICE_ID],
)
VIEWERS = [Viewer(user_id=ALICE_ID, name="Alice Martin", editing=True)]
ITEM = InboxItem(
    seq=9,
    kind=InboxKind.MENTIONED,
    ticket_id=TICKET_ID,
    number=1042,
    title="Printer jams",
    actor=ALICE_ID,
    actor_name="Alice Martin",
    at=NOW,
    comment_id=COMMENT.id,
)

CLIENT_SAMPLES: list[ClientMessage] = [
    Login(rid=1, email="alice@example.com", password="secret"),
    Resume(rid=2, token="tok"),
    Resume(rid=2, token="tok", last_seq=41, epoch="3f2a"),
    Login(rid=1, email="alice@example.com", password="secret", last_seq=0, epoch="3f2a"),
    GetHistory(rid=12, ticket_id=TICKET_ID),
    Logout(rid=3),
    GetTickets(rid=4),
    GetUsers(rid=5),
    CreateTicket(rid=6, title="t" * TITLE_MAX, description="d" * DESCRIPTION_MAX, assignee=ALICE_ID),
    CreateTicket(rid=7, title="minimal"),
    LockTicket(rid=8, ticket_id=TICKET_ID),
    RenewLock(rid=9, ticket_id=TICKET_ID),
    RenewLock(rid=9, ticket_id=TICKET_ID, fence=7),
    UpdateTicket(rid=10, ticket_id=TICKET_ID, version=1, status=Status.CLOSED, assignee=None),
    UpdateTicket(rid=11, ticket_id=TICKET_ID, version=2, title="new", description="", priority=Priority.LOW),
    UnlockTicket(rid=RID_MAX, ticket_id=TICKET_ID, force=True),
    LockTicket(rid=14, ticket_id=1042),
    UpdateTicket(rid=15, ticket_id=1042, version=3, due_at=NOW, tags=["vpn"]),
    UpdateTicket(rid=15, ticket_id=TICKET_ID, version=3, due_at=None, tags=[]),
    CreateTicket(rid=16, title="with due", due_at=NOW, tags=["a", "b.c"]),
    GetTicket(rid=17, ticket_id=TICKET_ID),
    GetTicket(rid=17, ticket_id=1),
    GetRows(rid=18),
    GetRows(rid=18, first=1000),
    AddComment(rid=19, ticket_id=1042, body="x" * COMMENT_MAX),
    EditComment(rid=20, comment_id=COMMENT.id, body="fixed\nline two"),
    Search(rid=21, query="vpn status:open assignee:me", limit=100),
    SetPresence(rid=22, ticket_id=TICKET_ID, editing=True),
    SetPresence(rid=22),
    GetPresence(rid=23),
    GetInbox(rid=24, limit=500, unread_only=True),
    MarkRead(rid=25, seqs=[1, 2]),
    MarkRead(rid=25, up_to=41),
    ChangeTickets(rid=26, ticket_ids=[TICKET_ID, 1042], status=Status.CLOSED, assignee=None),
    ChangeTickets(rid=26, ticket_ids=[1] * BATCH_MAX, add_tags=["vpn"], remove_tags=["old"], due_at=NOW),
    ListAccounts(rid=27),
    AddUser(rid=28, email="carol@example.com", name="Carol", password="pw"),
    SetDisabled(rid=29, user_id=ALICE_ID, disabled=True),
    ResetPassword(rid=30, user_id=ALICE_ID, password="new"),
]
SERVER_SAMPLES: list[ServerMessage] = [
    Welcome(rid=1, user=USER, token="tok", lock_ttl_s=180.0, server_version="0.1.0"),
    Welcome(
        rid=1, user=USER, token="tok", lock_ttl_s=180.0, server_version="0.1.0", epoch="3f2a", seq=41, resumed=True
    ),
    History(
        rid=13,
        ticket_id=TICKET_ID,
        entries=[
            HistoryEntry(
                seq=1,
                at=NOW,
                actor=ALICE_ID,
                kind=HistoryKind.CREATED,
                changes=[FieldChange(field="title", old=None, new="t")],
            ),
            HistoryEntry(seq=9, at=NOW, actor=None, kind=HistoryKind.UNLOCKED, reason=UnlockReason.EXPIRED),
        ],
    ),
    AllTickets(rid=2, seq=41, tickets=[TICKET, msgspec.structs.replace(TICKET, lock=None, assignee=None)]),
    AllTickets(rid=3, seq=0, tickets=[]),
    Users(rid=4, users=[USER]),
    Ack(rid=5),
    Ack(rid=6, ticket=TICKET),
    Error(rid=7, code=ErrorCode.LOCKED, message="Locked by Alice.", lock=LOCK),
    Error(rid=None, code=ErrorCode.BAD_REQUEST, message="Unreadable.", detail="$.title"),
    TicketCreated(seq=1, ticket=TICKET),
    TicketUpdated(seq=2, ticket=TICKET),
    TicketLocked(seq=3, ticket_id=TICKET_ID, lock=LOCK),
    TicketUnlocked(seq=4, ticket_id=TICKET_ID, reason=UnlockReason.DISCONNECTED),
    SessionEnded(reason=SessionEndReason.DISABLED, message="This account was disabled; ask an admin."),
    Ack(rid=8, comment=COMMENT),
    Ack(rid=8, user=USER),
    TicketDetail(rid=9, ticket=TICKET, comments=[COMMENT, msgspec.structs.replace(COMMENT, edited_at=NOW)], seq=4),
    Rows(
        rid=10,
        seq=4,
        users=[ALICE_ID],
        rows=[
            Row(
                id=TICKET_ID,
                number=1042,
                title="Printer jams",
                status=Status.OPEN,
                priority=Priority.HIGH,
                assignee=0,
                created_by=0,
                updated_at=1_764_000_000,
                version=3,
                lock=LOCK,
                due_at=1_764_100_000,
                tags=["vpn"],
            ),
            Row(
                id=TICKET_ID,
                number=1,
                title="t",
                status=Status.OPEN,
                priority=Priority.LOW,
                assignee=None,
                created_by=0,
                updated_at=0,
                version=1,
            ),
        ],
        more=True,
    ),
    SearchResults(
        rid=11,
        hits=[
            SearchHit(
                ticket_id=TICKET_ID,
                number=1042,
                title="Printer jams",
                rank=1.5,
                field=HitField.COMMENT,
                snippet="… the vpn drops …",
                highlights=[Span(start=6, end=9)],
                comment_id=COMMENT.id,
            )
        ],
    ),
    Presence(rid=12, tickets=[TicketPresence(ticket_id=TICKET_ID, viewers=VIEWERS)]),
    Inbox(rid=13, items=[ITEM, msgspec.structs.replace(ITEM, read=True, kind=InboxKind.ASSIGNED)], unread=1),
    Changed(
        rid=14,
        tickets=[TICKET],
        refused=[Refusal(ticket_id=1042, code=ErrorCode.LOCKED, message="Locked by Alice.", lock=LOCK)],
    ),
    Accounts(rid=15, accounts=[Account(user=USER, disabled=True)]),
    CommentAdded(seq=5, comment=COMMENT),
    CommentEdited(seq=6, comment=COMMENT),
    PresenceChanged(ticket_id=TICKET_ID, viewers=VIEWERS),
    PresenceChanged(ticket_id=TICKET_ID, viewers=[]),
    InboxChanged(unread=2, item=ITEM),
    InboxChanged(unread=0),
]


def _members(union: Any) -> set[type]:
    return set(typing.get_args(union))


def test_samples_cover_every_message_type() -> None:
    """The round-trip samples include every member of both unions."""
    assert {type(m) for m in CLIENT_SAMPLES} == _members(ClientMessage)
    assert {type(m) for m in SERVER_SAMPLES} == _members(ServerMessage)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("message", CLIENT_SAMPLES, ids=lambda m: f"{type(m).__name__}-{m.rid}")
def test_client_messages_round_trip(codec: Codec, message: ClientMessage) -> None:
    """A client message decodes to an equal message after encoding."""
    assert codec.decode_client(codec.encode(message)) == message


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("message", SERVER_SAMPLES, ids=lambda m: type(m).__name__)
def test_server_messages_round_trip(codec: Codec, message: ServerMessage) -> None:
    """A server message decodes to an equal message after encoding."""
    assert codec.decode_server(codec.encode(message)) == message


def test_json_is_text_with_the_class_name_as_tag() -> None:
    """JSON frames are UTF-8 text tagged with "type"; MessagePack frames are binary."""
    assert JSON.text and not MSGPACK.text
    assert JSON.encode(GetTickets(rid=1)) == b'{"type":"GetTickets","rid":1}'
    assert JSON.decode_client('{"rid": 1, "type": "GetTickets"}') == GetTickets(rid=1)  # any order, str or bytes


def test_unset_update_fields_are_left_out() -> None:
    """An UpdateTicket sends only the fields it changes, and null for an unassign."""
    wire = msgspec.json.decode(JSON.encode(UpdateTicket(rid=1, ticket_id=TICKET_ID, version=2, assignee=None)))
    assert wire == {"type": "UpdateTicket", "rid": 1, "ticket_id": str(TICKET_ID), "version": 2, "assignee": None}


def test_codec_for_subprotocol() -> None:
    """Each subprotocol picks its codec; none (or an unknown one) means JSON."""
    assert codec_for("lesbillets.msgpack") is MSGPACK
    assert codec_for("lesbillets.json") is JSON
    assert codec_for(None) is JSON


def test_secrets_never_show_in_repr() -> None:
    """Passwords and tokens are masked in every repr, so a log line cannot leak them."""
    texts = [
        repr(Login(rid=1, email="a@b", password="hunter22")),
        repr(Resume(rid=1, token="tok-secret")),
        repr(Welcome(rid=1, user=USER, token="tok-secret", lock_ttl_s=1.0, server_version="x")),
    ]
    for text in texts:
        assert "hunter22" not in text and "tok-secret" not in text


# --- bad frames ------------------------------------------------------------------------

UPDATE = {"type": "UpdateTicket", "rid": 13, "ticket_id": str(TICKET_ID)}

# (id, frame as a Python value encoded by each codec, expected path, expected peek_rid)
BAD_FRAMES: list[tuple[str, Any, str | None, int | None]] = [
    ("unknown-type", {"type": "Nope", "rid": 5}, "$.type", 5),
    ("server-type-from-client", {"type": "Ack", "rid": 5}, "$.type", 5),
    ("missing-type", {"rid": 5}, None, 5),
    ("missing-field", {"type": "LockTicket", "rid": 6}, None, 6),
    ("missing-rid", {"type": "GetTickets"}, None, None),
    ("extra-field", {"type": "GetTickets", "rid": 7, "extra": 1}, None, 7),
    ("wrong-type-rid", {"type": "GetTickets", "rid": "8"}, "$.rid", None),
    ("wrong-type-force", {"type": "UnlockTicket", "rid": 8, "ticket_id": str(TICKET_ID), "force": "yes"}, "$.force", 8),
    ("empty-title", {"type": "CreateTicket", "rid": 9, "title": ""}, "$.title", 9),
    ("long-title", {"type": "CreateTicket", "rid": 9, "title": "x" * (TITLE_MAX + 1)}, "$.title", 9),
    (
        "long-description",
        {"type": "CreateTicket", "rid": 10, "title": "x", "description": "d" * (DESCRIPTION_MAX + 1)},
        "$.description",
        10,
    ),
    ("negative-rid", {"type": "GetTickets", "rid": -1}, "$.rid", None),
    ("rid-too-big", {"type": "GetTickets", "rid": RID_MAX + 1}, "$.rid", None),
    ("bad-uuid", {"type": "LockTicket", "rid": 11, "ticket_id": "nope"}, "$.ticket_id", 11),
    ("bad-status", {"type": "CreateTicket", "rid": 12, "title": "x", "status": "done"}, "$.status", 12),
    ("version-zero", {**UPDATE, "version": 0}, "$.version", 13),
    ("assignee-not-uuid", {**UPDATE, "version": 1, "assignee": 5}, "$.assignee", 13),
    ("bad-email", {"type": "Login", "rid": 14, "email": "nobody", "password": "x"}, "$.email", 14),
    ("empty-password", {"type": "Login", "rid": 14, "email": "a@b", "password": ""}, "$.password", 14),
    ("long-token", {"type": "Resume", "rid": 15, "token": "t" * 257}, "$.token", 15),
    ("not-an-object", [1, 2], None, None),
    ("null", None, None, None),
]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(("frame", "path", "rid"), [pytest.param(*case[1:], id=case[0]) for case in BAD_FRAMES])
def test_bad_client_frames_are_refused(codec: Codec, frame: Any, path: str | None, rid: int | None) -> None:
    """A bad frame raises DecodeError with a sentence, the failing field path, and the rid when readable."""
    data = msgspec.json.encode(frame) if codec is JSON else msgspec.msgpack.encode(frame)
    with pytest.raises(msgspec.DecodeError) as caught:
        codec.decode_client(data)
    sentence, found_path = describe_decode_error(caught.value)
    assert found_path == path
    assert sentence.endswith(".") and "\n" not in sentence
    assert codec.peek_rid(data) == rid


@pytest.mark.parametrize(
    ("data", "rid"),
    [
        pytest.param(b'{"type": "GetTickets", "rid": 1', None, id="truncated"),
        pytest.param(b'{"type": "GetTickets", "rid": 1}}', None, id="trailing-garbage"),
        pytest.param(b"", None, id="empty"),
        pytest.param(b"\xff{}", None, id="not-utf8"),
        pytest.param('{"type": "GetTickets", "rid": 1,}', None, id="trailing-comma"),
    ],
)
def test_malformed_json_is_refused(data: bytes | str, rid: int | None) -> None:
    """Frames that are not JSON at all raise DecodeError with no field path."""
    with pytest.raises(msgspec.DecodeError) as caught:
        JSON.decode_client(data)
    sentence, path = describe_decode_error(caught.value)
    assert path is None
    assert sentence.startswith("The message could not be read")
    assert JSON.peek_rid(data) == rid


@pytest.mark.parametrize("data", [b"\xc1", b"\x81\xa4type", b""], ids=["reserved-byte", "truncated", "empty"])
def test_malformed_msgpack_is_refused(data: bytes) -> None:
    """Bytes that are not MessagePack raise DecodeError."""
    with pytest.raises(msgspec.DecodeError):
        MSGPACK.decode_client(data)
    assert MSGPACK.peek_rid(data) is None


@pytest.mark.parametrize("codec", CODECS)
def test_invalid_utf8_in_a_string_is_a_decode_error(codec: Codec) -> None:
    """A string that is not UTF-8 is refused like any other bad frame (DecodeError, rid still readable)."""
    good = codec.encode(Login(rid=16, email="a@b", password="x"))
    data = good.replace(b'"x"', b'"\xff"') if codec is JSON else good.replace(b"\xa1x", b"\xa1\xff")
    assert data != good
    assert codec.peek_rid(data) == 16
    with pytest.raises(msgspec.DecodeError):
        codec.decode_client(data)


DEEP_JSON = '{"x":' + "[" * 1000 + "]" * 1000 + ',"type":"Login","rid":5}'
DEEP_MSGPACK = b"\x83\xa1x" + b"\x91" * 1000 + b"\xc0\xa4type\xa5Login\xa3rid\x05"


@pytest.mark.parametrize(("codec", "data"), [(JSON, DEEP_JSON), (MSGPACK, DEEP_MSGPACK)], ids=["json", "msgpack"])
def test_deep_nesting_is_a_decode_error(codec: Codec, data: bytes | str) -> None:
    """Nesting past msgspec's depth guard, even in a field that would be skipped, is a DecodeError with a sentence."""
    for decode in (codec.decode_client, codec.decode_server):
        with pytest.raises(msgspec.DecodeError) as caught:
            decode(data)
        assert describe_decode_error(caught.value) == ("The message could not be read: it is nested too deeply.", None)
    assert codec.peek_rid(data) is None


def test_each_encoding_accepts_only_its_frame_type() -> None:
    """JSON comes in text frames (str) and MessagePack in binary ones (bytes); the other type is refused."""
    request = GetTickets(rid=1)
    assert JSON.decode_client_frame(JSON.encode(request).decode()) == request
    assert MSGPACK.decode_client_frame(MSGPACK.encode(request)) == request
    for codec, frame in ((JSON, JSON.encode(request)), (MSGPACK, MSGPACK.encode(request).decode("latin-1"))):
        with pytest.raises(msgspec.DecodeError) as caught:
            codec.decode_client_frame(frame)
        sentence, path = describe_decode_error(caught.value)
        assert "must be sent in" in sentence and path is None


def test_peek_rid_never_raises() -> None:
    """On the failure path peek_rid answers None for anything, even a str that cannot be encoded."""
    for codec in (JSON, MSGPACK):
        for data in ("\udcff", DEEP_JSON, DEEP_MSGPACK, b"\xdf\xff\xff\xff\xff", b"\x00" * 10):
            assert codec.peek_rid(data) is None


@pytest.mark.parametrize("codec", CODECS)
def test_mangled_frames_raise_only_decode_errors(codec: Codec) -> None:
    """Thousands of mangled valid frames (seeded, so reproducible) decode or raise DecodeError, nothing else."""
    rng = random.Random(7)
    frames = [codec.encode(message) for message in CLIENT_SAMPLES if not isinstance(message, CreateTicket)]
    openers = [b"[", b"{", b"\x91", b"\x81\x01"]
    for _ in range(3000):
        data = bytearray(rng.choice(frames))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data) + 1)
            match rng.randrange(4):
                case 0:
                    data[at:at] = rng.randbytes(rng.randint(1, 8))
                case 1:
                    del data[at : at + rng.randint(1, 8)]
                case 2:
                    data[at:at] = rng.choice(openers) * rng.randint(1, 1500)
                case _:
                    data[at:at] = rng.choice(frames)
        with contextlib.suppress(msgspec.DecodeError):
            codec.decode_client(bytes(data))


REFUSED_IN_ALL_TEXT = [
    *map(chr, range(0x00, 0x20)),
    *map(chr, range(0x7F, 0xA0)),
    "\u2028",
    "\u2029",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]
ALLOWED_IN_DESCRIPTIONS = {"\n", "\t"}


@pytest.mark.parametrize("character", REFUSED_IN_ALL_TEXT, ids=lambda c: f"U+{ord(c):04X}")
def test_text_rules_refuse_every_control_and_bidi_override(character: str) -> None:
    """Titles, names and emails refuse each of these characters; descriptions all but newline and tab."""
    text = f"a{character}b"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "CreateTicket", "rid": 1, "title": text}, "$.title"),
        ({**UPDATE, "version": 1, "title": text}, "$.title"),
        ({"type": "Login", "rid": 1, "email": f"a{character}@b", "password": "x"}, "$.email"),
    ]
    if character not in ALLOWED_IN_DESCRIPTIONS:
        cases.append(({"type": "CreateTicket", "rid": 1, "title": "t", "description": text}, "$.description"))
    else:
        assert JSON.decode_client(
            msgspec.json.encode({"type": "CreateTicket", "rid": 1, "title": "t", "description": text})
        )
    for frame, path in cases:
        with pytest.raises(msgspec.ValidationError) as caught:
            JSON.decode_client(msgspec.json.encode(frame))
        sentence, found = describe_decode_error(caught.value)
        assert found == path
        assert "control characters" in sentence and "regex" not in sentence
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(text, UserName)


@pytest.mark.parametrize(
    "text",
    ["[bold red]x[/]", "\u05e9\u05dc\u05d5\u05dd \u200f\u200e\u061c", "caf\u00e9 \u00a0 \u00ad 🖨️ 👩‍💻", "\\x1b[2J"],
    ids=["markup", "rtl-marks", "latin1-and-emoji", "escaped-backslash"],
)
def test_text_rules_accept_everything_else(text: str) -> None:
    """Markup-like text, right-to-left marks, NBSP, soft hyphen and emoji are ordinary text."""
    message = JSON.decode_client(
        msgspec.json.encode({"type": "CreateTicket", "rid": 1, "title": text, "description": text})
    )
    assert isinstance(message, CreateTicket)
    assert (message.title, message.description) == (text, text)
    assert msgspec.convert(text, UserName) == text


def test_a_final_newline_is_refused_in_one_line_text() -> None:
    """The patterns end at the end of the string, not before a final newline as Python's `$` would."""
    with pytest.raises(msgspec.ValidationError):
        JSON.decode_client(b'{"type": "CreateTicket", "rid": 1, "title": "t\\n"}')
    with pytest.raises(msgspec.ValidationError):
        JSON.decode_client(b'{"type": "Login", "rid": 1, "email": "a@b\\n", "password": "x"}')


def test_schema_shows_the_text_rules() -> None:
    """/schema.json carries each text rule as a pattern, so other clients can check the same."""
    definitions = json_schema()["$defs"]
    assert definitions["CreateTicket"]["properties"]["title"]["pattern"] == ONE_LINE_TEXT
    assert definitions["CreateTicket"]["properties"]["description"]["pattern"] == MULTILINE_TEXT


@pytest.mark.parametrize(
    ("frame", "path"),
    [
        ({"type": "A" * 5000, "rid": 1}, "$.type"),
        ({"type": "GetTickets", "rid": 1, "k" * 5000: 1}, None),
        ({"type": "CreateTicket", "rid": 1, "title": "t", "status": "s" * 5000}, "$.status"),
    ],
    ids=["long type", "long unknown field", "long enum value"],
)
def test_sentences_stay_short_when_msgspec_quotes_the_frame(frame: dict[str, Any], path: str | None) -> None:
    """A refused value quoted back in the sentence is cut, so a huge frame does not earn a huge reply."""
    with pytest.raises(msgspec.ValidationError) as caught:
        JSON.decode_client(msgspec.json.encode(frame))
    sentence, found = describe_decode_error(caught.value)
    assert found == path
    assert len(sentence) < 260 and sentence.endswith("….")


def test_server_decoder_refuses_client_messages() -> None:
    """Each direction has its own union: a request is not a valid server frame."""
    with pytest.raises(msgspec.ValidationError):
        JSON.decode_server(JSON.encode(GetTickets(rid=1)))
    with pytest.raises(msgspec.ValidationError):
        JSON.decode_client(JSON.encode(Ack(rid=1)))


def test_json_schema_names_every_message() -> None:
    """The generated schema has a definition for every message, record and enum, in both directions."""
    schema = json_schema()
    names = {cls.__name__ for cls in _members(ClientMessage) | _members(ServerMessage)}
    assert names <= set(schema["$defs"])
    assert {"Ticket", "Lock", "User", "Status", "Priority", "ErrorCode"} <= set(schema["$defs"])
    client_refs = {ref["$ref"].rsplit("/", 1)[1] for ref in schema["properties"]["client_to_server"]["anyOf"]}
    server_refs = {ref["$ref"].rsplit("/", 1)[1] for ref in schema["properties"]["server_to_client"]["anyOf"]}
    assert client_refs == {cls.__name__ for cls in _members(ClientMessage)}
    assert server_refs == {cls.__name__ for cls in _members(ServerMessage)}
    assert msgspec.json.decode(msgspec.json.encode(schema)) == schema  # plain JSON all the way down


def test_every_message_is_a_tagged_message() -> None:
    """Both unions hold only tagged Message subclasses whose tag is the class name."""
    for cls in _members(ClientMessage) | _members(ServerMessage):
        assert issubclass(cls, Message)
        assert cls.__struct_config__.tag == cls.__name__


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m protocol schema` prints the JSON Schema; anything else prints usage and fails."""
    from protocol.__main__ import main

    assert main(["schema"]) == 0
    assert msgspec.json.decode(capsys.readouterr().out) == json_schema()
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def _page(more: bool = True) -> msgspec.Struct:
    from protocol.messages import Priority, Row, Rows, Status

    row = Row(
        id=TICKET_ID, number=1, title="Printer jams", status=Status.OPEN, priority=Priority.HIGH,
        assignee=None, created_by=0, updated_at=1_700_000_000, version=1,
    )  # fmt: skip
    return Rows(rid=41, seq=99, users=[uuid.UUID(int=1)], rows=[row] * 3, more=more)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("more", [True, False])
def test_peek_rows_reads_a_pages_head_without_its_rows(codec: Codec, more: bool) -> None:
    """A Rows page's rid, seq and more, as the full decode has them."""
    frame = codec.encode(_page(more))
    head = codec.peek_rows(frame)
    assert head is not None and (head.rid, head.seq, head.more) == (41, 99, more)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"type": "Ack", "rid": 41}, id="another reply"),
        pytest.param({"type": "Rows", "rid": "41", "seq": 1, "more": True}, id="a rid that is no number"),
        pytest.param({"type": "Rows", "seq": 1}, id="no rid"),
    ],
)
def test_peek_rows_is_none_for_anything_else(codec: Codec, value: Any) -> None:
    """Any other frame, or a page whose head cannot be read, is None (the full decode then says why)."""
    frame = msgspec.json.encode(value) if codec is JSON else msgspec.msgpack.encode(value)
    assert codec.peek_rows(frame) is None


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b'{"type":"Rows","rid":4', b'{"type":"Rows"' + b"[" * 10_000])
def test_peek_rows_never_raises(data: bytes) -> None:
    """Truncated, deep or not UTF-8: None, never an exception."""
    assert JSON.peek_rows(data) is None
