"""The one contract both stores keep: SQLite (embedded, one server) and PostgreSQL (shared by replicas).

The database is the authority. Every ticket change is one transaction that checks its `Guard` in the write
itself, takes the next seq from the database (so seq order is commit order, with no gaps) and appends the event
to the log. Replicas keep a read model fed by `events_after`; nothing here is cached in memory.
tests/server/test_store_contract.py runs every method and rule against both engines.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from lesbillets_server.health import WriteHealth
from lesbillets_server.ratelimit import Buckets
from lesbillets_server.storage.records import Loaded, LoggedEvent, SessionRecord, UserRecord, Write
from protocol.messages import Comment, InboxItem, SearchHit, Ticket, UnlockReason, User
from protocol.query import Filter


class Store(Protocol):
    engine: str
    """"sqlite" or "postgresql"."""
    shared: bool
    """Several servers may share it (PostgreSQL): events reach a replica through the log, not the process."""
    where: str
    """The database, for people: a file path, or the URL without its password."""
    health: WriteHealth
    """What the latest writes found: whether the database can be written (for /healthz and the log)."""

    async def close(self) -> None: ...

    async def probe(self, *, report: bool = True) -> None:
        """A small committed write, to learn whether the database can be written (`StoreUnavailable` if not).

        `report=False` leaves `health` and the log out of it (the start-up check, which stops the server).
        """
        ...

    # --- the read model's start, the clock ------------------------------------------------------

    async def load(self) -> Loaded: ...

    async def clock_offset(self) -> timedelta:
        """The database's clock minus this machine's: leases are judged on one clock for the whole helpdesk."""
        ...

    # --- ticket changes: each one transaction, appending its events to the log ------------------

    async def create_tickets(self, tickets: Sequence[Ticket], now: datetime) -> list[LoggedEvent]:
        """Add new tickets (one, or an import) in one transaction."""
        ...

    async def change(self, change: Write, now: datetime) -> LoggedEvent:
        """Apply a guarded change, or write a comment; raises `GuardFailed` (with the row as it is) when the guard
        does not hold (for a comment edit: no comment by that author has the id). Writes the inbox entries the
        event makes (see `inbox_rules`) in the same transaction."""
        ...

    async def release_expired(self, now: datetime) -> list[LoggedEvent]:
        """Claim and release every lease that has run out, once however many replicas sweep."""
        ...

    async def release_session(self, session_id: str, reason: UnlockReason, now: datetime) -> list[LoggedEvent]: ...

    async def release_orphans(self, now: datetime, grace: timedelta) -> list[LoggedEvent]:
        """Release the locks of sessions that no replica has reported alive for `grace`."""
        ...

    async def heartbeat(self, replica: str, sessions: Collection[str], now: datetime) -> None:
        """This replica has connections of these sessions now (liveness is shared between replicas)."""
        ...

    # --- the log --------------------------------------------------------------------------------

    async def events_after(self, seq: int, limit: int) -> list[LoggedEvent]: ...

    async def head(self) -> int:
        """The last seq in the log."""
        ...

    def wakeups(self) -> AsyncIterator[None]:
        """Yields whenever another server may have appended to the log (never, for a store only one server uses)."""
        ...

    async def history(self, ticket_id: uuid.UUID, limit: int) -> list[LoggedEvent]:
        """The ticket's newest `limit` events but lease renewals, oldest first."""
        ...

    async def trim_log(self, before: datetime) -> int:
        """Forget events older than `before` (retention), and the inbox items they made; how many events went."""
        ...

    # --- the conversation and the inbox (their writes are `change`s) ----------------------------

    async def comment(self, comment_id: uuid.UUID) -> Comment | None: ...

    async def comments(self, ticket_id: uuid.UUID, limit: int, max_chars: int) -> list[Comment]:
        """The ticket's newest comments, oldest first: at most `limit`, and none older once the newer ones' text
        reaches `max_chars` characters (the one that reaches it is in)."""
        ...

    async def inbox(self, user_id: uuid.UUID, limit: int, *, unread_only: bool) -> tuple[list[InboxItem], int]:
        """The user's newest `limit` items, newest first, and how many of all their items are unread."""
        ...

    async def inbox_item(self, user_id: uuid.UUID, seq: int) -> tuple[InboxItem | None, int]:
        """The user's item from the event `seq` (None if that event gave them none), and their unread count."""
        ...

    async def mark_read(self, user_id: uuid.UUID, seqs: Collection[int], up_to: int | None) -> int:
        """Mark read the user's items with these seqs and every one up to `up_to`; the unread count after."""
        ...

    # --- search -------------------------------------------------------------------------------------

    async def search(self, query: Filter, limit: int, *, timeout_s: float) -> list[SearchHit]:
        """Full-text search over titles, descriptions and comments with the qualifiers of `query`, best first, one
        hit per ticket (the rule: storage/fts.py); without words, the tickets the qualifiers keep, newest first.

        Raises `SearchTimedOut` when the database has worked `timeout_s` on it.
        """
        ...

    # --- users and sessions ---------------------------------------------------------------------

    async def add_user(self, user: User, password_hash: str) -> None: ...
    async def user_by_email(self, email: str) -> UserRecord | None: ...
    async def user_by_id(self, user_id: uuid.UUID) -> UserRecord | None: ...
    async def list_users(self) -> list[UserRecord]: ...
    async def set_password(self, user_id: uuid.UUID, password_hash: str) -> None: ...
    async def set_disabled(self, user_id: uuid.UUID, disabled: bool) -> None: ...
    async def add_session(self, session: SessionRecord, token_hash: str, *, password_hash: str | None = None) -> bool:
        """Store a new session; with `password_hash`, only if the user is still enabled and still has it."""
        ...

    async def session_by_token(self, token_hash: str) -> SessionRecord | None: ...
    async def delete_session(self, session_id: str) -> None: ...
    async def delete_sessions_of(self, user_id: uuid.UUID) -> None: ...

    async def session_generation(self) -> int:
        """A number that changes whenever any process deletes a session or disables a user in this database."""
        ...

    async def live_sessions(self, session_ids: Collection[str]) -> set[str]:
        """Those of `session_ids` that still exist and belong to an enabled user (expiry is the caller's check)."""
        ...

    async def purge_sessions(self, now: datetime) -> int:
        """Delete the sessions that expired by `now`; how many there were."""
        ...

    def login_buckets(self) -> Buckets:
        """Where the login throttle keeps its counts: shared by every server on this database."""
        ...


def is_postgres_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))
