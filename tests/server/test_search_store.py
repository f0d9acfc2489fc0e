"""Full-text search in the store, against SQLite (FTS5) and PostgreSQL (tsvector) alike.

Comments, numbers and tags are written with plain SQL, as any other code (or process) writing those tables would:
the index must follow whatever writes them.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest

from lesbillets_server.storage import SqliteStore, Store, open_store, schema
from lesbillets_server.storage.fts import SearchTimedOut, window
from lesbillets_server.storage.records import EventKind, Guard, TicketChange
from protocol.messages import HitField, Lock, Priority, Role, SearchHit, Status, Ticket, User
from protocol.query import parse_query

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ALICE = User(id=uuid.uuid4(), email="alice@example.com", name="Alice", role=Role.AGENT)
BOB = User(id=uuid.uuid4(), email="bob@example.com", name="Bob", role=Role.AGENT)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each engine."""
    if request.param == "sqlite":
        return str(tmp_path / "search.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """An open store on a fresh database."""
    opened = await open_store(db_url)
    yield opened
    await opened.close()


class Raw:
    """Plain SQL on the store's database, from another connection (`?` placeholders on both engines)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = not url.startswith("postgresql://")

    async def execute(self, statement: str, *params: Any) -> None:
        if self.sqlite:
            values = [
                json.dumps(p) if isinstance(p, list) else str(p) if isinstance(p, uuid.UUID | datetime) else p
                for p in params
            ]
            with sqlite3.connect(self.url) as db:
                db.execute(statement, values)
            return
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]

    async def add_comment(self, ticket: Ticket, body: str, at: datetime = T0) -> uuid.UUID:
        comment_id = uuid.uuid4()
        await self.execute(
            "INSERT INTO comments (id, ticket_id, author, author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            comment_id,
            ticket.id,
            BOB.id,
            BOB.name,
            body,
            at,
        )
        return comment_id

    async def edit_comment(self, comment_id: uuid.UUID, body: str) -> None:
        await self.execute("UPDATE comments SET body = ?, edited_at = ? WHERE id = ?", body, T0, comment_id)

    async def index_is_sound(self) -> None:
        """SQLite: FTS5 checks its index against the tables (an entry left behind, or missing, fails it)."""
        if self.sqlite:
            for table in ("tickets_fts", "comments_fts"):
                await self.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")

    async def set_number_and_tags(self, ticket: Ticket, number: int, tags: list[str]) -> None:
        await self.execute("UPDATE tickets SET number = ?, tags = ? WHERE id = ?", number, tags, ticket.id)


@pytest.fixture
def raw(db_url: str) -> Raw:
    """Plain SQL on the test's database."""
    return Raw(db_url)


def new_ticket(title: str, description: str = "", minutes: int = 0, **fields: Any) -> Ticket:
    at = T0 + timedelta(minutes=minutes)
    values: dict[str, Any] = {
        "status": Status.OPEN,
        "priority": Priority.NORMAL,
        "assignee": None,
        **fields,
    }
    return Ticket(
        id=uuid.uuid4(),
        title=title,
        description=description,
        created_at=at,
        created_by=ALICE.id,
        updated_at=at,
        updated_by=ALICE.id,
        version=1,
        **values,
    )


async def add(store: Store, *tickets: Ticket) -> list[Ticket]:
    return [event.ticket for event in await store.create_tickets(tickets, T0)]


async def search(store: Store, text: str, limit: int = 50) -> list[SearchHit]:
    parsed = parse_query(text, me=ALICE.id, users=[ALICE, BOB])
    assert parsed.errors == ()
    return await store.search(parsed.filter, limit, timeout_s=10.0)


def shown(hit: SearchHit) -> list[str]:
    """The highlighted parts of a hit's snippet."""
    return [hit.snippet[span.start : span.end] for span in hit.highlights]


