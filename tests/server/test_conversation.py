"""Comments over the wire: no lock needed, author-only edits, mentions, the log (events, resume, history), and a
defined answer to every bad input."""

from __future__ import annotations

import json
import uuid

import pytest

from protocol.messages import (
    Ack,
    AddComment,
    AllTickets,
    CommentAdded,
    CommentEdited,
    CreateTicket,
    EditComment,
    Error,
    ErrorCode,
    FieldChange,
    GetHistory,
    GetTicket,
    GetTickets,
    GetUsers,
    History,
    HistoryKind,
    LockTicket,
    MarkRead,
    Resume,
    Ticket,
    TicketDetail,
    Users,
    Welcome,
)
from tests.conftest import ServerFactory
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, ServerHarness


async def create(peer: Wire, title: str = "VPN drops every hour") -> Ticket:
    ack = await peer.expect(CreateTicket(rid=peer.rid(), title=title), Ack)
    assert ack.ticket is not None
    return ack.ticket


async def comment(peer: Wire, ticket_id: uuid.UUID, body: str) -> Ack:
    return await peer.expect(AddComment(rid=peer.rid(), ticket_id=ticket_id, body=body), Ack)


async def test_a_comment_needs_no_lock_and_reaches_everyone_with_the_next_seq(server: ServerHarness) -> None:
    """Bob holds the lock; Alice still comments: both get CommentAdded with the seq after the lock's, and her
    Ack carries the same comment."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        ticket = await create(alice)
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=ticket.id), Ack)
        ack = await comment(alice, ticket.id, "Seen it too: **every hour** on the dot.")
        assert ack.comment is not None and ack.ticket is None
        assert (ack.comment.ticket_id, ack.comment.author, ack.comment.author_name) == (
            ticket.id,
            ticket.created_by,
            ALICE.name,
        )
        for peer in (alice, bob):
            events = [await peer.next_event() for _ in range(3)]
            added = events[-1]
            assert isinstance(added, CommentAdded) and added.comment == ack.comment
            assert added.seq == events[1].seq + 1


async def test_the_author_edits_and_everyone_hears_it(server: ServerHarness) -> None:
    """EditComment by its author returns the new text with edited_at set; Bob gets CommentEdited."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        ticket = await create(alice)
        added = (await comment(alice, ticket.id, "typo hree")).comment
        assert added is not None
        edited = await alice.expect(EditComment(rid=alice.rid(), comment_id=added.id, body="typo here"), Ack)
        assert edited.comment is not None and edited.comment.body == "typo here"
        assert edited.comment.edited_at is not None and edited.comment.created_at == added.created_at
        events = [await bob.next_event() for _ in range(3)]
        assert isinstance(events[2], CommentEdited) and events[2].comment == edited.comment


