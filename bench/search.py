"""Scenario search: `Search` over websockets on 100,000 tickets and 300,000 comments, beside a plain LIKE scan.

The text is made up but shaped like a helpdesk's: titles from a few hundred helpdesk words, descriptions and
comments from those plus English function words and a long tail of rarer words, all drawn with Zipf frequencies
(a handful of words are everywhere, most are rare), and one error code in three comments. Seeded once into a SQLite
file (or, with `--search-engines postgresql`, a fresh PostgreSQL schema): users and tickets through the store,
comments straight into the table (the triggers, or the generated columns, index them). Then a server runs on it
(`python -m bench.launch project --db FILE|URL`) and one agent sends each query `repeats`
times, one at a time: the time is request sent → `SearchResults` decoded. The baseline answers the same question
on the same file with `LIKE '%word%'` over titles, descriptions and comments (every word, the same qualifiers,
the same limit, no ranking), timed in this process on its own connection: the scan a search box without an index
would run.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import psycopg

from bench import seed
from bench.replicas import schema
from bench.servers import launch
from lesbillets_server.storage import is_postgres_url, open_store
from lesbillets_server.storage.fts import qualifier_clause
from protocol.client import connect
from protocol.messages import Priority, Status, Ticket
from protocol.query import parse_query

QUERIES: Final = (
    ("one word", "printer"),
    ("two words", "vpn timeout"),
    ("word + qualifier", "printer status:open"),
    ("rare word in a comment", "0xc004f074"),
    ("qualifiers only", "status:blocked priority:urgent"),
)
RARE: Final = "0xc004f074"
LIMIT: Final = 50
LIKE_RUNS: Final = 5
_COMMENT_COLUMNS: Final = "id, ticket_id, author, author_name, body, created_at"


def _split(text: str) -> list[str]:
    return text.split()


_FUNCTION_WORDS: Final = _split(
    "the to a is it and on of in not for after when from with this my we can be at but since"
)
# by how common they are in helpdesk titles, roughly: the queries' words sit at ranks 12, 25 and 60
_HELPDESK_WORDS: Final = _split(
    """error issue not working access update login email account password new request printer
    laptop slow server outlook install reset portal crash network screen report vpn file phone
    teams meeting backup invoice payroll export license calendar keyboard mouse wifi headset camera
    driver windows mac browser chrome firefox cache cookie certificate expired sso token database excel
    sheet macro share drive folder permission denied timeout disk full memory cpu fan noise battery charger
    dock monitor cable hdmi usb bluetooth sync mobile app ios android tablet scanner toner paper jam duplex
    tray queue spooler restart reboot shutdown freeze hang blue code warning alert customer order history
    refund payment card declined shipping address delivery tracking label warehouse stock inventory price
    discount coupon checkout cart session redirect loop dns proxy firewall port floor office remote home
    site branch manager intern contractor onboarding offboarding badge door elevator projector room booking"""
)
_SYLLABLES: Final = _split("ba ko ri mu sel tan vor el quin da pre lo ux mar nit fa gre os ul pim")
_EPOCH: Final = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
_STREAM: Final = 1_000_000
"""Words drawn once; each text is a slice of them at a random place (drawing every word is the slow part)."""


def _zipf(rng: random.Random, words: list[str]) -> list[str]:
    weights = [1.0 / rank for rank in range(1, len(words) + 1)]
    return rng.choices(words, weights=weights, k=_STREAM)


class Corpus:
    """Deterministic helpdesk-like text: Zipf-distributed words, a stream for titles and one for the rest."""

    def __init__(self, seed_value: int = 9) -> None:
        self.rng = random.Random(seed_value)
        rare = sorted({a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES})
        self.rng.shuffle(rare)
        self._titles = _zipf(self.rng, _HELPDESK_WORDS)
        self._texts = _zipf(self.rng, [*_FUNCTION_WORDS, *_HELPDESK_WORDS, *rare[:6000]])

    def _slice(self, stream: list[str], count: int) -> str:
        start = self.rng.randrange(len(stream) - count)
        return " ".join(stream[start : start + count])

    def title(self) -> str:
        return self._slice(self._titles, self.rng.randint(4, 8)).capitalize()

    def text(self, low: int, high: int) -> str:
        return self._slice(self._texts, self.rng.randint(low, high)).capitalize() + "."


def _tickets(corpus: Corpus, count: int, author: uuid.UUID) -> list[Ticket]:
    statuses, priorities = list(Status), list(Priority)
    tickets = []
    for index in range(count):
        at = _EPOCH + timedelta(seconds=index)
        tickets.append(
            Ticket(
                id=uuid.UUID(int=index + 1),
                title=corpus.title(),
                description=corpus.text(15, 60),
                status=statuses[index % len(statuses)],
                priority=priorities[(index // 3) % len(priorities)],
                assignee=author if index % 2 else None,
                created_at=at,
                created_by=author,
                updated_at=at,
                updated_by=author,
                version=1,
            )
        )
    return tickets


def _comment_rows(corpus: Corpus, tickets: int, comments: int) -> Iterator[tuple[Any, ...]]:
    author = seed.user_id(0)
    for n in range(comments):
        yield (
            uuid.UUID(int=(1 << 96) + n),
            uuid.UUID(int=corpus.rng.randrange(tickets) + 1),
            author,
            "Agent 00000",
            corpus.text(8, 50) + (f" Error {RARE} again." if n % 100_003 == 5 else ""),
            _EPOCH + timedelta(seconds=n),
        )


async def seed_database(db: str, *, tickets: int, comments: int) -> float:
    """Users, tickets and comments into a new database (a SQLite file, or a PostgreSQL URL); seconds it took."""
    started = time.perf_counter()
    corpus = Corpus()
    store = await open_store(db)
    try:
        await seed.seed(store, users=1, tickets_count=0)
        made = _tickets(corpus, tickets, seed.user_id(0))
        for start in range(0, len(made), 10_000):
            await store.create_tickets(made[start : start + 10_000], datetime.now(UTC))
    finally:
        await store.close()
    rows = _comment_rows(corpus, tickets, comments)
    if is_postgres_url(db):
        async with await psycopg.AsyncConnection.connect(db) as conn:
            async with conn.cursor() as cursor, cursor.copy(f"COPY comments ({_COMMENT_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    await copy.write_row(row)
            await conn.commit()
            await conn.execute("ANALYZE")
    else:
        with closing(sqlite3.connect(db)) as sqlite, sqlite:
            sqlite.executemany(
                f"INSERT INTO comments ({_COMMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                ((str(a), str(b), str(c), d, e, f.isoformat()) for a, b, c, d, e, f in rows),
            )
    return time.perf_counter() - started


def like_statement(text: str, placeholder: str, like: str) -> tuple[str, list[Any]]:
    """The baseline: the same question as `Search`, answered by scanning with LIKE (no index, no ranking)."""
    p = placeholder
    query = parse_query(text, me=seed.user_id(0)).filter
    quals, params = qualifier_clause(
        query, p, tags="1 = 1", as_param=lambda value: str(value) if isinstance(value, uuid.UUID) else value
    )
    if not query.words:
        return f"SELECT t.id FROM tickets t WHERE {quals} ORDER BY t.created_at DESC LIMIT {LIMIT}", params
    in_ticket = " AND ".join(f"(t.title {like} {p} OR t.description {like} {p})" for _ in query.words)
    in_comment = " AND ".join(f"c.body {like} {p}" for _ in query.words)
    patterns = [f"%{word}%" for word in query.words]
    statement = (
        f"SELECT t.id FROM tickets t WHERE {quals} AND (({in_ticket}) OR EXISTS"
        f" (SELECT 1 FROM comments c WHERE c.ticket_id = t.id AND {in_comment})) LIMIT {LIMIT}"
    )
    return statement, [*params, *(pattern for pattern in patterns for _ in (0, 1)), *patterns]


def _like_runs(db: str, results: list[QueryResult]) -> None:
    """Time the LIKE scan of each query on its own connection, the first run of each to warm up."""
    if is_postgres_url(db):
        with psycopg.connect(db, autocommit=True) as conn:
            for result in results:
                statement, params = like_statement(result.text, "%s", "ILIKE")  # SQLite's LIKE ignores case
                for run in range(LIKE_RUNS + 1):
                    started = time.perf_counter()
                    result.like_rows = len(conn.execute(statement, params).fetchall())
                    if run:
                        result.like_ms.append((time.perf_counter() - started) * 1000)
        return
    with closing(sqlite3.connect(db)) as sqlite:
        for result in results:
            statement, params = like_statement(result.text, "?", "LIKE")
            for run in range(LIKE_RUNS + 1):
                started = time.perf_counter()
                result.like_rows = len(sqlite.execute(statement, params).fetchall())
                if run:
                    result.like_ms.append((time.perf_counter() - started) * 1000)


@dataclass(slots=True)
class QueryResult:
    name: str
    text: str
    hits: int = 0
    search_ms: list[float] = field(default_factory=list)
    like_ms: list[float] = field(default_factory=list)
    like_rows: int = 0


@dataclass(frozen=True, slots=True)
class SearchBenchResult:
    engine: str
    tickets: int
    comments: int
    seed_s: float
    queries: list[QueryResult]


@contextlib.asynccontextmanager
async def _database(engine: str, workdir: Path, pg: str) -> AsyncIterator[str]:
    if engine == "sqlite":
        yield str(workdir / "search.db")
    else:
        async with schema(pg, "lesbillets_bench_search") as url:
            yield url


async def run_search(
    *, engine: str, tickets: int, comments: int, repeats: int, workdir: Path, pg: str
) -> SearchBenchResult:
    async with _database(engine, workdir, pg) as db:
        seed_s = await seed_database(db, tickets=tickets, comments=comments)
        results = [QueryResult(name, text) for name, text in QUERIES]
        async with launch("project", "--db", db) as server, connect(server.url, request_timeout=60) as client:
            await client.resume(seed.token(0))
            for result in results:
                for run in range(repeats + 3):  # three to warm up
                    started = time.perf_counter()
                    hits = await client.search(result.text, limit=LIMIT)
                    if run >= 3:
                        result.search_ms.append((time.perf_counter() - started) * 1000)
                result.hits = len(hits)
        _like_runs(db, results)
    return SearchBenchResult(engine=engine, tickets=tickets, comments=comments, seed_s=seed_s, queries=results)