async def test_finds_a_word_in_a_title_a_description_and_a_comment(store: Store, raw: Raw) -> None:
    """One word found in each field, one hit per ticket, title before description before comment."""
    by_title, by_description, by_comment, unrelated = await add(
        store,
        new_ticket("VPN drops at home"),
        new_ticket("Laptop is slow", "Since Monday the vpn client takes minutes to connect."),
        new_ticket("Printer jams"),
        new_ticket("Payroll export", "Wrong decimal separator"),
    )
    comment = await raw.add_comment(by_comment, "Could it be the VPN again? It was last week.")
    hits = await search(store, "vpn")
    assert [hit.ticket_id for hit in hits] == [by_title.id, by_description.id, by_comment.id]
    assert [hit.field for hit in hits] == [HitField.TITLE, HitField.DESCRIPTION, HitField.COMMENT]
    assert [hit.comment_id for hit in hits] == [None, None, comment]
    assert [hit.title for hit in hits] == ["VPN drops at home", "Laptop is slow", "Printer jams"]
    assert hits[0].rank > hits[1].rank > hits[2].rank
    assert [shown(hit) for hit in hits] == [["VPN"], ["vpn"], ["VPN"]]
    assert unrelated.id not in {hit.ticket_id for hit in hits}


async def test_the_snippet_is_the_best_match_with_highlights(store: Store, raw: Raw) -> None:
    """A long description is cut around the match with an ellipsis; words match by stem; spans index the snippet."""
    filler = " ".join(f"word{i}" for i in range(60))
    (ticket,) = await add(store, new_ticket("Laptop", f"{filler}\nThe docking station crashes twice a day.\n{filler}"))
    (hit,) = await search(store, "crash dock")
    assert hit.field is HitField.DESCRIPTION
    assert "\n" not in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) < 200
    assert sorted(text.casefold() for text in shown(hit)) == ["crashes", "docking"]
    for span in hit.highlights:
        assert 0 <= span.start < span.end <= len(hit.snippet)
    await raw.add_comment(ticket, "**Still** crashing after the firmware update.")
    (comment_hit,) = await search(store, "firmware")
    assert comment_hit.field is HitField.COMMENT
    assert comment_hit.snippet == "**Still** crashing after the firmware update."
    assert shown(comment_hit) == ["firmware"]


async def test_texts_repeating_a_word_thousands_of_times_do_not_stall_a_search(store: Store, raw: Raw) -> None:
    """Descriptions and comments of 20,000 characters that repeat the searched word 10,000 times are cut into
    snippets well inside the server's 1 s search timeout (FTS5's snippet() took 0.4 s for each, so eight of them
    made every search for the word time out, for every agent)."""
    planted = " ".join(["x"] * 10_000)
    tickets = await add(store, *(new_ticket(f"Plain {i}", planted) for i in range(6)))
    await raw.add_comment(await add_one(store, new_ticket("Other")), planted)
    await raw.add_comment(await add_one(store, new_ticket("Another")), planted)
    parsed = parse_query("x", me=ALICE.id, users=[ALICE])
    hits = await store.search(parsed.filter, 50, timeout_s=1.0)
    assert len(hits) == len(tickets) + 2
    assert all(shown(hit) and len(hit.snippet) < 100 for hit in hits)


async def test_text_without_spaces_gives_a_short_snippet(store: Store, raw: Raw) -> None:
    """A description that is one 20,000-character line of comma-separated words, or a long blob between two
    words, gives a snippet of at most 240 characters (and ellipses) with its highlights inside (SQLite gave the
    whole line: a hundred such hits made a reply bigger than a connection may owe)."""
    await add(
        store,
        new_ticket("CSV paste", ("zebrafish," * 2000)[:20_000]),
        new_ticket("Blob paste", "quagga " + "Q" * 19_000 + " quagga"),
    )
    for word in ("zebrafish", "quagga"):
        (hit,) = await search(store, word)
        assert len(hit.snippet) <= 240 + 4, (word, len(hit.snippet))
        assert shown(hit) and all(text.casefold() == word for text in shown(hit))
        for span in hit.highlights:
            assert 0 <= span.start < span.end <= len(hit.snippet)


async def add_one(store: Store, ticket: Ticket) -> Ticket:
    (added,) = await add(store, ticket)
    return added


WINDOWS: dict[str, tuple[str, str]] = {
    "short: the whole text": ("the \ue000vpn\ue001 again", "the \ue000vpn\ue001 again"),
    "no match: the start": (" ".join(f"w{i}" for i in range(20)), " ".join(f"w{i}" for i in range(16)) + " …"),
    "a match deep inside: three words before it": (
        " ".join(f"w{i}" for i in range(40)) + " \ue000crash\ue001 " + " ".join(f"v{i}" for i in range(40)),
        "… w37 w38 w39 \ue000crash\ue001 " + " ".join(f"v{i}" for i in range(12)) + " …",
    ),
    "the window with both words beats the first match": (
        "\ue000dock\ue001 " + " ".join(f"w{i}" for i in range(30)) + " \ue000dock\ue001 \ue000crash\ue001 end",
        "… " + " ".join(f"w{i}" for i in range(17, 30)) + " \ue000dock\ue001 \ue000crash\ue001 end",
    ),
    "a phrase cut at the start stays highlighted": (
        " ".join(f"w{i}" for i in range(20)) + " \ue000" + " ".join(["p"] * 20) + "\ue001 x \ue000crash\ue001",
        "… \ue000" + " ".join(["p"] * 14) + "\ue001 x \ue000crash\ue001",
    ),
}