async def test_only_the_author_may_edit(server: ServerHarness) -> None:
    """Bob editing Alice's comment is forbidden, and the comment stays as she wrote it."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        ticket = await create(alice)
        added = (await comment(alice, ticket.id, "mine")).comment
        assert added is not None
        refused = await bob.request(EditComment(rid=bob.rid(), comment_id=added.id, body="not yours"))
        assert isinstance(refused, Error) and refused.code is ErrorCode.FORBIDDEN
        assert refused.message == "Only its author may edit a comment."
        detail = await bob.expect(GetTicket(rid=bob.rid(), ticket_id=ticket.id), TicketDetail)
        assert [c.body for c in detail.comments] == ["mine"]


async def test_mentions_are_resolved_to_users(server: ServerHarness) -> None:
    """@bob (email's local part) and @AliceMartin (name without spaces) resolve, in order and once; an unknown
    @word and an email address in the text are plain text."""
    async with wire(server.url, login=ALICE) as alice:
        users = {u.email: u.id for u in (await alice.expect(GetUsers(rid=alice.rid()), Users)).users}
        ticket = await create(alice)
        body = "@BOB, can you look? cc @alicemartin and @nobody; mail bob@example.com. Thanks @bob."
        added = (await comment(alice, ticket.id, body)).comment
        assert added is not None and added.body == body
        assert added.mentions == [users[BOB.email], users[ALICE.email]]


async def test_get_ticket_has_the_conversation_oldest_first_and_its_seq(server: ServerHarness) -> None:
    """TicketDetail carries the ticket from the table, its comments oldest first, and the seq they reflect; a
    ticket may be named by its number, to comment on it as to read it."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await create(alice)
        await comment(alice, ticket.id, "one")
        await alice.expect(AddComment(rid=alice.rid(), ticket_id=ticket.number, body="two"), Ack)
        await comment(alice, ticket.id, "three")
        detail = await alice.expect(GetTicket(rid=alice.rid(), ticket_id=ticket.id), TicketDetail)
        assert detail.ticket == ticket
        assert [c.body for c in detail.comments] == ["one", "two", "three"]
        assert detail.seq == server.service.seq
        by_number = await alice.expect(GetTicket(rid=alice.rid(), ticket_id=ticket.number), TicketDetail)
        assert (by_number.ticket, by_number.comments) == (detail.ticket, detail.comments)


async def test_comments_are_replayed_on_resume(server: ServerHarness) -> None:
    """Bob misses a comment and its edit while away: Resume with his last seq replays both, in order."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await create(alice)
        async with wire(server.url) as bob:
            welcome = await bob.login(BOB)
            snapshot = await bob.expect(GetTickets(rid=bob.rid()), AllTickets)
        added = (await comment(alice, ticket.id, "while you were away")).comment
        assert added is not None
        await alice.expect(EditComment(rid=alice.rid(), comment_id=added.id, body="while you were out"), Ack)
        async with wire(server.url) as again:
            resumed = await again.expect(
                Resume(rid=again.rid(), token=welcome.token, last_seq=snapshot.seq, epoch=welcome.epoch), Welcome
            )
            assert resumed.resumed
            first, second = await again.next_event(), await again.next_event()
            assert isinstance(first, CommentAdded) and first.comment.body == "while you were away"
            assert isinstance(second, CommentEdited) and second.comment.body == "while you were out"
            assert (first.seq, second.seq) == (snapshot.seq + 1, snapshot.seq + 2)


async def test_comments_survive_a_restart_and_resume_from_the_log(server: ServerHarness) -> None:
    """After a restart the comment is read back from the database and replayed from the log."""
    async with wire(server.url) as alice:
        welcome = await alice.login(ALICE)
        ticket = await create(alice)
        await comment(alice, ticket.id, "kept")
    await server.restart()
    async with wire(server.url) as again:
        resumed = await again.expect(
            Resume(rid=again.rid(), token=welcome.token, last_seq=welcome.seq + 1, epoch=welcome.epoch), Welcome
        )
        assert resumed.resumed
        event = await again.next_event()
        assert isinstance(event, CommentAdded) and event.comment.body == "kept"
        detail = await again.expect(GetTicket(rid=again.rid(), ticket_id=ticket.id), TicketDetail)
        assert [c.body for c in detail.comments] == ["kept"]


async def test_history_has_comments_and_an_edit_keeps_the_earlier_text(server: ServerHarness) -> None:
    """GetHistory lists created, commented and comment_edited in order; the edit's change shows both texts."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await create(alice)
        added = (await comment(alice, ticket.id, "before")).comment
        assert added is not None
        await alice.expect(EditComment(rid=alice.rid(), comment_id=added.id, body="after"), Ack)
        history = await alice.expect(GetHistory(rid=alice.rid(), ticket_id=ticket.id), History)
    assert [e.kind for e in history.entries] == [
        HistoryKind.CREATED,
        HistoryKind.COMMENTED,
        HistoryKind.COMMENT_EDITED,
    ]
    commented, edited = history.entries[1:]
    assert commented.comment is not None and commented.comment.body == "before" and commented.changes == []
    assert edited.comment is not None and edited.comment.body == "after"
    assert edited.changes == [FieldChange(field="body", old="before", new="after")]
    assert edited.actor == commented.actor == ticket.created_by


async def test_a_long_conversation_is_cut_to_what_a_reply_may_carry(server_factory: ServerFactory) -> None:
    """Five 20,000-character comments under a 256 KiB backlog (text budget 32,768 characters): GetTicket carries
    the newest two, GetHistory the newest entries that fit, and the connection stays open for the next request."""
    server = await server_factory(backlog_bytes=256 * 1024, comment_burst=10)
    async with wire(server.url, login=ALICE) as alice:
        ticket = await create(alice)
        for n in range(5):
            await comment(alice, ticket.id, str(n) * 20_000)
        detail = await alice.expect(GetTicket(rid=alice.rid(), ticket_id=ticket.id), TicketDetail)
        assert [c.body[0] for c in detail.comments] == ["3", "4"]
        history = await alice.expect(GetHistory(rid=alice.rid(), ticket_id=ticket.id), History)
        assert [e.comment.body[0] for e in history.entries if e.comment] == ["4"]
        assert len(alice.codec.encode(detail)) < 256 * 1024 // 2
        await alice.expect(GetTicket(rid=alice.rid(), ticket_id=ticket.id), TicketDetail)


async def test_comments_have_a_per_user_quota(server_factory: ServerFactory) -> None:
    """Past the burst a user's next comment is rate_limited with a sentence, on any of their connections, and
    nothing is written; another user may still comment."""
    server = await server_factory(comment_burst=2, comment_rate_per_s=0.01)
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=ALICE) as alice2:
        ticket = await create(alice)
        await comment(alice, ticket.id, "one")
        await comment(alice2, ticket.id, "two")
        seq = server.service.seq
        refused = await alice.request(AddComment(rid=alice.rid(), ticket_id=ticket.id, body="three"))
        assert isinstance(refused, Error) and refused.code is ErrorCode.RATE_LIMITED
        assert refused.message.startswith("Too many comments: at most 0.01 a second, 2 at once.")
        assert server.service.seq == seq
        async with wire(server.url, login=BOB) as bob:
            await comment(bob, ticket.id, "mine")


