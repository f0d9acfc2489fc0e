"""Durable state: the `Store` interface and its SQLite implementation.

The server keeps the authoritative state in memory (`Board`) and writes every
change through a `Store` before it replies or broadcasts. `Store` is the seam
where a PostgreSQL implementation will go when several servers share one
database; nothing outside this module speaks SQL.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
import uuid
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from lesbillets_server.config import MEMORY_DB
from lesbillets_server.errors import StoreError, StoreUnavailable
from lesbillets_server.health import WriteHealth
from protocol.messages import Lock, Priority, Role, Status, Ticket, User

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'admin')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    assignee TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    version INTEGER NOT NULL,
    lock_user_id TEXT,
    lock_user_name TEXT,
    lock_expires_at TEXT,
    lock_session TEXT
);
"""

_TICKET_COLUMNS = (
    "id, title, description, status, priority, assignee, created_at, created_by, updated_at, updated_by, version,"
    " lock_user_id, lock_user_name, lock_expires_at, lock_session"
)


@dataclass(frozen=True, slots=True)
class UserRecord:
    user: User
    password_hash: str
    disabled: bool


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user_id: uuid.UUID
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a server starts from."""

    tickets: list[Ticket]
    holders: dict[uuid.UUID, str]
    seq: int


class Store(Protocol):
    @property
    def health(self) -> WriteHealth:
        """What the latest writes found: whether the database can be written."""
        ...

    def probe(self, *, report: bool = True) -> None:
        """A small committed write, to learn whether the database can be written (`StoreUnavailable` if not).

        `report=False` leaves `health` and the log out of it (the start-up check, which stops the server).
        """
        ...

    def load(self) -> Loaded: ...
    def save(self, changes: Iterable[tuple[Ticket, str | None]], seq: int) -> None:
        """Write tickets (with the session holding each one's lock) and the last event number, atomically."""
        ...

    def add_user(self, user: User, password_hash: str) -> None: ...
    def user_by_email(self, email: str) -> UserRecord | None: ...
    def user_by_id(self, user_id: uuid.UUID) -> UserRecord | None: ...
    def list_users(self) -> list[UserRecord]: ...
    def set_password(self, user_id: uuid.UUID, password_hash: str) -> None: ...
    def set_disabled(self, user_id: uuid.UUID, disabled: bool) -> None: ...
    def add_session(self, session: SessionRecord, token_hash: str, *, password_hash: str | None = None) -> bool:
        """Store a new session; with `password_hash`, only if the user is still enabled and still has it."""
        ...

    def session_by_token(self, token_hash: str) -> SessionRecord | None: ...
    def delete_session(self, session_id: str) -> None: ...
    def delete_sessions_of(self, user_id: uuid.UUID) -> None: ...
    def session_generation(self) -> int:
        """A number that changes whenever any process deletes a session or disables a user in this database."""
        ...

    def live_sessions(self, session_ids: Collection[str]) -> set[str]:
        """Those of `session_ids` that still exist and belong to an enabled user (expiry is the caller's check)."""
        ...

    def purge_sessions(self, now: datetime) -> int:
        """Delete the sessions that expired by `now`; how many there were."""
        ...

    def close(self) -> None: ...


class SqliteStore:
    """SQLite in WAL mode; each `save` is one committed transaction.

    A write the database refuses for a reason outside the request (see `_CANNOT_WRITE`)
    raises `StoreUnavailable` with nothing written, and is reported to `health`.
    """

    def __init__(
        self, path: str | Path, *, synchronous: str = "normal", busy_timeout_s: float = 5.0, log_failures: bool = True
    ) -> None:
        target = str(path)
        self._path = target
        self.health = WriteHealth(target, time.monotonic(), logs=log_failures)
        try:
            if target != MEMORY_DB:
                _create_private(Path(target))
            self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'full' else 'NORMAL'}")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute(f"PRAGMA busy_timeout = {round(busy_timeout_s * 1000)}")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StoreError(f"Cannot open the database {target}: {reason}.") from exc

    def _migrate(self) -> None:
        with self._transaction() as db:
            # executescript() would COMMIT on its own; statement by statement keeps the migration atomic
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?), ('seq', 0)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise StoreError(f"The database was written by a newer server (schema {row[0]}); upgrade this one.")

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
            raise StoreUnavailable(self._path, str(exc)) from None
        if report:
            self.health.succeeded(time.monotonic())

    def probe(self, *, report: bool = True) -> None:
        with self._transaction(report=report) as db:
            # a changed value, so the commit really appends to the WAL (an unchanged row writes no page)
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('write_probe', 1)"
                " ON CONFLICT (key) DO UPDATE SET value = value + 1"
            )

    # --- tickets ----------------------------------------------------------------

    def load(self) -> Loaded:
        tickets: list[Ticket] = []
        holders: dict[uuid.UUID, str] = {}
        for row in self._db.execute(f"SELECT {_TICKET_COLUMNS} FROM tickets ORDER BY created_at"):
            ticket = _ticket_from_row(row)
            tickets.append(ticket)
            if row[14] is not None:
                holders[ticket.id] = row[14]
        seq = self._db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0]
        return Loaded(tickets=tickets, holders=holders, seq=seq)

    def save(self, changes: Iterable[tuple[Ticket, str | None]], seq: int) -> None:
        with self._transaction() as db:
            db.executemany(
                f"INSERT OR REPLACE INTO tickets ({_TICKET_COLUMNS}) VALUES ({', '.join('?' * 15)})",
                [_ticket_to_row(ticket, holder) for ticket, holder in changes],
            )
            db.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (seq,))

    # --- users ------------------------------------------------------------------

    def add_user(self, user: User, password_hash: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO users (id, email, name, role, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, datetime('now'))",
                (str(user.id), user.email, user.name, user.role.value, password_hash),
            )

    def user_by_email(self, email: str) -> UserRecord | None:
        return self._one_user("email = ?", email)

    def user_by_id(self, user_id: uuid.UUID) -> UserRecord | None:
        return self._one_user("id = ?", str(user_id))

    def list_users(self) -> list[UserRecord]:
        rows = self._db.execute("SELECT id, email, name, role, password_hash, disabled FROM users ORDER BY email")
        return [_user_from_row(row) for row in rows]

    def set_password(self, user_id: uuid.UUID, password_hash: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, str(user_id)))

    def set_disabled(self, user_id: uuid.UUID, disabled: bool) -> None:
        with self._transaction() as db:
            db.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), str(user_id)))
            _sessions_changed(db)

    def _one_user(self, where: str, value: str) -> UserRecord | None:
        row = self._db.execute(
            f"SELECT id, email, name, role, password_hash, disabled FROM users WHERE {where}", (value,)
        ).fetchone()
        return None if row is None else _user_from_row(row)

    # --- sessions ---------------------------------------------------------------

    def add_session(self, session: SessionRecord, token_hash: str, *, password_hash: str | None = None) -> bool:
        # one statement, so a `user disable` or `user passwd` that ran during the password check wins
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at)"
                " SELECT :id, :token_hash, id, datetime('now'), :expires_at FROM users WHERE id = :user_id"
                " AND (:password_hash IS NULL OR (disabled = 0 AND password_hash = :password_hash))",
                {
                    "id": session.id,
                    "token_hash": token_hash,
                    "expires_at": session.expires_at.isoformat(),
                    "user_id": str(session.user_id),
                    "password_hash": password_hash,
                },
            )
            return cursor.rowcount == 1

    def session_by_token(self, token_hash: str) -> SessionRecord | None:
        row = self._db.execute(
            "SELECT id, user_id, expires_at FROM sessions WHERE token_hash = ?", (token_hash,)
        ).fetchone()
        if row is None:
            return None
        return SessionRecord(id=row[0], user_id=uuid.UUID(row[1]), expires_at=datetime.fromisoformat(row[2]))

    def delete_session(self, session_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            _sessions_changed(db)

    def delete_sessions_of(self, user_id: uuid.UUID) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE user_id = ?", (str(user_id),))
            _sessions_changed(db)

    def session_generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'session_generation'").fetchone()
        return 0 if row is None else int(row[0])

    def live_sessions(self, session_ids: Collection[str]) -> set[str]:
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

    def purge_sessions(self, now: datetime) -> int:
        # julianday() reads the stored ISO 8601 text with its offset, whatever its precision
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM sessions WHERE julianday(expires_at) <= julianday(?)", (now.isoformat(),))
            return cursor.rowcount

    def close(self) -> None:
        self._db.close()


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

    SQLite gives the -wal and -shm files the database file's mode. A directory or file
    that already exists keeps its mode (an operator may have chosen it); a database others
    can read gets a warning.
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


def _user_from_row(row: tuple[str, str, str, str, str, int]) -> UserRecord:
    user = User(id=uuid.UUID(row[0]), email=row[1], name=row[2], role=Role(row[3]))
    return UserRecord(user=user, password_hash=row[4], disabled=bool(row[5]))


def _ticket_to_row(ticket: Ticket, holder: str | None) -> tuple[object, ...]:
    lock = ticket.lock
    return (
        str(ticket.id),
        ticket.title,
        ticket.description,
        ticket.status.value,
        ticket.priority.value,
        None if ticket.assignee is None else str(ticket.assignee),
        ticket.created_at.isoformat(),
        str(ticket.created_by),
        ticket.updated_at.isoformat(),
        str(ticket.updated_by),
        ticket.version,
        None if lock is None else str(lock.user_id),
        None if lock is None else lock.user_name,
        None if lock is None else lock.expires_at.isoformat(),
        holder if lock is not None else None,
    )


def _ticket_from_row(row: tuple[object, ...]) -> Ticket:
    lock = None
    if row[11] is not None:
        lock = Lock(
            user_id=uuid.UUID(str(row[11])),
            user_name=str(row[12]),
            expires_at=datetime.fromisoformat(str(row[13])),
        )
    return Ticket(
        id=uuid.UUID(str(row[0])),
        title=str(row[1]),
        description=str(row[2]),
        status=Status(str(row[3])),
        priority=Priority(str(row[4])),
        assignee=None if row[5] is None else uuid.UUID(str(row[5])),
        created_at=datetime.fromisoformat(str(row[6])),
        created_by=uuid.UUID(str(row[7])),
        updated_at=datetime.fromisoformat(str(row[8])),
        updated_by=uuid.UUID(str(row[9])),
        version=int(str(row[10])),
        lock=lock,
    )
