"""`Search` over websockets: the typed client's `search`, every bad input's answer, and what one user may spend."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from lesbillets_server.search import TOO_BROAD
from protocol.client import connect
from protocol.errors import BadRequest, RateLimited
from protocol.messages import Error, ErrorCode, HitField, Search, SearchResults, Status
from tests.conftest import ServerFactory
from tests.server.wire import wire
from tests.support import ALICE, BOB, ServerHarness


def write_tickets(server: ServerHarness, count: int, title: str) -> None:
    """Many ticket rows straight into the database: enough for a search to take the database some work."""
    now = datetime.now(UTC).isoformat()
    author = str(uuid.uuid4())
    with sqlite3.connect(server.config.db) as db:
        db.executemany(
            "INSERT INTO tickets (id, number, title, description, status, priority, created_at, created_by,"
            " updated_at, updated_by, version) VALUES (?, ?, ?, '', 'open', 'normal', ?, ?, ?, ?, 1)",
            [(str(uuid.uuid4()), 1_000_000 + i, f"{title} {i}", now, author, now, author) for i in range(count)],
        )


async def test_search_finds_titles_descriptions_and_comments(server: ServerHarness) -> None:
    """client.search returns ranked hits with snippets, the qualifiers narrow them, a new or edited comment is found."""
    async with connect(server.url) as client:
        await client.login(ALICE.email, ALICE.password)
        by_title = await client.create_ticket("VPN drops every 20 minutes")
        by_description = await client.create_ticket("Laptop slow", "The vpn client hangs at login.")
        by_comment = await client.create_ticket("Printer jams", status=Status.BLOCKED)
        assert [hit.ticket_id for hit in await client.search("vpn")] == [by_title.id, by_description.id]
        comment = (await client.add_comment(by_comment.number, "Maybe the VPN again?")).id
        hits = await client.search("vpn")
        assert [(hit.ticket_id, hit.field) for hit in hits] == [
            (by_title.id, HitField.TITLE),
            (by_description.id, HitField.DESCRIPTION),
            (by_comment.id, HitField.COMMENT),
        ]
        assert hits[2].comment_id == comment and hits[2].snippet == "Maybe the VPN again?"
        assert [hits[2].snippet[s.start : s.end] for s in hits[2].highlights] == ["VPN"]
        assert [hit.ticket_id for hit in await client.search("vpn status:blocked")] == [by_comment.id]
        assert [hit.ticket_id for hit in await client.search(f"vpn #{by_comment.number}")] == [by_comment.id]
        await client.edit_comment(comment, "Not the VPN: the proxy.")
        assert [hit.comment_id for hit in await client.search("proxy")] == [comment]
        assert await client.search("maybe") == []
        assert [hit.ticket_id for hit in await client.search("vpn", limit=1)] == [by_title.id]
        newest_first = [hit.ticket_id for hit in await client.search("status:open")]
        assert newest_first == [by_description.id, by_title.id]


BAD_SEARCHES: list[tuple[str, dict[str, object], ErrorCode, str | None]] = [
    # (case, fields of the Search frame, code, detail)
    ("query too long", {"query": "x" * 201}, ErrorCode.BAD_REQUEST, "$.query"),
    ("escape sequence", {"query": "\x1b[31mvpn"}, ErrorCode.BAD_REQUEST, "$.query"),
    ("newline", {"query": "vpn\nprinter"}, ErrorCode.BAD_REQUEST, "$.query"),
    ("NUL", {"query": "vpn\x00"}, ErrorCode.BAD_REQUEST, "$.query"),
    ("bidi override", {"query": "vpn\u202e"}, ErrorCode.BAD_REQUEST, "$.query"),
    ("query not a string", {"query": ["vpn"]}, ErrorCode.BAD_REQUEST, "$.query"),
    ("no query", {}, ErrorCode.BAD_REQUEST, None),
    ("limit 0", {"query": "vpn", "limit": 0}, ErrorCode.BAD_REQUEST, "$.limit"),
    ("limit 101", {"query": "vpn", "limit": 101}, ErrorCode.BAD_REQUEST, "$.limit"),
    ("limit not a number", {"query": "vpn", "limit": "all"}, ErrorCode.BAD_REQUEST, "$.limit"),
    ("unknown status", {"query": "vpn status:pending"}, ErrorCode.BAD_REQUEST, "$.query"),
    ("unknown agent", {"query": "assignee:zed"}, ErrorCode.BAD_REQUEST, "$.query"),
    ("not a tag", {"query": "tag:VPN!"}, ErrorCode.BAD_REQUEST, "$.query"),
]


@pytest.mark.parametrize(("case", "fields", "code", "detail"), BAD_SEARCHES, ids=[case for case, *_ in BAD_SEARCHES])
async def test_bad_searches_get_a_typed_error(
    server: ServerHarness, case: str, fields: dict[str, object], code: ErrorCode, detail: str | None
) -> None:
    """Each bad Search gets its Error with a sentence; the connection stays open and searches again."""
    async with wire(server.url, login=ALICE) as peer:
        reply = await peer.send_raw(json.dumps({"type": "Search", "rid": 7, **fields}))
        assert isinstance(reply, Error), case
        assert (reply.rid, reply.code, reply.detail) == (7, code, detail), case
        assert reply.message.endswith("."), reply.message
        assert isinstance(await peer.request(Search(rid=8, query="vpn")), SearchResults)


@pytest.mark.parametrize("query", ["!!!", "* - :", '""', "", "   ", "((( )))", "tag:", "status:"])
async def test_queries_with_nothing_to_find_get_no_hits(server: ServerHarness, query: str) -> None:
    """Punctuation, an empty query, an empty qualifier: SearchResults with no hits, never an error."""
    async with connect(server.url) as client:
        await client.login(ALICE.email, ALICE.password)
        await client.create_ticket("Title: printer *** !!!")
        assert await client.search(query) == []


async def test_search_needs_a_login(server: ServerHarness) -> None:
    """Before login a Search is unauthorized."""
    async with wire(server.url) as peer:
        reply = await peer.request(Search(rid=1, query="vpn"))
        assert isinstance(reply, Error) and reply.code is ErrorCode.UNAUTHORIZED


async def test_each_user_has_a_budget_of_search_time(server_factory: ServerFactory) -> None:
    """Past their budget a user's searches are rate_limited, on every connection of theirs; others search on."""
    server = await server_factory(search_share=0.001, search_burst_s=1.0, search_timeout_s=1.0)
    async with connect(server.url) as alice, connect(server.url) as alice_too, connect(server.url) as bob:
        await alice.login(ALICE.email, ALICE.password)
        await alice_too.login(ALICE.email, ALICE.password)
        await bob.login(BOB.email, BOB.password)
        assert await alice.search("vpn") == []
        with pytest.raises(RateLimited, match=r"Too many searches: .* Try again in \d+\.\d s\."):
            await alice.search("vpn")
        with pytest.raises(RateLimited):
            await alice_too.search("printer")
        assert await bob.search("vpn") == []


async def test_a_search_the_database_cannot_finish_in_time_is_refused(server_factory: ServerFactory) -> None:
    """A search past its timeout is stopped by the database: bad_request saying to narrow it; the next one runs."""
    server = await server_factory(search_timeout_s=0.0)
    write_tickets(server, 20_000, "Printer jams")  # still running when the interrupt lands
    async with connect(server.url) as client:
        await client.login(ALICE.email, ALICE.password)
        with pytest.raises(BadRequest) as refused:
            await client.search("printer jams priority:urgent")  # every tier goes through every match and keeps none
        assert str(refused.value) == TOO_BROAD
    await server.stop()
    server.config = replace(server.config, search_timeout_s=5.0)
    await server.start()
    async with connect(server.url) as client:
        await client.login(ALICE.email, ALICE.password)
        assert len(await client.search("printer jams", limit=5)) == 5
