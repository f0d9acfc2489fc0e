"""Durable state: one `Store` contract (base.py), SQLite and PostgreSQL behind it, and their migrations."""

from __future__ import annotations

from lesbillets_server.storage.base import Store, is_postgres_url
from lesbillets_server.storage.sqlite import SqliteStore

__all__ = ["SqliteStore", "Store", "is_postgres_url", "open_store"]


async def open_store(db: str, *, synchronous: str = "normal") -> Store:
    """`--db`: a postgresql:// URL, or a SQLite file (or :memory:)."""
    if is_postgres_url(db):
        from lesbillets_server.storage.postgres import PostgresStore  # psycopg is only needed for PostgreSQL

        return await PostgresStore.open(db)
    return SqliteStore(db, synchronous=synchronous)