BAD_INPUTS = [
    ("empty body", {"body": ""}, ErrorCode.BAD_REQUEST, "$.body"),
    ("20,001 characters", {"body": "x" * 20_001}, ErrorCode.BAD_REQUEST, "$.body"),
    ("escape character", {"body": "look \x1b[2J here"}, ErrorCode.BAD_REQUEST, "$.body"),
    ("carriage return", {"body": "one\r\ntwo"}, ErrorCode.BAD_REQUEST, "$.body"),
    ("bidi override", {"body": "abc\u202edef"}, ErrorCode.BAD_REQUEST, "$.body"),
    ("body not a string", {"body": 7}, ErrorCode.BAD_REQUEST, "$.body"),
    ("unknown ticket", {"ticket_id": str(uuid.uuid4())}, ErrorCode.NOT_FOUND, None),
    ("unknown ticket number", {"ticket_id": 987654}, ErrorCode.NOT_FOUND, None),
    ("ticket id not a uuid", {"ticket_id": "not-a-uuid"}, ErrorCode.BAD_REQUEST, "$.ticket_id"),
]
EDIT_BAD_INPUTS = [
    ("unknown comment", {"comment_id": str(uuid.uuid4())}, ErrorCode.NOT_FOUND, None),
    ("comment number", {"comment_id": 12}, ErrorCode.BAD_REQUEST, "$.comment_id"),
    ("edit to an empty body", {"body": ""}, ErrorCode.BAD_REQUEST, "$.body"),
    ("edit to 20,001 characters", {"body": "y" * 20_001}, ErrorCode.BAD_REQUEST, "$.body"),
    ("edit with a NUL", {"body": "a\x00b"}, ErrorCode.BAD_REQUEST, "$.body"),
]