@pytest.mark.parametrize(("text", "cut"), WINDOWS.values(), ids=WINDOWS.keys())
def test_the_snippet_window(text: str, cut: str) -> None:
    """`fts.window` keeps 16 words around the most distinct matches, with an ellipsis where it cut."""
    assert window(text) == cut


async def test_every_word_must_be_in_one_field_or_one_comment(store: Store, raw: Raw) -> None:
    """Words are all required in the same document: the title and description together, or one comment."""
    split, together = await add(
        store, new_ticket("VPN drops", "only at home"), new_ticket("Printer jams", "on duplex jobs")
    )
    await raw.add_comment(together, "the vpn is fine")
    await raw.add_comment(together, "but the toner is low")
    assert [hit.ticket_id for hit in await search(store, "vpn home")] == [split.id]
    assert [hit.field for hit in await search(store, "vpn home")] == [HitField.DESCRIPTION]
    assert await search(store, "vpn toner") == []
    assert [hit.ticket_id for hit in await search(store, '"toner is low"')] == [together.id]
    assert await search(store, '"low toner"') == []


async def test_one_hit_per_ticket_and_at_most_limit(store: Store, raw: Raw) -> None:
    """A ticket matching in its title and three comments is one hit; `limit` caps the hits."""
    tickets = await add(store, *(new_ticket(f"Wifi outage {i}", minutes=i) for i in range(5)))
    for _ in range(3):
        await raw.add_comment(tickets[0], "wifi down again")
    hits = await search(store, "wifi")
    assert sorted(hit.ticket_id for hit in hits) == sorted(ticket.id for ticket in tickets)
    assert len(await search(store, "wifi", limit=2)) == 2


async def test_qualifiers_combine_with_the_words(store: Store, raw: Raw) -> None:
    """status, priority, assignee, locked, tag and #number narrow the words' hits, all together."""
    mine, bobs, closed, urgent, loose = await add(
        store,
        new_ticket("VPN mine", assignee=ALICE.id),
        new_ticket("VPN bob", assignee=BOB.id),
        new_ticket("VPN closed", status=Status.CLOSED),
        new_ticket("VPN urgent", priority=Priority.URGENT),
        new_ticket("VPN loose"),
    )
    lock = Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0 + timedelta(minutes=5))
    change = TicketChange(
        ticket=msgspec.structs.replace(bobs, lock=lock),
        holder="s-bob",
        guard=Guard(free=True),
        kind=EventKind.LOCKED,
        actor=BOB.id,
        grant=True,
    )
    await store.change(change, T0)
    await raw.set_number_and_tags(mine, 1042, ["vpn", "home"])
    await raw.set_number_and_tags(urgent, 1043, ["wifi"])
    cases = {
        "vpn status:closed": {closed.id},
        "vpn status:open,closed priority:urgent": {urgent.id},
        "vpn assignee:me": {mine.id},
        "vpn assignee:bob": {bobs.id},
        "vpn assignee:none status:open": {urgent.id, loose.id},
        "vpn locked": {bobs.id},
        "vpn unlocked assignee:bob": set(),
        "vpn tag:home": {mine.id},
        "vpn tag:wifi,home": {mine.id, urgent.id},
        "vpn #1043": {urgent.id},
        "vpn #1042 #1043 tag:wifi": {urgent.id},
        "printer status:closed": set(),
    }
    for text, expected in cases.items():
        assert {hit.ticket_id for hit in await search(store, text)} == expected, text


