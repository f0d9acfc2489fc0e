"""Durable state: one `Store` contract (base.py), SQLite and PostgreSQL behind it, and their migrations."""

from __future__ import annotations

from lesbillets_server.storage.base import Store, is_postgres_url
from lesbillets_server.storage.sqlite import SqliteStore

__all__ = ["SqliteStore", "Store", "is_postgres_url", "open_store"]


async def open_store(
    db: str, *, synchronous: str = "normal", busy_timeout_s: float = 5.0, log_failures: bool = True
) -> Store:
    """`--db`: a postgresql:// URL, or a SQLite file (or :memory:). `log_failures=False` where the caller tells
    people itself (the `user` commands print the error)."""
    if is_postgres_url(db):
        from lesbillets_server.storage.postgres import PostgresStore  # psycopg is only needed for PostgreSQL

        return await PostgresStore.open(db, log_failures=log_failures)
    return SqliteStore(db, synchronous=synchronous, busy_timeout_s=busy_timeout_s, log_failures=log_failures)
