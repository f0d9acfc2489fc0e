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
    # 4: ticket numbers, due dates and tags; the conversation; the inbox
    [
        "ALTER TABLE tickets ADD COLUMN number INTEGER",
        "ALTER TABLE tickets ADD COLUMN due_at TEXT",
        "ALTER TABLE tickets ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
        # existing tickets are numbered in the order they were created
        """UPDATE tickets SET number = numbered.n FROM (
            SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM tickets) AS numbered
            WHERE numbered.id = tickets.id""",
        "CREATE UNIQUE INDEX tickets_number ON tickets (number)",
        "INSERT INTO meta SELECT 'ticket_number', coalesce(max(number), 0) FROM tickets",
        """CREATE TABLE comments (
            id TEXT PRIMARY KEY,
            ticket_id TEXT NOT NULL,
            author TEXT NOT NULL,
            author_name TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL,
            edited_at TEXT,
            mentions TEXT NOT NULL DEFAULT '[]')""",
        "CREATE INDEX comments_ticket ON comments (ticket_id, created_at)",
        """CREATE TABLE inbox (
            user_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            comment_id TEXT,
            actor TEXT,
            at TEXT NOT NULL,
            read INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, seq))""",
        "CREATE INDEX inbox_unread ON inbox (user_id) WHERE read = 0",
    ],
    # 5: full-text search. External-content FTS5 tables read their text from `tickets` and `comments` by rowid;
    # triggers keep them in step whatever code writes those tables (the store opens with recursive_triggers, so an
    # INSERT OR REPLACE fires the delete trigger too). A VACUUM may renumber the rowids of these tables (their keys
    # are text): rebuild both indexes after one ("INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild')").
    [
        """CREATE VIRTUAL TABLE tickets_fts USING fts5 (
            title, description, content = 'tickets', tokenize = 'porter unicode61 remove_diacritics 2')""",
        """CREATE VIRTUAL TABLE comments_fts USING fts5 (
            body, content = 'comments', tokenize = 'porter unicode61 remove_diacritics 2')""",
        """CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
            INSERT INTO tickets_fts (rowid, title, description) VALUES (new.rowid, new.title, new.description);
        END""",
        # a lock or a renewal rewrites the row with the same text: the index is left alone
        """CREATE TRIGGER tickets_fts_update AFTER UPDATE OF title, description ON tickets
            WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
            INSERT INTO tickets_fts (tickets_fts, rowid, title, description)
                VALUES ('delete', old.rowid, old.title, old.description);
            INSERT INTO tickets_fts (rowid, title, description) VALUES (new.rowid, new.title, new.description);
        END""",
        """CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
            INSERT INTO tickets_fts (tickets_fts, rowid, title, description)
                VALUES ('delete', old.rowid, old.title, old.description);
        END""",
        """CREATE TRIGGER comments_fts_insert AFTER INSERT ON comments BEGIN
            INSERT INTO comments_fts (rowid, body) VALUES (new.rowid, new.body);
        END""",
        """CREATE TRIGGER comments_fts_update AFTER UPDATE OF body ON comments
            WHEN old.body IS NOT new.body BEGIN
            INSERT INTO comments_fts (comments_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
            INSERT INTO comments_fts (rowid, body) VALUES (new.rowid, new.body);
        END""",
        """CREATE TRIGGER comments_fts_delete AFTER DELETE ON comments BEGIN
            INSERT INTO comments_fts (comments_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
        END""",
        # what is already there
        "INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild')",
        "INSERT INTO comments_fts (comments_fts) VALUES ('rebuild')",
        # a search with qualifiers only lists the matching tickets newest first
        "CREATE INDEX tickets_created ON tickets (created_at)",
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
    # 4: ticket numbers (a sequence: replicas never collide), due dates and tags; the conversation; the inbox
    [
        "ALTER TABLE tickets ADD COLUMN number bigint",
        "ALTER TABLE tickets ADD COLUMN due_at timestamptz",
        "ALTER TABLE tickets ADD COLUMN tags text[] NOT NULL DEFAULT '{}'",
        """UPDATE tickets SET number = numbered.n FROM (
            SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM tickets) AS numbered
            WHERE numbered.id = tickets.id""",
        "CREATE UNIQUE INDEX tickets_number ON tickets (number)",
        "CREATE SEQUENCE ticket_numbers",
        "SELECT setval('ticket_numbers', coalesce(max(number), 0) + 1, false) FROM tickets",
        """CREATE TABLE comments (
            id uuid PRIMARY KEY,
            ticket_id uuid NOT NULL,
            author uuid NOT NULL,
            author_name text NOT NULL,
            body text NOT NULL,
            created_at timestamptz NOT NULL,
            edited_at timestamptz,
            mentions uuid[] NOT NULL DEFAULT '{}')""",
        "CREATE INDEX comments_ticket ON comments (ticket_id, created_at)",
        """CREATE TABLE inbox (
            user_id uuid NOT NULL,
            seq bigint NOT NULL,
            kind text NOT NULL,
            ticket_id uuid NOT NULL,
            comment_id uuid,
            actor uuid,
            at timestamptz NOT NULL,
            read boolean NOT NULL DEFAULT false,
            PRIMARY KEY (user_id, seq))""",
        "CREATE INDEX inbox_unread ON inbox (user_id) WHERE NOT read",
    ],
    # 5: full-text search. Generated tsvector columns (the database keeps them in step with every write, and
    # computes them for the rows already there) under GIN indexes; the title has its own, for the title tier.
    [
        """ALTER TABLE tickets ADD COLUMN search_title tsvector
            GENERATED ALWAYS AS (to_tsvector('english', title)) STORED""",
        """ALTER TABLE tickets ADD COLUMN search_text tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', description), 'B'))
            STORED""",
        "CREATE INDEX tickets_search_title ON tickets USING gin (search_title)",
        "CREATE INDEX tickets_search_text ON tickets USING gin (search_text)",
        "ALTER TABLE comments ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED",
        "CREATE INDEX comments_search ON comments USING gin (search)",
        # a search with qualifiers only lists the matching tickets newest first
        "CREATE INDEX tickets_created ON tickets (created_at)",
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
