"""SQLite (WAL): the embedded store, for one server.

Calls are synchronous inside `async` methods on purpose: a statement takes microseconds, and one server's writes are
serialised by the event loop as SQLite serialises its writers. Ticket changes are group-committed: those asked for
in one turn of the loop share one transaction (see `change`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import stat
import time
import uuid
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lesbillets_server.config import MEMORY_DB
from lesbillets_server.errors import GuardFailed, StoreError, StoreUnavailable
from lesbillets_server.health import WriteHealth
from lesbillets_server.ratelimit import Buckets, MemoryBuckets
from lesbillets_server.storage import batch as batch_of
from lesbillets_server.storage import inbox_rules, schema
from lesbillets_server.storage.fts_sqlite import SqliteSearch
from lesbillets_server.storage.records import (
    CommentWrite,
    EventKind,
    InboxEntry,
    Loaded,
    LoggedEvent,
    Prior,
    SessionRecord,
    TicketChange,
    UserRecord,
    Write,
    comment_logged,
    created,
    encode_event_data,
    logged,
    released_by_server,
    with_fence,
)
from lesbillets_server.storage.sql import (
    EVENT_COLUMNS,
    TICKET_COLUMNS,
    TICKET_PLACES,
    UNLOCK_FIELDS,
    event_from_row,
    guard_clause,
    locks_held_statement,
    new_uuid,
    numbered,
    ticket_from_row,
    ticket_values,
    update_statement,
    update_values,
)
from lesbillets_server.storage.talk_sql import (
    COMMENT_COLUMNS,
    INBOX_COLUMNS,
    comment_from_row,
    comment_values,
    fitting,
    inbox_item_from_row,
    inbox_item_statement,
    inbox_page_statement,
    inbox_values,
    newest_comments_statement,
    unread_statement,
)
from protocol.messages import Comment, InboxItem, Role, SearchHit, Ticket, UnlockReason, User
from protocol.query import Filter

log = logging.getLogger(__name__)

_UPDATE = update_statement("?")
_CANNOT_WRITE = frozenset(
    {
        sqlite3.SQLITE_FULL,  # the disk (or its quota) is full
        sqlite3.SQLITE_READONLY,  # the file, its directory or the mount is read-only
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_BUSY,  # another process held the write lock beyond busy_timeout
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CANTOPEN,  # the -wal or -shm file cannot be created
        sqlite3.SQLITE_PERM,
    }
)
"""SQLite's primary result codes for a database that cannot be written right now, whatever the request."""
_USER_COLUMNS = "id, email, name, role, password_hash, disabled"