@pytest.mark.parametrize(("case", "fields", "code", "detail"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
async def test_bad_comments_change_nothing(
    server: ServerHarness, case: str, fields: dict[str, object], code: ErrorCode, detail: str | None
) -> None:
    """Each bad AddComment gets its typed error with a sentence; no event, no comment."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await create(alice)
        seq = server.service.seq
        frame = {"type": "AddComment", "rid": 70, "ticket_id": str(ticket.id), "body": "fine", **fields}
        reply = await alice.send_raw(json.dumps(frame))
        assert isinstance(reply, Error) and reply.rid == 70, case
        assert (reply.code, reply.detail) == (code, detail)
        assert reply.message.endswith(".")
        assert server.service.seq == seq
        detail_reply = await alice.expect(GetTicket(rid=alice.rid(), ticket_id=ticket.id), TicketDetail)
        assert detail_reply.comments == []


@pytest.mark.parametrize(("case", "fields", "code", "detail"), EDIT_BAD_INPUTS, ids=[c[0] for c in EDIT_BAD_INPUTS])
async def test_bad_edits_change_nothing(
    server: ServerHarness, case: str, fields: dict[str, object], code: ErrorCode, detail: str | None
) -> None:
    """Each bad EditComment gets its typed error with a sentence; the comment and the log stay as they were."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await create(alice)
        added = (await comment(alice, ticket.id, "as written")).comment
        assert added is not None
        seq = server.service.seq
        frame = {"type": "EditComment", "rid": 71, "comment_id": str(added.id), "body": "changed", **fields}
        reply = await alice.send_raw(json.dumps(frame))
        assert isinstance(reply, Error) and reply.rid == 71, case
        assert (reply.code, reply.detail) == (code, detail)
        assert reply.message.endswith(".")
        assert server.service.seq == seq
        detail_reply = await alice.expect(GetTicket(rid=alice.rid(), ticket_id=ticket.id), TicketDetail)
        assert [c.body for c in detail_reply.comments] == ["as written"]


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "AddComment", "rid": 5, "ticket_id": str(uuid.uuid4()), "body": "hello"},
        {"type": "EditComment", "rid": 5, "comment_id": str(uuid.uuid4()), "body": "hello"},
        {"type": "GetTicket", "rid": 5, "ticket_id": str(uuid.uuid4())},
        {"type": "GetInbox", "rid": 5},
        {"type": "MarkRead", "rid": 5, "up_to": 3},
    ],
    ids=lambda frame: frame["type"],
)
async def test_not_logged_in_is_unauthorized(server: ServerHarness, frame: dict[str, object]) -> None:
    """Before Login, every conversation and inbox request gets unauthorized."""
    async with wire(server.url) as peer:
        reply = await peer.send_raw(json.dumps(frame))
        assert isinstance(reply, Error) and reply.code is ErrorCode.UNAUTHORIZED and reply.rid == 5


@pytest.mark.parametrize(
    ("fields", "code", "detail"),
    [
        ({}, ErrorCode.BAD_REQUEST, "$.seqs"),
        ({"seqs": [-1]}, ErrorCode.BAD_REQUEST, "$.seqs[0]"),
        ({"seqs": list(range(1001))}, ErrorCode.BAD_REQUEST, "$.seqs"),
        ({"up_to": "all"}, ErrorCode.BAD_REQUEST, "$.up_to"),
        ({"limit": 0, "type": "GetInbox"}, ErrorCode.BAD_REQUEST, "$.limit"),
        ({"limit": 501, "type": "GetInbox"}, ErrorCode.BAD_REQUEST, "$.limit"),
        ({"ticket_id": str(uuid.uuid4()), "type": "GetTicket"}, ErrorCode.NOT_FOUND, None),
    ],
    ids=["nothing named", "negative seq", "1,001 seqs", "up_to not a seq", "limit 0", "limit 501", "unknown ticket"],
)
async def test_bad_inbox_and_ticket_reads(
    server: ServerHarness, fields: dict[str, object], code: ErrorCode, detail: str | None
) -> None:
    """MarkRead naming nothing or out of bounds, GetInbox out of bounds, GetTicket of no ticket: typed errors."""
    async with wire(server.url, login=ALICE) as alice:
        reply = await alice.send_raw(json.dumps({"type": "MarkRead", "rid": 9, **fields}))
        assert isinstance(reply, Error) and reply.rid == 9
        assert (reply.code, reply.detail) == (code, detail)
        assert reply.message.endswith(".")


async def test_mark_read_of_items_you_do_not_have_is_harmless(server: ServerHarness) -> None:
    """MarkRead of seqs that are not yours changes nothing and answers Ack."""
    async with wire(server.url, login=ALICE) as alice:
        await alice.expect(MarkRead(rid=alice.rid(), seqs=[1, 2, 3]), Ack)
