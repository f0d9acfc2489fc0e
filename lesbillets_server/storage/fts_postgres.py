"""Search on PostgreSQL: the generated tsvector columns of schema migration 5, their GIN indexes, ts_rank and
ts_headline.

The words never become tsquery syntax: each goes through `phraseto_tsquery`, which reads any text as plain words,
and the phrases are joined with `&&`. The tsquery is computed once per statement (a materialised CTE) so rows are
not each made to parse it again. Each tier is one statement in one read transaction; before each, the statement
timeout is set to what is left of the search's time, so the database itself stops a search at its deadline.
Tiers after the first run only when it found fewer than `limit` tickets.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Final

import psycopg

from lesbillets_server.storage.fts import (
    SNIPPET_WORDS,
    START,
    STOP,
    Found,
    SearchTimedOut,
    Tier,
    hit,
    listed,
    qualifier_clause,
    searchable,
)
from protocol.messages import SearchHit
from protocol.query import Filter

SEARCHES_AT_ONCE: Final = 3
"""Searches that may hold a pooled connection at once (of the pool's 10): changes always find one free."""
_TAGS = "t.tags && %s::text[]"
_TITLE_MARKS = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"
_SNIPPET = (
    f"StartSel={START}, StopSel={STOP}, MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, ShortWord=2,"
    ' MaxFragments=1, FragmentDelimiter=" … "'
)
_TITLE = """WITH q AS MATERIALIZED (SELECT {tsquery} AS q),
    top AS (
        SELECT t.id, t.number, t.title, ts_rank(t.search_title, q.q) AS r FROM q, tickets t
        WHERE t.search_title @@ q.q AND {quals} ORDER BY r DESC, t.created_at DESC LIMIT %s)
    SELECT top.id, top.number, top.title, top.r, ts_headline('english', top.title, q.q, %s), NULL, NULL
    FROM top, q ORDER BY top.r DESC, top.id"""
_TEXT = """WITH q AS MATERIALIZED (SELECT {tsquery} AS q),
    top AS (
        SELECT t.id, ts_rank(t.search_text, q.q) AS r FROM q, tickets t
        WHERE t.search_text @@ q.q AND NOT (t.id = ANY(%s)) AND {quals} ORDER BY r DESC, t.created_at DESC LIMIT %s)
    SELECT t.id, t.number, t.title, top.r, ts_headline('english', t.description, q.q, %s), t.description, NULL
    FROM top JOIN tickets t ON t.id = top.id, q ORDER BY top.r DESC, t.id"""
_COMMENT = """WITH q AS MATERIALIZED (SELECT {tsquery} AS q),
    best AS (
        SELECT DISTINCT ON (c.ticket_id) c.ticket_id, c.id, ts_rank(c.search, q.q) AS r
        FROM q, comments c JOIN tickets t ON t.id = c.ticket_id
        WHERE c.search @@ q.q AND NOT (c.ticket_id = ANY(%s)) AND {quals} ORDER BY c.ticket_id, r DESC, c.id),
    top AS (SELECT * FROM best ORDER BY r DESC LIMIT %s)
    SELECT t.id, t.number, t.title, top.r, ts_headline('english', c.body, q.q, %s), c.body, c.id
    FROM top JOIN comments c ON c.id = top.id JOIN tickets t ON t.id = top.ticket_id, q ORDER BY top.r DESC, t.id"""
_LISTED = "SELECT t.id, t.number, t.title FROM tickets t WHERE {quals} ORDER BY t.created_at DESC, t.id DESC LIMIT %s"


def _param(value: Any) -> Any:
    return value  # psycopg binds UUIDs, ints, strings and lists of strings as they are


async def search(conn: psycopg.AsyncConnection[Any], query: Filter, limit: int, timeout_s: float) -> list[SearchHit]:
    """Run one search on a pooled connection (autocommit); `SearchTimedOut` once `timeout_s` is spent.

    In pipeline mode: the settings go out with the statement they are for, one round trip per tier.
    """
    deadline = time.monotonic() + timeout_s
    try:
        async with conn.pipeline(), conn.transaction():
            # a stop word alone ("the") makes an empty tsquery, which PostgreSQL reports with a NOTICE
            await conn.execute("SET LOCAL client_min_messages = warning")
            return await _search(conn, query, limit, deadline)
    except psycopg.errors.QueryCanceled:
        raise SearchTimedOut from None


async def _rows(
    conn: psycopg.AsyncConnection[Any], statement: str, values: list[Any], deadline: float
) -> list[tuple[Any, ...]]:
    """The statement's rows, with what is left of the search's time as its timeout."""
    left_ms = int((deadline - time.monotonic()) * 1000)
    if left_ms <= 0:
        raise SearchTimedOut
    await conn.execute(f"SET LOCAL statement_timeout = {left_ms}")
    return await (await conn.execute(statement, values)).fetchall()


async def _search(conn: psycopg.AsyncConnection[Any], query: Filter, limit: int, deadline: float) -> list[SearchHit]:
    if query.is_empty:
        return []  # nothing asked for
    quals, params = qualifier_clause(query, "%s", tags=_TAGS, as_param=_param)
    if not query.words:
        rows = await _rows(conn, _LISTED.format(quals=quals), [*params, limit], deadline)
        return [listed(row[0], row[1], row[2]) for row in rows]
    words = searchable(query.words)
    if not words:
        return []
    # an empty tsquery (stop words only) matches nothing, and GIN answers that at once
    tsquery = "(" + " && ".join(["phraseto_tsquery('english', %s)"] * len(words)) + ")"
    hits: list[SearchHit] = []
    seen: list[uuid.UUID] = []
    for tier in (Tier.TITLE, Tier.TEXT, Tier.COMMENT):
        left = limit - len(hits)
        if tier is Tier.TITLE:
            statement, values = _TITLE, [*words, *params, left, _TITLE_MARKS]
        else:
            statement = _TEXT if tier is Tier.TEXT else _COMMENT
            values = [*words, list(seen), *params, left, _SNIPPET]
        rows = await _rows(conn, statement.format(tsquery=tsquery, quals=quals), values, deadline)
        for ticket_id, number, title, rank, headline, source, comment_id in rows:
            seen.append(ticket_id)
            found = Found(
                ticket_id=ticket_id,
                number=number,
                title=title,
                relevance=float(rank),
                marked=headline,
                comment_id=comment_id,
            )
            hits.append(hit(tier, found, source=source))
        if len(hits) >= limit:
            break
    return hits