def ts(moment: datetime) -> str:
    """One text form for every time, so that SQLite compares times as strings correctly."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return ts(value)
    if isinstance(value, list):  # tags
        return json.dumps(value)
    return value


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


class SqliteStore:
    """A write the database refuses for a reason outside the request (see `_CANNOT_WRITE`) raises
    `StoreUnavailable` with nothing written, and is reported to `health`."""

    engine = "sqlite"
    shared = False

    def __init__(
        self, path: str | Path, *, synchronous: str = "normal", busy_timeout_s: float = 5.0, log_failures: bool = True
    ) -> None:
        target = str(path)
        self.where = target
        self.health = WriteHealth(target, time.monotonic(), logs=log_failures)
        self._batch: batch_of.Batch = []
        self._committed_this_turn = False
        try:
            if target != MEMORY_DB:
                _create_private(Path(target))
            self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'full' else 'NORMAL'}")
            self._db.execute("PRAGMA foreign_keys = ON")
            # an INSERT OR REPLACE then fires delete triggers too: the search index's (schema migration 5)
            self._db.execute("PRAGMA recursive_triggers = ON")
            self._db.execute(f"PRAGMA busy_timeout = {round(busy_timeout_s * 1000)}")
            self._migrate()
            self._searches = SqliteSearch(None if target == MEMORY_DB else target, self._db)
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StoreError(f"Cannot open the database {target}: {reason}.") from exc

    def _migrate(self) -> None:
        has_meta = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
        row = has_meta and self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        current = int(row[0]) if row else 0
        for number in schema.pending(current, self.where):
            with self._transaction() as db:
                for statement in schema.SQLITE[number]:
                    db.execute(statement)
                if number == 1:  # the event log starts: lease times get the one text form that compares right
                    _normalise_lock_times(db)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (number + 1,))

    @contextmanager
    def _transaction(self, *, report: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back with `StoreUnavailable` if it cannot be written."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # a failed COMMIT (disk full, I/O error) may leave the transaction open, or SQLite may have ended it
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in _CANNOT_WRITE:
                raise
            if report:
                self.health.failed(str(exc), time.monotonic())
            raise StoreUnavailable(self.where, str(exc)) from None
        if report:
            self.health.succeeded(time.monotonic())

    async def probe(self, *, report: bool = True) -> None:
        with self._transaction(report=report) as db:
            # a changed value, so the commit really appends to the WAL (an unchanged row writes no page)
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('write_probe', 1)"
                " ON CONFLICT (key) DO UPDATE SET value = value + 1"
            )

    async def close(self) -> None:
        self._searches.close()
        self._db.close()

    # --- the read model's start, the clock ------------------------------------------------------

    async def load(self) -> Loaded:
        tickets: list[Ticket] = []
        holders: dict[uuid.UUID, str] = {}
        for row in self._db.execute(f"SELECT {TICKET_COLUMNS} FROM tickets ORDER BY created_at"):
            ticket, holder = ticket_from_row(row, new_uuid, _time)
            tickets.append(ticket)
            if holder is not None:
                holders[ticket.id] = holder
        seq, epoch = self._db.execute("SELECT seq, epoch FROM log_head").fetchone()
        (oldest,) = self._db.execute("SELECT min(seq) FROM events").fetchone()
        return Loaded(
            tickets=tickets, holders=holders, seq=seq, epoch=epoch, log_start=seq + 1 if oldest is None else oldest
        )

    async def clock_offset(self) -> timedelta:
        return timedelta(0)  # one server, one machine: its clock is the helpdesk's

    # --- ticket changes -------------------------------------------------------------------------

    async def create_tickets(self, tickets: Sequence[Ticket], now: datetime) -> list[LoggedEvent]:
        if not tickets:
            return []
        with self._transaction() as db:
            # the numbers come from a counter in this transaction: given in creation order, never twice
            (last,) = db.execute(
                "UPDATE meta SET value = value + ? WHERE key = 'ticket_number' RETURNING value", (len(tickets),)
            ).fetchone()
            tickets = numbered(tickets, range(last - len(tickets) + 1, last + 1))
            db.executemany(
                f"INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ({', '.join('?' * TICKET_PLACES)})",
                [[_value(v) for v in ticket_values(ticket, None)] for ticket in tickets],
            )
            events = self._append(db, [created(ticket, now) for ticket in tickets])
            self._add_inbox(db, [entry for event in events for entry in inbox_rules.for_ticket(event, None)])
            return events

    async def change(self, change: Write, now: datetime) -> LoggedEvent:
        """Group commit: the first change of a turn of the event loop commits at once (a lone agent waits for
        nothing); the changes asked for after it in the same turn share the next transaction, each still checked
        by its own guard, so under load the commit is paid once for many (it was a fifth of the server's time
        under 50 writing agents, bench/RESULTS.md)."""
        loop = asyncio.get_running_loop()
        if not self._committed_this_turn:
            self._committed_this_turn = True
            loop.call_soon(self._new_turn)
            with self._transaction() as db:
                return self._write_one(db, change, now)
        future: asyncio.Future[LoggedEvent] = loop.create_future()
        if not self._batch:
            loop.call_soon(self._commit_batch)
        self._batch.append((change, now, future))
        return await future

    def _new_turn(self) -> None:
        self._committed_this_turn = False

    def _commit_batch(self) -> None:
        batch = batch_of.wanted(self._batch)
        self._batch = []
        outcomes: list[batch_of.Outcome] = []
        try:
            with self._transaction() as db:
                for change, now, _ in batch:
                    try:
                        outcomes.append(self._write_one(db, change, now))
                    except GuardFailed as failed:  # it wrote nothing: the others go on
                        outcomes.append(failed)
        except Exception as exc:
            batch_of.fail(batch, exc)
            return
        batch_of.settle(batch, outcomes)

    def _change(self, db: sqlite3.Connection, change: TicketChange, now: datetime) -> LoggedEvent:
        guard = change.guard
        ticket = change.ticket
        if guard.max_locks is not None and ticket.lock is not None:
            (held,) = db.execute(
                locks_held_statement("?"), (str(ticket.lock.user_id), ts(now), str(ticket.id))
            ).fetchone()
            if held >= guard.max_locks:
                raise GuardFailed(*self._current(db, ticket.id), too_many_locks=True)
        where, params = guard_clause(guard, now, "?")
        values = update_values(ticket, change.holder, change.grant) + params
        row = db.execute(_UPDATE.format(guard=where), [_value(v) for v in values]).fetchone()
        if row is None:
            raise GuardFailed(*self._current(db, ticket.id))
        if ticket.lock is not None:
            ticket = with_fence(ticket, row[0])
        return self._append(db, [logged(change, ticket, now)])[0]

    def _write_one(self, db: sqlite3.Connection, write: Write, now: datetime) -> LoggedEvent:
        """One write of a batch, with the inbox entries it makes, in the batch's transaction."""
        if isinstance(write, CommentWrite):
            return self._comment(db, write, now)
        if not inbox_rules.needs_prior(write):
            return self._change(db, write, now)  # nobody can get an item from it
        prior = self._prior(db, write.ticket.id)
        event = self._change(db, write, now)
        self._add_inbox(db, inbox_rules.for_ticket(event, prior))
        return event

    def _prior(self, db: sqlite3.Connection, ticket_id: uuid.UUID) -> Prior | None:
        row = db.execute("SELECT assignee, lock_user_id FROM tickets WHERE id = ?", (str(ticket_id),)).fetchone()
        if row is None:
            return None
        assignee, lock_user = (None if value is None else uuid.UUID(value) for value in row)
        return Prior(assignee=assignee, lock_user=lock_user)

    def _comment(self, db: sqlite3.Connection, write: CommentWrite, now: datetime) -> LoggedEvent:
        comment = write.comment
        mentions = _mentions_text(comment.mentions)
        named_before: list[uuid.UUID] = []
        if write.kind is EventKind.COMMENTED:
            values = [_value(v) for v in comment_values(comment, mentions)]
            db.execute(f"INSERT INTO comments ({COMMENT_COLUMNS}) VALUES ({', '.join('?' * 8)})", values)
        else:
            # the transaction holds the write lock: what the row named before is what this edit replaces
            row = db.execute(
                "SELECT mentions FROM comments WHERE id = ? AND author = ?", (str(comment.id), str(comment.author))
            ).fetchone()
            if row is None:
                raise GuardFailed(None, None)
            named_before = _mentions_list(row[0])
            db.execute(
                "UPDATE comments SET body = ?, edited_at = ?, mentions = ? WHERE id = ?",
                (comment.body, _value(comment.edited_at), mentions, str(comment.id)),
            )
        event = self._append(db, [comment_logged(write, now)])[0]
        self._add_inbox(db, inbox_rules.for_comment(event, named_before))
        return event

    def _add_inbox(self, db: sqlite3.Connection, entries: list[InboxEntry]) -> None:
        if entries:
            db.executemany(
                f"INSERT INTO inbox ({INBOX_COLUMNS}) VALUES ({', '.join('?' * 7)})",
                [[_value(v) for v in inbox_values(entry)] for entry in entries],
            )

    async def release_expired(self, now: datetime) -> list[LoggedEvent]:
        return self._release("lock_session IS NOT NULL AND lock_expires_at <= ?", [ts(now)], UnlockReason.EXPIRED, now)

    async def release_session(self, session_id: str, reason: UnlockReason, now: datetime) -> list[LoggedEvent]:
        return self._release("lock_session = ?", [session_id], reason, now)

    async def release_orphans(self, now: datetime, grace: timedelta) -> list[LoggedEvent]:
        alive = "SELECT 1 FROM session_liveness l WHERE l.session_id = tickets.lock_session AND l.seen_at >= ?"
        return self._release(
            f"lock_session IS NOT NULL AND NOT EXISTS ({alive})", [ts(now - grace)], UnlockReason.DISCONNECTED, now
        )

    def _release(self, where: str, params: list[Any], reason: UnlockReason, now: datetime) -> list[LoggedEvent]:
        with self._transaction() as db:
            rows = db.execute(f"UPDATE tickets SET {UNLOCK_FIELDS} WHERE {where} RETURNING {TICKET_COLUMNS}", params)
            released = [ticket_from_row(row, new_uuid, _time)[0] for row in rows.fetchall()]
            return self._append(db, [released_by_server(ticket, reason, now) for ticket in released])

    async def heartbeat(self, replica: str, sessions: Collection[str], now: datetime) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO session_liveness VALUES (?, ?, ?)",
                [(session, replica, ts(now)) for session in sessions],
            )
            db.execute("DELETE FROM session_liveness WHERE seen_at < ?", (ts(now - timedelta(days=1)),))

    def _append(self, db: sqlite3.Connection, events: list[LoggedEvent]) -> list[LoggedEvent]:
        """Give the events the next seqs and add them to the log, in this transaction."""
        if not events:
            return []
        (last,) = db.execute("UPDATE log_head SET seq = seq + ? RETURNING seq", (len(events),)).fetchone()
        numbered = [replace(event, seq=last - len(events) + n) for n, event in enumerate(events, 1)]
        db.executemany(
            f"INSERT INTO events (ticket_id, {EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    str(e.ticket_id),
                    e.seq,
                    e.kind.value,
                    None if e.reason is None else e.reason.value,
                    None if e.actor is None else str(e.actor),
                    ts(e.at),
                    e.holder,
                    encode_event_data(e),
                )
                for e in numbered
            ],
        )
        return numbered

    def _current(self, db: sqlite3.Connection, ticket_id: uuid.UUID) -> tuple[Ticket | None, str | None]:
        row = db.execute(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?", (str(ticket_id),)).fetchone()
        return (None, None) if row is None else ticket_from_row(row, new_uuid, _time)

    # --- the log --------------------------------------------------------------------------------

    async def events_after(self, seq: int, limit: int) -> list[LoggedEvent]:
        rows = self._db.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [event_from_row(row, new_uuid, _time) for row in rows]

    async def head(self) -> int:
        return int(self._db.execute("SELECT seq FROM log_head").fetchone()[0])

    async def wakeups(self) -> AsyncIterator[None]:
        return  # one server owns the file: its own commits are all there is
        yield

    async def history(self, ticket_id: uuid.UUID, limit: int) -> list[LoggedEvent]:
        rows = self._db.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE ticket_id = ? AND kind <> 'renewed' ORDER BY seq DESC LIMIT ?",
            (str(ticket_id), limit),
        ).fetchall()
        return [event_from_row(row, new_uuid, _time) for row in reversed(rows)]

    async def trim_log(self, before: datetime) -> int:
        with self._transaction() as db:
            # the inbox is read from the log: its items go with their events
            db.execute("DELETE FROM inbox WHERE at < ?", (ts(before),))
            return db.execute("DELETE FROM events WHERE at < ?", (ts(before),)).rowcount

    # --- the conversation and the inbox ---------------------------------------------------------

    async def comment(self, comment_id: uuid.UUID) -> Comment | None:
        row = self._db.execute(f"SELECT {COMMENT_COLUMNS} FROM comments WHERE id = ?", (str(comment_id),)).fetchone()
        return None if row is None else _comment_from_row(row)

    async def comments(self, ticket_id: uuid.UUID, limit: int, max_chars: int) -> list[Comment]:
        cursor = self._db.execute(newest_comments_statement("?"), (str(ticket_id), limit))
        try:
            rows = fitting(cursor, max_chars)
        finally:
            cursor.close()
        return [_comment_from_row(row) for row in reversed(rows)]

    async def inbox(self, user_id: uuid.UUID, limit: int, *, unread_only: bool) -> tuple[list[InboxItem], int]:
        rows = self._db.execute(inbox_page_statement("?", "0", unread_only=unread_only), (str(user_id), limit))
        items = [inbox_item_from_row(row, new_uuid, _time) for row in rows.fetchall()]
        return items, self._unread(user_id)

    async def inbox_item(self, user_id: uuid.UUID, seq: int) -> tuple[InboxItem | None, int]:
        row = self._db.execute(inbox_item_statement("?"), (str(user_id), seq)).fetchone()
        return (None if row is None else inbox_item_from_row(row, new_uuid, _time)), self._unread(user_id)

    async def mark_read(self, user_id: uuid.UUID, seqs: Collection[int], up_to: int | None) -> int:
        with self._transaction() as db:
            db.execute(
                "UPDATE inbox SET read = 1 WHERE user_id = ? AND read = 0"
                " AND (seq IN (SELECT value FROM json_each(?)) OR seq <= ?)",
                (str(user_id), json.dumps(list(seqs)), -1 if up_to is None else up_to),
            )
            return self._unread(user_id)

    def _unread(self, user_id: uuid.UUID) -> int:
        return int(self._db.execute(unread_statement("?", "0"), (str(user_id),)).fetchone()[0])

    # --- search -------------------------------------------------------------------------------------

    async def search(self, query: Filter, limit: int, *, timeout_s: float) -> list[SearchHit]:
        return await self._searches.search(query, limit, timeout_s)

    # --- users and sessions ---------------------------------------------------------------------

    async def add_user(self, user: User, password_hash: str) -> None:
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO users ({_USER_COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
                (str(user.id), user.email, user.name, user.role.value, password_hash, ts(datetime.now(UTC))),
            )

    async def user_by_email(self, email: str) -> UserRecord | None:
        return self._one_user("email = ?", email)

    async def user_by_id(self, user_id: uuid.UUID) -> UserRecord | None:
        return self._one_user("id = ?", str(user_id))

    async def list_users(self) -> list[UserRecord]:
        return [_user_from_row(row) for row in self._db.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY email")]

    async def set_password(self, user_id: uuid.UUID, password_hash: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, str(user_id)))

    async def set_disabled(self, user_id: uuid.UUID, disabled: bool) -> None:
        with self._transaction() as db:
            db.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), str(user_id)))
            _sessions_changed(db)

    def _one_user(self, where: str, value: str) -> UserRecord | None:
        row = self._db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE {where}", (value,)).fetchone()
        return None if row is None else _user_from_row(row)

    async def add_session(self, session: SessionRecord, token_hash: str, *, password_hash: str | None = None) -> bool:
        # one statement, so a `user disable` or `user passwd` that ran during the password check wins
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at)"
                " SELECT :id, :token_hash, id, :now, :expires_at FROM users WHERE id = :user_id"
                " AND (:password_hash IS NULL OR (disabled = 0 AND password_hash = :password_hash))",
                {
                    "id": session.id,
                    "token_hash": token_hash,
                    "now": ts(datetime.now(UTC)),
                    "expires_at": ts(session.expires_at),
                    "user_id": str(session.user_id),
                    "password_hash": password_hash,
                },
            )
            return cursor.rowcount == 1

    async def session_by_token(self, token_hash: str) -> SessionRecord | None:
        row = self._db.execute(
            "SELECT id, user_id, expires_at FROM sessions WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        return None if row is None else SessionRecord(id=row[0], user_id=uuid.UUID(row[1]), expires_at=_time(row[2]))

    async def delete_session(self, session_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            _sessions_changed(db)

    async def delete_sessions_of(self, user_id: uuid.UUID) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE user_id = ?", (str(user_id),))
            _sessions_changed(db)

    async def session_generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'session_generation'").fetchone()
        return 0 if row is None else int(row[0])

    async def live_sessions(self, session_ids: Collection[str]) -> set[str]:
        ids = list(session_ids)
        live: set[str] = set()
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start : start + _IDS_PER_QUERY]
            rows = self._db.execute(
                "SELECT sessions.id FROM sessions JOIN users ON users.id = sessions.user_id"
                f" WHERE users.disabled = 0 AND sessions.id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            live.update(row[0] for row in rows)
        return live

    def login_buckets(self) -> Buckets:
        return MemoryBuckets()  # one server: its memory is the whole truth

    async def purge_sessions(self, now: datetime) -> int:
        # julianday() reads the stored ISO 8601 text with its offset, whatever its precision
        with self._transaction() as db:
            return db.execute("DELETE FROM sessions WHERE julianday(expires_at) <= julianday(?)", (ts(now),)).rowcount


def _mentions_text(mentions: list[uuid.UUID]) -> str:
    return json.dumps([str(user) for user in mentions])


def _mentions_list(text: Any) -> list[uuid.UUID]:
    return [uuid.UUID(user) for user in json.loads(text)]


def _comment_from_row(row: tuple[Any, ...]) -> Comment:
    return comment_from_row(row, new_uuid, _time, _mentions_list)


def _user_from_row(row: tuple[Any, ...]) -> UserRecord:
    user = User(id=uuid.UUID(row[0]), email=row[1], name=row[2], role=Role(row[3]))
    return UserRecord(user=user, password_hash=row[4], disabled=bool(row[5]))


_IDS_PER_QUERY = 500
"""Well under SQLite's limit on bound parameters."""


def _sessions_changed(db: sqlite3.Connection) -> None:
    """Bump the session generation, which every server on this database polls to end revoked sessions."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('session_generation', 1)"
        " ON CONFLICT (key) DO UPDATE SET value = value + 1"
    )


def _create_private(path: Path) -> None:
    """Create the database's directory (0700) and file (0600) if missing: they hold password hashes and every ticket.

    SQLite gives the -wal and -shm files the database file's mode. A directory or file that already exists keeps
    its mode (an operator may have chosen it); a database others can read gets a warning.
    """
    missing = [parent for parent in (path.parent, *path.parent.parents) if not parent.exists()]
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        directory.chmod(0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            log.warning("the database %s can be read by other users (mode %o); `chmod 600` it", path, mode)


def _normalise_lock_times(db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT id, lock_expires_at FROM tickets WHERE lock_expires_at IS NOT NULL").fetchall()
    db.executemany("UPDATE tickets SET lock_expires_at = ? WHERE id = ?", [(ts(_time(at)), tid) for tid, at in rows])