async def test_qualifiers_alone_list_the_tickets_newest_first(store: Store) -> None:
    """Without words the qualifiers' tickets come newest first, titles as snippets, up to the limit."""
    old, closed, new, newest = await add(
        store,
        new_ticket("Old", minutes=1),
        new_ticket("Closed", minutes=2, status=Status.CLOSED),
        new_ticket("New", minutes=3),
        new_ticket("Newest", minutes=4),
    )
    hits = await search(store, "status:open")
    assert [hit.ticket_id for hit in hits] == [newest.id, new.id, old.id]
    assert [hit.snippet for hit in hits] == ["Newest", "New", "Old"]
    assert all(hit.field is HitField.TITLE and hit.highlights == [] for hit in hits)
    assert [hit.ticket_id for hit in await search(store, "status:open", limit=2)] == [newest.id, new.id]
    assert [hit.ticket_id for hit in await search(store, "status:closed")] == [closed.id]


async def test_a_new_comment_becomes_findable(store: Store, raw: Raw) -> None:
    """A comment written after a search is found by the next one."""
    (ticket,) = await add(store, new_ticket("Printer jams"))
    assert await search(store, "fjord") == []
    comment = await raw.add_comment(ticket, "The fjord office printer, not this one.")
    (hit,) = await search(store, "fjord")
    assert (hit.ticket_id, hit.comment_id, hit.field) == (ticket.id, comment, HitField.COMMENT)
    await raw.index_is_sound()


async def test_an_edited_comment_is_indexed_again(store: Store, raw: Raw) -> None:
    """After an edit the old words no longer find the comment and the new ones do."""
    (ticket,) = await add(store, new_ticket("Printer jams"))
    comment = await raw.add_comment(ticket, "Ordered new toner.")
    assert [hit.comment_id for hit in await search(store, "toner")] == [comment]
    await raw.edit_comment(comment, "Ordered a new drum unit.")
    assert await search(store, "toner") == []
    (hit,) = await search(store, "drum")
    assert hit.comment_id == comment and shown(hit) == ["drum"]
    await raw.index_is_sound()


async def test_an_updated_ticket_is_indexed_again(store: Store, raw: Raw) -> None:
    """A title changed through the store's guarded change is found by its new words only."""
    (ticket,) = await add(store, new_ticket("Printer jams"))
    updated = msgspec.structs.replace(ticket, title="Scanner jams", version=2)
    change = TicketChange(ticket=updated, holder=None, guard=Guard(version=1), kind=EventKind.UPDATED, actor=ALICE.id)
    await store.change(change, T0)
    assert await search(store, "printer") == []
    assert [hit.title for hit in await search(store, "scanner")] == ["Scanner jams"]
    await raw.index_is_sound()


async def test_the_migration_indexes_what_is_already_there(db_url: str, raw: Raw) -> None:
    """A database at schema 4 with tickets and comments is searchable once the server has migrated it."""
    ticket = new_ticket("Legacy VPN ticket", "from before search")
    if raw.sqlite:
        with sqlite3.connect(db_url) as db:
            for statements in schema.SQLITE[:4]:
                for statement in statements:
                    db.execute(statement)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', 4)")
    else:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
            for statements in schema.POSTGRES[:4]:
                for statement in statements:
                    await conn.execute(statement)  # type: ignore[arg-type]
            await conn.execute("INSERT INTO meta VALUES ('schema_version', 4)")
    await raw.execute(
        "INSERT INTO tickets (id, title, description, status, priority, created_at, created_by, updated_at,"
        " updated_by, version) VALUES (?, ?, ?, 'open', 'normal', ?, ?, ?, ?, 1)",
        ticket.id,
        ticket.title,
        ticket.description,
        T0,
        ALICE.id,
        T0,
        ALICE.id,
    )
    comment = await raw.add_comment(ticket, "an old comment about the proxy")
    store = await open_store(db_url)
    try:
        assert [hit.ticket_id for hit in await search(store, "vpn")] == [ticket.id]
        assert [hit.comment_id for hit in await search(store, "proxy")] == [comment]
    finally:
        await store.close()


