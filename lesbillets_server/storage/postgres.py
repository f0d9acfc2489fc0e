"""PostgreSQL: the store several replicas share.

seq comes from one row (`log_head`) updated in the change's own transaction: the row lock makes seq order commit
order with no gaps, which a SEQUENCE does not (it skips on rollback and hands numbers out before commit). The lock
is taken last in the transaction, so it is held only for the append and the commit. Each append also notifies
the schema's channel: replicas LISTEN there to know when to tail the log (no payload: the log is the truth).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from lesbillets_server.errors import GuardFailed, StoreError, StoreUnavailable
from lesbillets_server.health import WriteHealth
from lesbillets_server.ratelimit import Buckets
from lesbillets_server.storage import batch as batch_of
from lesbillets_server.storage import fts_postgres, inbox_rules, schema
from lesbillets_server.storage.pg_buckets import FORGET_AFTER_S, PgBuckets
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
    FETCH_ROWS,
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

_UPDATE = update_statement("%s")
_USER_COLUMNS = "id, email, name, role, password_hash, disabled"
_UNREACHABLE = (psycopg.OperationalError, psycopg.errors.ReadOnlySqlTransaction)
"""The database cannot serve us now (gone, shutting down, out of disk, a pool timeout, a read-only standby)."""
_MIGRATION_LOCK = 7_2616_1153  # any constant: replicas starting at once migrate one at a time


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _time(value: Any) -> datetime:
    assert isinstance(value, datetime)
    return value


class PostgresStore:
    engine = "postgresql"
    shared = True

    def __init__(
        self, url: str, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]], channel: str, *, log_failures: bool
    ) -> None:
        self.where = redacted(url)
        self.health = WriteHealth(self.where, time.monotonic(), logs=log_failures)
        self._batch: batch_of.Batch = []
        self._committing: asyncio.Task[None] | None = None
        self._url = url
        self._pool = pool
        self._channel = channel
        self._search_slots = asyncio.Semaphore(fts_postgres.SEARCHES_AT_ONCE)

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 10, log_failures: bool = True) -> PostgresStore:
        try:
            # one plain connection first: a wrong URL fails at once with the server's own words (a pool retries)
            async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=10) as conn:
                await _migrate(conn, redacted(url))
                row = await (await conn.execute("SELECT current_schema()")).fetchone()
        except (psycopg.Error, OSError) as exc:
            raise StoreError(f"Cannot use the database {redacted(url)}: {_reason(exc)}.") from None
        pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            url, min_size=1, max_size=pool_size, open=False, kwargs={"autocommit": True}
        )
        try:
            await pool.open(wait=True, timeout=10)
        except (psycopg.Error, TimeoutError, OSError) as exc:
            await pool.close()
            raise StoreError(f"Cannot use the database {redacted(url)}: {_reason(exc)}.") from None
        assert row is not None
        return cls(url, pool, f"lesbillets_events_{row[0]}", log_failures=log_failures)

    async def close(self) -> None:
        # A batch in flight belongs to no request task (its waiters may have been cancelled): let it commit or
        # fail before the pool goes, or its connection stays open mid-transaction, holding its row locks.
        if self._committing is not None and not self._committing.done():
            await asyncio.wait([self._committing], timeout=10)
        await self._pool.close()

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection; losing the database is `StoreUnavailable` (a sentence for the client)."""
        try:
            async with self._pool.connection() as conn:
                yield conn
        except _UNREACHABLE as exc:
            self.health.failed(_reason(exc), time.monotonic())
            raise StoreUnavailable(self.where, _reason(exc)) from None

    @contextlib.asynccontextmanager
    async def writing(self, *, report: bool = True) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """One write transaction: committed whole, or `StoreUnavailable` when the database cannot take it now
        (unreachable, read-only, out of disk); its outcome goes to `health`."""
        try:
            async with self._pool.connection() as conn, conn.transaction():
                yield conn
        except _UNREACHABLE as exc:
            if report:
                self.health.failed(_reason(exc), time.monotonic())
            raise StoreUnavailable(self.where, _reason(exc)) from None
        if report:
            self.health.succeeded(time.monotonic())

    async def probe(self, *, report: bool = True) -> None:
        async with self.writing(report=report) as conn:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ('write_probe', 1)"
                " ON CONFLICT (key) DO UPDATE SET value = meta.value + 1"
            )

    # --- the read model's start, the clock ------------------------------------------------------

    async def load(self) -> Loaded:
        async with self.reading() as conn, conn.transaction():
            # one snapshot of the database for the tickets and the head: REPEATABLE READ
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            rows = await (await conn.execute(f"SELECT {TICKET_COLUMNS} FROM tickets ORDER BY created_at")).fetchall()
            head = await (await conn.execute("SELECT seq, epoch FROM log_head")).fetchone()
            oldest = await (await conn.execute("SELECT min(seq) FROM events")).fetchone()
        assert head is not None and oldest is not None
        tickets: list[Ticket] = []
        holders: dict[uuid.UUID, str] = {}
        for row in rows:
            ticket, holder = ticket_from_row(row, new_uuid, _time)
            tickets.append(ticket)
            if holder is not None:
                holders[ticket.id] = holder
        seq = int(head[0])
        return Loaded(
            tickets=tickets,
            holders=holders,
            seq=seq,
            epoch=str(head[1]),
            log_start=seq + 1 if oldest[0] is None else int(oldest[0]),
        )

    async def clock_offset(self) -> timedelta:
        async with self.reading() as conn:
            before = time.time()
            row = await (await conn.execute("SELECT clock_timestamp()")).fetchone()
            after = time.time()
        assert row is not None
        local = datetime.fromtimestamp((before + after) / 2, UTC)
        return _time(row[0]) - local

    async def wakeups(self) -> AsyncIterator[None]:
        """Yields each time the log may have grown (a notification, or 5 s without one: the safety net)."""
        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            while True:
                async for _ in conn.notifies(timeout=5.0, stop_after=1):
                    pass
                yield None

    # --- ticket changes -------------------------------------------------------------------------

    async def create_tickets(self, tickets: Sequence[Ticket], now: datetime) -> list[LoggedEvent]:
        if not tickets:
            return []
        async with self.writing() as conn:
            # a sequence: replicas creating at once never get the same number (a rolled-back one leaves a gap)
            cursor = await conn.execute("SELECT nextval('ticket_numbers') FROM generate_series(1, %s)", (len(tickets),))
            tickets = numbered(tickets, sorted(int(row[0]) for row in await cursor.fetchall()))
            async with conn.cursor() as insert:
                await insert.executemany(
                    f"INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ({', '.join(['%s'] * TICKET_PLACES)})",
                    [ticket_values(ticket, None) for ticket in tickets],
                )
            events = await self._append(conn, [created(ticket, now) for ticket in tickets])
            await self._add_inbox(conn, [entry for event in events for entry in inbox_rules.for_ticket(event, None)])
            return events

    async def change(self, change: Write, now: datetime) -> LoggedEvent:
        """Group commit: one transaction of changes is in flight at a time, and the changes asked for meanwhile
        make the next one, each still checked by its own guard. Every change takes the log's head row, so the
        changes of a helpdesk commit one after another: paying the commit once per batch is what scales."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[LoggedEvent] = loop.create_future()
        self._batch.append((change, now, future))
        if self._committing is None or self._committing.done():
            self._committing = loop.create_task(self._commit_batches())
        return await future

    async def _commit_batches(self) -> None:
        while self._batch:
            batch = batch_of.wanted(self._batch)
            self._batch = []
            outcomes: list[batch_of.Outcome] = []
            try:
                async with self.writing() as conn:
                    for change, now, _ in batch:
                        try:
                            outcomes.append(await self._write_one(conn, change, now))
                        except GuardFailed as failed:  # it wrote nothing: the others go on
                            outcomes.append(failed)
            except Exception as exc:
                batch_of.fail(batch, exc)
                continue
            batch_of.settle(batch, outcomes)

    async def _change(self, conn: psycopg.AsyncConnection[Any], change: TicketChange, now: datetime) -> LoggedEvent:
        guard = change.guard
        ticket = change.ticket
        if guard.max_locks is not None and ticket.lock is not None:
            # two grants to one user on two replicas must not both pass the count: serialise on the user
            await conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (ticket.lock.user_id,))
            held = await (
                await conn.execute(locks_held_statement("%s"), (ticket.lock.user_id, now, ticket.id))
            ).fetchone()
            assert held is not None
            if held[0] >= guard.max_locks:
                raise GuardFailed(*await self._current(conn, ticket.id), too_many_locks=True)
        where, params = guard_clause(guard, now, "%s")
        cursor = await conn.execute(
            _UPDATE.format(guard=where), update_values(ticket, change.holder, change.grant) + params
        )
        row = await cursor.fetchone()
        if row is None:
            raise GuardFailed(*await self._current(conn, ticket.id))
        if ticket.lock is not None:
            ticket = with_fence(ticket, int(row[0]))
        return (await self._append(conn, [logged(change, ticket, now)]))[0]

    async def _write_one(self, conn: psycopg.AsyncConnection[Any], write: Write, now: datetime) -> LoggedEvent:
        """One write of a batch, with the inbox entries it makes, in the batch's transaction."""
        if isinstance(write, CommentWrite):
            return await self._comment(conn, write, now)
        if not inbox_rules.needs_prior(write):
            return await self._change(conn, write, now)  # nobody can get an item from it
        prior = await self._prior(conn, write.ticket.id)
        event = await self._change(conn, write, now)
        await self._add_inbox(conn, inbox_rules.for_ticket(event, prior))
        return event

    async def _prior(self, conn: psycopg.AsyncConnection[Any], ticket_id: uuid.UUID) -> Prior | None:
        # FOR UPDATE: the row the change is about to write stays as read until the commit
        cursor = await conn.execute("SELECT assignee, lock_user_id FROM tickets WHERE id = %s FOR UPDATE", (ticket_id,))
        row = await cursor.fetchone()
        return None if row is None else Prior(assignee=row[0], lock_user=row[1])

    async def _comment(self, conn: psycopg.AsyncConnection[Any], write: CommentWrite, now: datetime) -> LoggedEvent:
        comment = write.comment
        named_before: list[uuid.UUID] = []
        if write.kind is EventKind.COMMENTED:
            await conn.execute(
                f"INSERT INTO comments ({COMMENT_COLUMNS}) VALUES ({', '.join(['%s'] * 8)})",
                comment_values(comment, list(comment.mentions)),
            )
        else:
            cursor = await conn.execute(
                "SELECT mentions FROM comments WHERE id = %s AND author = %s FOR UPDATE", (comment.id, comment.author)
            )
            row = await cursor.fetchone()
            if row is None:
                raise GuardFailed(None, None)
            named_before = list(row[0])
            await conn.execute(
                "UPDATE comments SET body = %s, edited_at = %s, mentions = %s WHERE id = %s",
                (comment.body, comment.edited_at, list(comment.mentions), comment.id),
            )
        event = (await self._append(conn, [comment_logged(write, now)]))[0]
        await self._add_inbox(conn, inbox_rules.for_comment(event, named_before))
        return event

    async def _add_inbox(self, conn: psycopg.AsyncConnection[Any], entries: list[InboxEntry]) -> None:
        if entries:
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    f"INSERT INTO inbox ({INBOX_COLUMNS}) VALUES ({', '.join(['%s'] * 7)})",
                    [inbox_values(entry) for entry in entries],
                )

    async def release_expired(self, now: datetime) -> list[LoggedEvent]:
        return await self._release(
            "lock_session IS NOT NULL AND lock_expires_at <= %s", [now], UnlockReason.EXPIRED, now
        )

    async def release_session(self, session_id: str, reason: UnlockReason, now: datetime) -> list[LoggedEvent]:
        return await self._release("lock_session = %s", [session_id], reason, now)

    async def release_orphans(self, now: datetime, grace: timedelta) -> list[LoggedEvent]:
        alive = "SELECT 1 FROM session_liveness l WHERE l.session_id = tickets.lock_session AND l.seen_at >= %s"
        return await self._release(
            f"lock_session IS NOT NULL AND NOT EXISTS ({alive})", [now - grace], UnlockReason.DISCONNECTED, now
        )

    async def _release(self, where: str, params: list[Any], reason: UnlockReason, now: datetime) -> list[LoggedEvent]:
        async with self.writing() as conn:
            # the UPDATE claims the rows: a replica sweeping at the same time waits, then finds them released
            cursor = await conn.execute(
                f"UPDATE tickets SET {UNLOCK_FIELDS} WHERE {where} RETURNING {TICKET_COLUMNS}", params
            )
            released = [ticket_from_row(row, new_uuid, _time)[0] for row in await cursor.fetchall()]
            return await self._append(conn, [released_by_server(ticket, reason, now) for ticket in released])

    async def heartbeat(self, replica: str, sessions: Collection[str], now: datetime) -> None:
        async with self.writing() as conn:
            if sessions:
                await conn.execute(
                    "INSERT INTO session_liveness SELECT s, %s, %s FROM unnest(%s::text[]) AS s"
                    " ON CONFLICT (session_id, replica) DO UPDATE SET seen_at = excluded.seen_at",
                    (replica, now, list(sessions)),
                )
            await conn.execute("DELETE FROM session_liveness WHERE seen_at < %s", (now - timedelta(days=1),))

    async def _append(self, conn: psycopg.AsyncConnection[Any], events: list[LoggedEvent]) -> list[LoggedEvent]:
        """Give the events the next seqs and add them to the log, in this transaction (the head row's lock is
        taken here, last, and held until the commit)."""
        if not events:
            return []
        cursor = await conn.execute(
            "WITH head AS (UPDATE log_head SET seq = seq + %s WHERE id = 1 RETURNING seq),"
            " wake AS (SELECT pg_notify(%s, ''))"
            " SELECT head.seq FROM head, wake",
            (len(events), self._channel),
        )
        row = await cursor.fetchone()
        assert row is not None
        last = int(row[0])
        numbered = [replace(event, seq=last - len(events) + n) for n, event in enumerate(events, 1)]
        async with conn.cursor() as insert:
            await insert.executemany(
                f"INSERT INTO events (ticket_id, {EVENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        e.ticket_id,
                        e.seq,
                        e.kind.value,
                        None if e.reason is None else e.reason.value,
                        e.actor,
                        e.at,
                        e.holder,
                        encode_event_data(e),
                    )
                    for e in numbered
                ],
            )
        return numbered

    async def _current(
        self, conn: psycopg.AsyncConnection[Any], ticket_id: uuid.UUID
    ) -> tuple[Ticket | None, str | None]:
        row = await (await conn.execute(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = %s", (ticket_id,))).fetchone()
        return (None, None) if row is None else ticket_from_row(row, new_uuid, _time)

    # --- the log --------------------------------------------------------------------------------

    async def events_after(self, seq: int, limit: int) -> list[LoggedEvent]:
        return await self._events(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > %s ORDER BY seq LIMIT %s", seq, limit
        )

    async def head(self) -> int:
        async with self.reading() as conn:
            row = await (await conn.execute("SELECT seq FROM log_head")).fetchone()
        assert row is not None
        return int(row[0])

    async def history(self, ticket_id: uuid.UUID, limit: int) -> list[LoggedEvent]:
        newest_first = await self._events(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE ticket_id = %s AND kind <> 'renewed' ORDER BY seq DESC LIMIT %s",
            ticket_id,
            limit,
        )
        return newest_first[::-1]

    async def _events(self, query: str, *params: Any) -> list[LoggedEvent]:
        async with self.reading() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        return [event_from_row(row, new_uuid, _time) for row in rows]

    async def trim_log(self, before: datetime) -> int:
        async with self.writing() as conn:
            await conn.execute(
                "DELETE FROM inbox WHERE at < %s", (before,)
            )  # the inbox is read from the log: it goes too
            return (await conn.execute("DELETE FROM events WHERE at < %s", (before,))).rowcount

    # --- the conversation and the inbox ---------------------------------------------------------

    async def comment(self, comment_id: uuid.UUID) -> Comment | None:
        async with self.reading() as conn:
            cursor = await conn.execute(f"SELECT {COMMENT_COLUMNS} FROM comments WHERE id = %s", (comment_id,))
            row = await cursor.fetchone()
        return None if row is None else _comment_from_row(row)

    async def comments(self, ticket_id: uuid.UUID, limit: int, max_chars: int) -> list[Comment]:
        fetched: list[tuple[Any, ...]] = []
        async with self.reading() as conn, conn.transaction(), conn.cursor(name="newest_comments") as cursor:
            await cursor.execute(newest_comments_statement("%s"), (ticket_id, limit))
            chars = 0
            while chars < max_chars and (batch := await cursor.fetchmany(FETCH_ROWS)):
                fetched.extend(batch)
                chars += sum(len(row[4]) for row in batch)
        return [_comment_from_row(row) for row in reversed(fitting(fetched, max_chars))]

    async def inbox(self, user_id: uuid.UUID, limit: int, *, unread_only: bool) -> tuple[list[InboxItem], int]:
        async with self.reading() as conn, conn.transaction():
            # one snapshot for the page and the count
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor = await conn.execute(inbox_page_statement("%s", "false", unread_only=unread_only), (user_id, limit))
            items = [inbox_item_from_row(row, new_uuid, _time) for row in await cursor.fetchall()]
            unread = await self._unread(conn, user_id)
        return items, unread

    async def inbox_item(self, user_id: uuid.UUID, seq: int) -> tuple[InboxItem | None, int]:
        async with self.reading() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = await (await conn.execute(inbox_item_statement("%s"), (user_id, seq))).fetchone()
            unread = await self._unread(conn, user_id)
        return (None if row is None else inbox_item_from_row(row, new_uuid, _time)), unread

    async def mark_read(self, user_id: uuid.UUID, seqs: Collection[int], up_to: int | None) -> int:
        async with self.writing() as conn:
            await conn.execute(
                "UPDATE inbox SET read = true WHERE user_id = %s AND NOT read"
                " AND (seq = ANY(%s::bigint[]) OR seq <= %s)",
                (user_id, list(seqs), -1 if up_to is None else up_to),
            )
            return await self._unread(conn, user_id)

    @staticmethod
    async def _unread(conn: psycopg.AsyncConnection[Any], user_id: uuid.UUID) -> int:
        row = await (await conn.execute(unread_statement("%s", "false"), (user_id,))).fetchone()
        assert row is not None
        return int(row[0])

    # --- search -------------------------------------------------------------------------------------

    async def search(self, query: Filter, limit: int, *, timeout_s: float) -> list[SearchHit]:
        async with self._search_slots, self.reading() as conn:
            return await fts_postgres.search(conn, query, limit, timeout_s)

    # --- users and sessions ---------------------------------------------------------------------

    async def add_user(self, user: User, password_hash: str) -> None:
        await self._write(
            f"INSERT INTO users ({_USER_COLUMNS}) VALUES (%s, %s, %s, %s, %s, false)",
            user.id,
            user.email,
            user.name,
            user.role.value,
            password_hash,
        )

    async def user_by_email(self, email: str) -> UserRecord | None:
        return await self._one_user("lower(email) = lower(%s)", email)

    async def user_by_id(self, user_id: uuid.UUID) -> UserRecord | None:
        return await self._one_user("id = %s", user_id)

    async def list_users(self) -> list[UserRecord]:
        async with self.reading() as conn:
            rows = await (await conn.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY lower(email)")).fetchall()
        return [_user_from_row(row) for row in rows]

    async def set_password(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self._write("UPDATE users SET password_hash = %s WHERE id = %s", password_hash, user_id)

    async def set_disabled(self, user_id: uuid.UUID, disabled: bool) -> None:
        await self._write("UPDATE users SET disabled = %s WHERE id = %s", disabled, user_id, sessions_changed=True)

    async def add_session(self, session: SessionRecord, token_hash: str, *, password_hash: str | None = None) -> bool:
        # one statement, so a `user disable` or `user passwd` that ran during the password check wins
        async with self.writing() as conn:
            cursor = await conn.execute(
                "INSERT INTO sessions (id, token_hash, user_id, expires_at)"
                " SELECT %(id)s, %(token_hash)s, id, %(expires_at)s FROM users WHERE id = %(user_id)s"
                " AND (%(password_hash)s::text IS NULL OR (NOT disabled AND password_hash = %(password_hash)s))",
                {
                    "id": session.id,
                    "token_hash": token_hash,
                    "expires_at": session.expires_at,
                    "user_id": session.user_id,
                    "password_hash": password_hash,
                },
            )
            return cursor.rowcount == 1

    async def session_by_token(self, token_hash: str) -> SessionRecord | None:
        async with self.reading() as conn:
            cursor = await conn.execute(
                "SELECT id, user_id, expires_at FROM sessions WHERE token_hash = %s", (token_hash,)
            )
            row = await cursor.fetchone()
        return None if row is None else SessionRecord(id=row[0], user_id=row[1], expires_at=row[2])

    async def delete_session(self, session_id: str) -> None:
        await self._write("DELETE FROM sessions WHERE id = %s", session_id, sessions_changed=True)

    async def delete_sessions_of(self, user_id: uuid.UUID) -> None:
        await self._write("DELETE FROM sessions WHERE user_id = %s", user_id, sessions_changed=True)

    async def session_generation(self) -> int:
        async with self.reading() as conn:
            row = await (await conn.execute("SELECT value FROM meta WHERE key = 'session_generation'")).fetchone()
        return 0 if row is None else int(row[0])

    async def live_sessions(self, session_ids: Collection[str]) -> set[str]:
        async with self.reading() as conn:
            rows = await (
                await conn.execute(
                    "SELECT sessions.id FROM sessions JOIN users ON users.id = sessions.user_id"
                    " WHERE NOT users.disabled AND sessions.id = ANY(%s)",
                    (list(session_ids),),
                )
            ).fetchall()
        return {row[0] for row in rows}

    async def purge_sessions(self, now: datetime) -> int:
        async with self.writing() as conn:
            # the shared login allowances and trusted addresses that have run their course go too
            await conn.execute("DELETE FROM login_allowances WHERE at < %s", (now.timestamp() - FORGET_AFTER_S,))
            await conn.execute("DELETE FROM login_trust WHERE until < %s", (now.timestamp(),))
            return (await conn.execute("DELETE FROM sessions WHERE expires_at <= %s", (now,))).rowcount

    def login_buckets(self) -> Buckets:
        return PgBuckets(self)

    async def _one_user(self, where: str, value: Any) -> UserRecord | None:
        async with self.reading() as conn:
            row = await (await conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE {where}", (value,))).fetchone()
        return None if row is None else _user_from_row(row)

    async def _write(self, statement: str, *params: Any, sessions_changed: bool = False) -> None:
        async with self.writing() as conn:
            await conn.execute(statement, params)
            if sessions_changed:  # every replica polls this to end revoked sessions on its connections
                await conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('session_generation', 1)"
                    " ON CONFLICT (key) DO UPDATE SET value = meta.value + 1"
                )


async def _migrate(conn: psycopg.AsyncConnection[Any], where: str) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        exists = await (await conn.execute("SELECT to_regclass('meta') IS NOT NULL")).fetchone()
        current = 0
        if exists is not None and exists[0]:
            row = await (await conn.execute("SELECT value FROM meta WHERE key = 'schema_version'")).fetchone()
            current = 0 if row is None else int(row[0])
        for number in schema.pending(current, where):
            for statement in schema.POSTGRES[number]:
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO meta VALUES ('schema_version', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (number + 1,),
            )


def _comment_from_row(row: tuple[Any, ...]) -> Comment:
    return comment_from_row(row, new_uuid, _time, list)


def _user_from_row(row: tuple[Any, ...]) -> UserRecord:
    user = User(id=row[0], email=row[1], name=row[2], role=Role(row[3]))
    return UserRecord(user=user, password_hash=row[4], disabled=bool(row[5]))


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__
