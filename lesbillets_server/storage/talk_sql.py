"""SQL both engines share for the conversation and the inbox: the comment row's columns and the inbox's reads.

As in sql.py, each store passes its placeholder and converters (SQLite keeps text, psycopg native types; a
comment's mentions are JSON text in SQLite and a uuid[] in PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lesbillets_server.storage.records import InboxEntry
from lesbillets_server.storage.sql import Convert
from protocol.messages import Comment, InboxItem, InboxKind

COMMENT_COLUMNS = "id, ticket_id, author, author_name, body, created_at, edited_at, mentions"
INBOX_COLUMNS = "user_id, seq, kind, ticket_id, comment_id, actor, at"

_ITEM = (
    "SELECT i.seq, i.kind, i.ticket_id, coalesce(t.number, 0), coalesce(t.title, ''), i.actor, coalesce(u.name, ''),"
    " i.at, i.read, i.comment_id"
    " FROM inbox i LEFT JOIN tickets t ON t.id = i.ticket_id LEFT JOIN users u ON u.id = i.actor"
)


def comment_values(comment: Comment, mentions: Any) -> tuple[Any, ...]:
    """The row's values in `COMMENT_COLUMNS` order, with the mentions already in the engine's form."""
    return (
        comment.id,
        comment.ticket_id,
        comment.author,
        comment.author_name,
        comment.body,
        comment.created_at,
        comment.edited_at,
        mentions,
    )


def comment_from_row(row: tuple[Any, ...], as_uuid: Convert, as_time: Convert, as_mentions: Convert) -> Comment:
    return Comment(
        id=as_uuid(row[0]),
        ticket_id=as_uuid(row[1]),
        author=as_uuid(row[2]),
        author_name=row[3],
        body=row[4],
        created_at=as_time(row[5]),
        edited_at=None if row[6] is None else as_time(row[6]),
        mentions=as_mentions(row[7]),
    )


def newest_comments_statement(placeholder: str) -> str:
    """A ticket's newest comments, newest first (parameters: ticket, count), to read a few rows at a time with
    `fitting`: adding up their lengths in SQL instead read every body of the newest `count` (43 ms on SQLite's
    loop, 61 ms of PostgreSQL's time, for a ticket of 1,000 long comments), however few of them fit."""
    p = placeholder
    return f"SELECT {COMMENT_COLUMNS} FROM comments WHERE ticket_id = {p} ORDER BY created_at DESC, id DESC LIMIT {p}"


FETCH_ROWS = 8
"""Rows of `newest_comments_statement` fetched at a time where fetching is a round trip (PostgreSQL)."""


def fitting(rows: Iterable[tuple[Any, ...]], max_chars: int) -> list[tuple[Any, ...]]:
    """The comments a reply carries, newest first: each while the text of the newer ones is under `max_chars`
    (the one reaching it included). Reads no row past that one."""
    kept: list[tuple[Any, ...]] = []
    newer = 0
    if max_chars <= 0:
        return kept
    for row in rows:
        kept.append(row)
        newer += len(row[4])
        if newer >= max_chars:
            break  # before the next row is read: its body may be 20,000 characters
    return kept


def inbox_values(entry: InboxEntry) -> tuple[Any, ...]:
    """An entry's values in `INBOX_COLUMNS` order."""
    return (
        entry.user_id,
        entry.seq,
        entry.kind.value,
        entry.ticket_id,
        entry.comment_id,
        entry.actor,
        entry.at,
    )


def inbox_page_statement(placeholder: str, false: str, *, unread_only: bool) -> str:
    """A user's newest items (parameters: user, limit). `false` is the engine's false (the partial index's
    condition is written with it)."""
    p = placeholder
    unread = f" AND i.read = {false}" if unread_only else ""
    return f"{_ITEM} WHERE i.user_id = {p}{unread} ORDER BY i.seq DESC LIMIT {p}"


def inbox_item_statement(placeholder: str) -> str:
    """One item (parameters: user, seq)."""
    return f"{_ITEM} WHERE i.user_id = {placeholder} AND i.seq = {placeholder}"


def unread_statement(placeholder: str, false: str) -> str:
    """How many of a user's items are unread (parameter: user)."""
    return f"SELECT count(*) FROM inbox WHERE user_id = {placeholder} AND read = {false}"


def inbox_item_from_row(row: tuple[Any, ...], as_uuid: Convert, as_time: Convert) -> InboxItem:
    return InboxItem(
        seq=int(row[0]),
        kind=InboxKind(row[1]),
        ticket_id=as_uuid(row[2]),
        number=int(row[3]),
        title=row[4],
        actor=None if row[5] is None else as_uuid(row[5]),
        actor_name=row[6],
        at=as_time(row[7]),
        read=bool(row[8]),
        comment_id=None if row[9] is None else as_uuid(row[9]),
    )
