"""The store contract for ticket numbers, due times and tags, against SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import msgspec
import psycopg

from lesbillets_server.storage import Store, open_store
from lesbillets_server.storage.postgres import PostgresStore
from lesbillets_server.storage.records import decode_ticket
from lesbillets_server.storage.schema import POSTGRES, SQLITE
from tests.server.test_store_contract import ALICE, T0, TTL, created, db_url, edit, grant, new_ticket, store

__all__ = ["db_url", "store"]  # the fixtures, for pytest


async def test_numbers_follow_creation_order(store: Store) -> None:
    """Tickets get 1, 2, 3… in the order created (one at a time or several at once), in the event and the row."""
    [first] = await store.create_tickets([new_ticket("first")], T0)
    batch = await store.create_tickets([new_ticket("second"), new_ticket("third")], T0)
    assert [e.ticket.number for e in [first, *batch]] == [1, 2, 3]
    assert [t.number for t in (await store.load()).tickets] == [1, 2, 3]


async def test_the_logged_ticket_carries_its_number(store: Store) -> None:
    """The event log keeps the number in the ticket's JSON, so a replay or a history shows it."""
    await created(store, "one")
    ticket = await created(store, "two")
    [logged] = [e for e in await store.events_after(0, 100) if e.ticket.id == ticket.id]
    assert logged.ticket.number == 2
    changed = await store.change(grant(ticket, ALICE, "s-alice"), T0)
    assert changed.ticket.number == 2  # a change keeps the number
    [history] = [e.ticket for e in await store.history(ticket.id, 100) if e.seq == changed.seq]
    assert history.number == 2


async def test_concurrent_creations_never_share_a_number(store: Store) -> None:
    """Forty creations at once get forty different numbers, 1 to 40."""
    events = await asyncio.gather(*(store.create_tickets([new_ticket(f"t{i}")], T0) for i in range(40)))
    assert sorted(e.ticket.number for [e] in events) == list(range(1, 41))


async def test_numbers_keep_counting_after_a_reopen(db_url: str) -> None:
    """A reopened database goes on from the last number it gave."""
    first = await open_store(db_url)
    await first.create_tickets([new_ticket("a"), new_ticket("b")], T0)
    await first.close()
    again = await open_store(db_url)
    [event] = await again.create_tickets([new_ticket("c")], T0)
    await again.close()
    assert event.ticket.number == 3


async def test_two_stores_on_one_postgresql_never_share_a_number(pg_url: str) -> None:
    """Two replicas' stores creating at once on one PostgreSQL draw from one sequence."""
    a, b = await PostgresStore.open(pg_url), await PostgresStore.open(pg_url)
    try:
        events = await asyncio.gather(
            *(s.create_tickets([new_ticket(f"t{i}")], T0) for i in range(20) for s in (a, b)),
        )
    finally:
        await a.close()
        await b.close()
    numbers = [e.ticket.number for [e] in events]
    assert len(set(numbers)) == 40 and min(numbers) >= 1


async def test_due_time_and_tags_are_kept(store: Store) -> None:
    """A ticket's due time and tags are written and read back as given; a change can clear them."""
    due = T0 + timedelta(days=2, microseconds=123456)
    ticket = msgspec.structs.replace(new_ticket(), due_at=due, tags=["vpn", "home-office", "v1.2_x"])
    [event] = await store.create_tickets([ticket], T0)
    assert (await store.load()).tickets == [event.ticket]
    assert event.ticket.due_at == due and event.ticket.tags == ["vpn", "home-office", "v1.2_x"]
    locked = (await store.change(grant(event.ticket, ALICE, "s-alice"), T0)).ticket
    cleared = (await store.change(edit(locked, "s-alice", due_at=None, tags=[]), T0)).ticket
    [loaded] = (await store.load()).tickets
    assert loaded == cleared and (loaded.due_at, loaded.tags) == (None, [])
    retagged = (await store.change(edit(loaded, "s-alice", tags=["printer"]), T0)).ticket
    assert (await store.load()).tickets == [retagged] and retagged.tags == ["printer"]


async def test_a_release_keeps_due_time_and_tags(store: Store) -> None:
    """Releasing a lock (a lease that ran out) rewrites the row's lock only: due time and tags stay."""
    ticket = msgspec.structs.replace(new_ticket(), due_at=T0, tags=["vpn"])
    [event] = await store.create_tickets([ticket], T0)
    await store.change(grant(event.ticket, ALICE, "s-alice"), T0)
    [released] = await store.release_expired(T0 + TTL + timedelta(seconds=1))
    assert (released.ticket.due_at, released.ticket.tags, released.ticket.number) == (T0, ["vpn"], 1)


# --- migration 4 on a database that already has tickets ---------------------------------------------------------

_V3_TICKET = (
    "INSERT INTO tickets (id, title, description, status, priority, assignee, created_at, created_by, updated_at,"
    " updated_by, version) VALUES ({p}, {p}, '', 'open', 'normal', NULL, {p}, {p}, {p}, {p}, 1)"
)
# created out of order on purpose: the numbers follow the creation time, not the insertion
_OLD = [("second", T0 + timedelta(minutes=1)), ("first", T0), ("third", T0 + timedelta(minutes=2))]


async def _check_migrated(db: str) -> None:
    store = await open_store(db)
    try:
        loaded = await store.load()
        numbers = {t.title: t.number for t in loaded.tickets}
        assert numbers == {"first": 1, "second": 2, "third": 3}
        assert all(t.tags == [] and t.due_at is None for t in loaded.tickets)
        [event] = await store.create_tickets([new_ticket("new")], T0)
        assert event.ticket.number == 4
    finally:
        await store.close()


async def test_migration_numbers_existing_sqlite_tickets(tmp_path: Path) -> None:
    """A SQLite database at schema 3 with tickets: they are numbered in creation order, new ones follow."""
    path = tmp_path / "v3.db"
    with sqlite3.connect(path) as conn:
        for statement in [s for migration in SQLITE[:3] for s in migration]:
            conn.execute(statement)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', 3)")
        for title, at in _OLD:
            conn.execute(
                _V3_TICKET.format(p="?"),
                (str(uuid.uuid4()), title, at.isoformat(), str(ALICE.id), at.isoformat(), str(ALICE.id)),
            )
    await _check_migrated(str(path))


async def test_migration_numbers_existing_postgresql_tickets(pg_url: str) -> None:
    """A PostgreSQL database at schema 3 with tickets: numbered in creation order, the sequence goes on."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for statement in [s for migration in POSTGRES[:3] for s in migration]:
            conn.execute(statement)  # type: ignore[call-overload]
        conn.execute("INSERT INTO meta VALUES ('schema_version', 3)")
        for title, at in _OLD:
            conn.execute(
                _V3_TICKET.format(p="%s"),  # type: ignore[arg-type]
                (uuid.uuid4(), title, at, ALICE.id, at, ALICE.id),
            )
    await _check_migrated(pg_url)


async def test_an_old_logged_ticket_reads_without_the_new_fields() -> None:
    """An event logged before schema 4 (no number, due time or tags in its JSON) still decodes."""
    old = msgspec.json.encode(
        {k: v for k, v in msgspec.to_builtins(new_ticket()).items() if k not in {"number", "due_at", "tags"}}
    )
    ticket = decode_ticket(old)
    assert (ticket.number, ticket.due_at, ticket.tags) == (0, None, [])
