"""Versioned schema migrations, one list per engine, numbered alike: migration N brings a database to version N.

A server runs the missing ones on start, each in its own transaction, and refuses a database whose version is
newer than the last one it knows (written by a newer server) with a sentence.
"""

from __future__ import annotations

from typing import Final

from lesbillets_server.errors import StoreError

SQLITE: Final[list[list[str]]] = [
    # 1: users, sessions, tickets (the schema before the event log)
    [
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        """CREATE TABLE IF NOT EXISTS users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('agent', 'admin')),
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS sessions (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL REFERENCES users (id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS tickets (
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
            lock_session TEXT)""",
        "INSERT OR IGNORE INTO meta VALUES ('seq', 0)",
    ],
    # 2: the event log, lock fences, shared session liveness
    [
        "ALTER TABLE tickets ADD COLUMN lock_fence INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX tickets_lock_session ON tickets (lock_session) WHERE lock_session IS NOT NULL",
        """CREATE TABLE log_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            epoch TEXT NOT NULL)""",
        "INSERT INTO log_head SELECT 1, value, lower(hex(randomblob(16))) FROM meta WHERE key = 'seq'",
        "DELETE FROM meta WHERE key = 'seq'",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            reason TEXT,
            actor TEXT,
            at TEXT NOT NULL,
            holder TEXT,
            data BLOB NOT NULL)""",
        "CREATE INDEX events_ticket ON events (ticket_id, seq)",
        """CREATE TABLE session_liveness (
            session_id TEXT NOT NULL,
            replica TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (session_id, replica))""",
    ],
    # 3: login allowances shared by replicas (one SQLite server keeps them in memory; the tables stay empty)
    [
        """CREATE TABLE login_allowances (
            name TEXT NOT NULL, key TEXT NOT NULL, tokens REAL NOT NULL, at REAL NOT NULL,
            PRIMARY KEY (name, key))""",
        "CREATE TABLE login_trust (pair TEXT PRIMARY KEY, until REAL NOT NULL)",
        # a grant counts the user's unexpired locks (max_locks): without it, a scan of every ticket
        "CREATE INDEX tickets_lock_user ON tickets (lock_user_id) WHERE lock_user_id IS NOT NULL",
    ],
]

POSTGRES: Final[list[list[str]]] = [
    # 1: users, sessions, tickets
    [
        "CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value bigint NOT NULL)",
        """CREATE TABLE users (
            id uuid PRIMARY KEY,
            email text NOT NULL,
            name text NOT NULL,
            role text NOT NULL CHECK (role IN ('agent', 'admin')),
            password_hash text NOT NULL,
            disabled boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now())""",
        "CREATE UNIQUE INDEX users_email ON users (lower(email))",
        """CREATE TABLE sessions (
            id text PRIMARY KEY,
            token_hash text NOT NULL UNIQUE,
            user_id uuid NOT NULL REFERENCES users (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL)""",
        """CREATE TABLE tickets (
            id uuid PRIMARY KEY,
            title text NOT NULL,
            description text NOT NULL,
            status text NOT NULL,
            priority text NOT NULL,
            assignee uuid,
            created_at timestamptz NOT NULL,
            created_by uuid NOT NULL,
            updated_at timestamptz NOT NULL,
            updated_by uuid NOT NULL,
            version integer NOT NULL,
            lock_user_id uuid,
            lock_user_name text,
            lock_expires_at timestamptz,
            lock_session text)""",
    ],
    # 2: the event log, lock fences, shared session liveness
    [
        "ALTER TABLE tickets ADD COLUMN lock_fence bigint NOT NULL DEFAULT 0",
        "CREATE INDEX tickets_lock_session ON tickets (lock_session) WHERE lock_session IS NOT NULL",
        """CREATE TABLE log_head (
            id integer PRIMARY KEY CHECK (id = 1),
            seq bigint NOT NULL,
            epoch text NOT NULL)""",
        "INSERT INTO log_head VALUES (1, 0, md5(random()::text || clock_timestamp()::text))",
        """CREATE TABLE events (
            seq bigint PRIMARY KEY,
            ticket_id uuid NOT NULL,
            kind text NOT NULL,
            reason text,
            actor uuid,
            at timestamptz NOT NULL,
            holder text,
            data bytea NOT NULL)""",
        "CREATE INDEX events_ticket ON events (ticket_id, seq)",
        """CREATE TABLE session_liveness (
            session_id text NOT NULL,
            replica text NOT NULL,
            seen_at timestamptz NOT NULL,
            PRIMARY KEY (session_id, replica))""",
    ],
    # 3: login allowances shared by replicas, so N replicas do not allow N times the guesses
    [
        """CREATE TABLE login_allowances (
            name text NOT NULL, key text NOT NULL, tokens double precision NOT NULL, at double precision NOT NULL,
            PRIMARY KEY (name, key))""",
        "CREATE TABLE login_trust (pair text PRIMARY KEY, until double precision NOT NULL)",
        # a grant counts the user's unexpired locks (max_locks): without it, a scan of every ticket
        "CREATE INDEX tickets_lock_user ON tickets (lock_user_id) WHERE lock_user_id IS NOT NULL",
    ],
]

assert len(SQLITE) == len(POSTGRES), "both engines are numbered alike"
VERSION: Final = len(SQLITE)


def pending(current: int, where: str) -> range:
    """The migrations a database at `current` needs; refuses one written by a newer server."""
    if current > VERSION:
        raise StoreError(
            f"The database {where} was written by a newer Les Billets server (schema version {current}; this "
            f"server knows up to {VERSION}). Upgrade this server, or point it at another database."
        )
    return range(current, VERSION)
