"""Search on SQLite: FTS5 queries on connections of their own, in worker threads.

A search can take tens of milliseconds (it ranks every match), far longer than the store's other statements, so it
does not run on the event loop: each of `THREADS` worker threads reads through its own connection (WAL lets them
read while the server writes), and at most that many searches run at once; the others wait their turn. The loop
interrupts a search at its deadline (`sqlite3.Connection.interrupt`). A `:memory:` database has no second
connection to read it through: there, searches run on the store's own connection, on the loop, and a progress
handler stops them.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from lesbillets_server.storage.fts import (
    Found,
    SearchTimedOut,
    Tier,
    fts5_phrases,
    hit,
    listed,
    qualifier_clause,
    searchable,
    window,
)
from protocol.messages import SearchHit
from protocol.query import Filter

THREADS: Final = 2
_MARKS = "char(57344), char(57345)"  # fts.START, fts.STOP
_TAGS = "EXISTS (SELECT 1 FROM json_each(t.tags) WHERE json_each.value IN (SELECT value FROM json_each(?)))"
_TIERS: Final = (
    (
        Tier.TITLE,
        f"SELECT t.id, t.number, t.title, f.rank, highlight(tickets_fts, 0, {_MARKS}), NULL"
        " FROM tickets_fts f JOIN tickets t ON t.rowid = f.rowid"
        " WHERE tickets_fts MATCH ? AND {quals} ORDER BY f.rank",
    ),
    (
        Tier.TEXT,
        f"SELECT t.id, t.number, t.title, f.rank, highlight(tickets_fts, 1, {_MARKS}), NULL"
        " FROM tickets_fts f JOIN tickets t ON t.rowid = f.rowid"
        " WHERE tickets_fts MATCH ? AND f.rank MATCH 'bm25(4.0, 1.0)' AND {quals} ORDER BY f.rank",
    ),
    (
        Tier.COMMENT,
        f"SELECT t.id, t.number, t.title, f.rank, highlight(comments_fts, 0, {_MARKS}), c.id"
        " FROM comments_fts f JOIN comments c ON c.rowid = f.rowid JOIN tickets t ON t.id = c.ticket_id"
        " WHERE comments_fts MATCH ? AND {quals} ORDER BY f.rank",
    ),
)
_LISTED = "SELECT t.id, t.number, t.title FROM tickets t WHERE {quals} ORDER BY t.created_at DESC, t.rowid DESC LIMIT ?"


def _param(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return json.dumps(value)
    return value


def search(
    db: sqlite3.Connection,
    query: Filter,
    limit: int,
    *,
    deadline: float | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> list[SearchHit]:
    """Run one search on `db`; `SearchTimedOut` when it is interrupted: by `db.interrupt()` with `stopped()` then
    true (checked between statements too, as an interrupt that lands between two statements is lost), or past
    `deadline` (a `time.monotonic()`, checked by a progress handler: for a search on the loop's own thread)."""
    if deadline is not None:
        db.set_progress_handler(lambda: time.monotonic() > deadline, 1000)
    try:
        db.execute("BEGIN")  # one snapshot for every tier
        return _search(db, query, limit, stopped)
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_INTERRUPT:
            raise SearchTimedOut from None
        raise
    finally:
        if deadline is not None:
            db.set_progress_handler(None, 0)
        if db.in_transaction:
            db.execute("ROLLBACK")  # it only read


def _search(db: sqlite3.Connection, query: Filter, limit: int, stopped: Callable[[], bool]) -> list[SearchHit]:
    if query.is_empty:
        return []  # nothing asked for
    quals, params = qualifier_clause(query, "?", tags=_TAGS, as_param=_param)
    if not query.words:
        rows = db.execute(_LISTED.format(quals=quals), [*params, limit]).fetchall()
        return [listed(uuid.UUID(row[0]), row[1], row[2]) for row in rows]
    words = searchable(query.words)
    if not words:
        return []
    phrases = fts5_phrases(words)
    hits: list[SearchHit] = []
    seen: set[str] = set()
    for tier, statement in _TIERS:
        match = f"{{title}} : ({phrases})" if tier is Tier.TITLE else phrases
        if stopped():
            raise SearchTimedOut
        cursor = db.execute(statement.format(quals=quals), [match, *params])
        try:
            while len(hits) < limit and (rows := cursor.fetchmany(64)):
                if stopped():
                    raise SearchTimedOut
                for ticket_id, number, title, rank, snippet, comment_id in rows:
                    if len(hits) == limit:
                        break
                    if ticket_id in seen:  # found in a better tier, or by a better comment
                        continue
                    seen.add(ticket_id)
                    found = Found(
                        ticket_id=uuid.UUID(ticket_id),
                        number=number,
                        title=title,
                        relevance=max(0.0, -float(rank)),  # bm25 is negative, lower is better
                        # the snippet is cut here: FTS5's snippet() is quadratic in the matches (`fts.window`)
                        marked=snippet if tier is Tier.TITLE else window(snippet),
                        comment_id=None if comment_id is None else uuid.UUID(comment_id),
                    )
                    hits.append(hit(tier, found))
        finally:
            cursor.close()
        if len(hits) >= limit:
            break
    return hits


class _Running:
    """One search in a worker thread, and the loop's timer that interrupts it."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.done = False
        self.interrupted = False
        self._timer: asyncio.TimerHandle | None = None

    def arm(self, loop: asyncio.AbstractEventLoop, timeout_s: float) -> None:
        if not self.done:
            self._timer = loop.call_later(timeout_s, self._interrupt)

    def _interrupt(self) -> None:
        # an interrupt while no statement runs is lost (SQLite clears it when the next one starts): the search
        # also reads `interrupted` between statements
        if not self.done:
            self.interrupted = True
            self.db.interrupt()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class SqliteSearch:
    """Where a `SqliteStore` runs its searches: worker threads with their own connections to `path`."""

    def __init__(self, path: str | None, own: sqlite3.Connection) -> None:
        """`path` None: no other connection can see the database (`:memory:`); search on `own`."""
        self._path = path
        self._own = own
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        self._executor = None if path is None else ThreadPoolExecutor(THREADS, thread_name_prefix="search")

    async def search(self, query: Filter, limit: int, timeout_s: float) -> list[SearchHit]:
        if self._executor is None:
            return search(self._own, query, limit, deadline=time.monotonic() + timeout_s)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, loop, query, limit, timeout_s)

    def _run(self, loop: asyncio.AbstractEventLoop, query: Filter, limit: int, timeout_s: float) -> list[SearchHit]:
        """In a worker thread. The loop interrupts the search at its deadline, counted from when this thread took
        it: a progress handler would be a Python call in this thread, each needing the GIL the loop holds."""
        running = _Running(self._connection())
        loop.call_soon_threadsafe(running.arm, loop, timeout_s)
        try:
            return search(running.db, query, limit, stopped=lambda: running.interrupted)
        finally:
            running.done = True
            loop.call_soon_threadsafe(running.disarm)

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            assert self._path is not None
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA query_only = ON")
            db.execute("PRAGMA busy_timeout = 5000")
            with self._opened_lock:
                self._opened.append(db)
            self._local.db = db
        return db

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        for db in self._opened:
            db.close()
        self._opened.clear()