NASTY: Sequence[tuple[str, bool | None]] = [
    # (query, finds the ticket titled 'Quote "this" NEAR the printer: title x - y * z'; None: up to the engine)
    ('"', False),
    ('""', False),
    ('"unterminated', False),
    ("'", False),
    ("it's", False),
    ("NEAR(", True),
    ("NEAR(printer, quote)", None),  # the phrase "near printer": PostgreSQL skips "the" between them
    ("printer NEAR quote", True),
    ("*", False),
    ("print*", False),  # not a prefix query
    ("-", False),
    ("-printer", True),  # not a negation
    ("printer -quote", True),
    (":", False),
    ("title:", True),
    ("title:x", True),  # the phrase "title x", which the title holds
    ("{title}:printer", False),  # not a column filter: the phrase "title printer"
    ("description:printer", False),
    ("^printer", True),
    ("printer OR scanner", False),  # not an alternative
    ("printer AND", None),  # "and" is a stop word to PostgreSQL, a word to SQLite
    ("NOT printer", None),
    ("( )", False),
    ("((((", False),
    ("\\", False),
    ("%", False),
    ("_", False),
    ("' OR 1=1 --", False),
    ("'); DROP TABLE tickets; --", False),
    ("printer & quote | !x <-> y:*", True),  # tsquery operators are punctuation
    ("\u00e9t\u00e9 \u2603 \U0001f600", False),
    ("\u0645\u0631\u062d\u0628\u0627", False),
    ("\ue000printer\ue001", None),  # the snippet markers, typed: private-use characters are letters to FTS5
    ("#", False),
    ("!!! ??? ...", False),
    ("printer" + "!" * 150, True),
]


@pytest.mark.parametrize(("text", "finds"), NASTY, ids=[repr(text)[:30] for text, _ in NASTY])
async def test_nasty_queries_are_words_never_syntax(store: Store, text: str, finds: bool | None) -> None:
    """Quotes, FTS5 operators and column filters, tsquery operators, SQL, unicode: words, never an error."""
    (ticket,) = await add(store, new_ticket('Quote "this" NEAR the printer: title x - y * z'))
    hits = await store.search(parse_query(text).filter, 50, timeout_s=10.0)
    found = {hit.ticket_id for hit in hits}
    assert found <= {ticket.id}
    if finds is not None:
        assert found == ({ticket.id} if finds else set())


@pytest.mark.parametrize("text", ["*", "!!!", "- - -", "«»", '"\'"', "()"])
async def test_a_query_of_punctuation_finds_nothing(store: Store, text: str) -> None:
    """Words with no letter or digit in them leave nothing to search for: no hits, even with qualifiers."""
    await add(store, new_ticket("Printer *** !!!"))
    parsed = parse_query(f"{text} status:open")
    assert parsed.filter.words
    assert await store.search(parsed.filter, 50, timeout_s=10.0) == []


async def test_a_search_past_its_deadline_is_stopped(store: Store, raw: Raw) -> None:
    """With no time left the database stops the search: SearchTimedOut, and the next search works."""
    if raw.sqlite:
        # enough rows that the search is still running when the loop's interrupt lands (a few milliseconds)
        with sqlite3.connect(raw.url) as db:
            db.executemany(
                "INSERT INTO tickets (id, number, title, description, status, priority, created_at, created_by,"
                " updated_at, updated_by, version) VALUES (?, ?, ?, '', 'open', 'normal', ?, ?, ?, ?, 1)",
                [
                    (
                        str(uuid.uuid4()),
                        1000 + i,
                        f"Printer {i} jams on duplex",
                        T0.isoformat(),
                        "a",
                        T0.isoformat(),
                        "a",
                    )
                    for i in range(20_000)
                ],
            )
    else:  # PostgreSQL is given what is left of the time before each statement: none, so none runs
        await add(store, *(new_ticket(f"Printer {i} jams on duplex") for i in range(200)))
    # every tier goes through every match and keeps none: the longest a search on these rows can take
    with pytest.raises(SearchTimedOut):
        await store.search(parse_query("printer jams priority:urgent").filter, 50, timeout_s=0.0)
    assert len(await search(store, "printer duplex", limit=3)) == 3


async def test_a_row_replaced_on_sqlite_is_indexed_again(store: Store, raw: Raw) -> None:
    """INSERT OR REPLACE on the store's connection deletes the old row's words too (it turns recursive triggers on)."""
    if not isinstance(store, SqliteStore):
        pytest.skip("INSERT OR REPLACE is SQLite's")
    (ticket,) = await add(store, new_ticket("Printer jams"))
    comment = await raw.add_comment(ticket, "Ordered new toner.")
    store._db.execute(  # the store's own connection, as any of its writes would
        "INSERT OR REPLACE INTO comments (id, ticket_id, author, author_name, body, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (str(comment), str(ticket.id), str(BOB.id), BOB.name, "Ordered a new drum unit.", T0.isoformat()),
    )
    assert await search(store, "toner") == []
    assert [hit.comment_id for hit in await search(store, "drum")] == [comment]
    await raw.index_is_sound()
