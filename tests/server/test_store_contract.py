"""The store contract: every operation and every rule, against SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import psycopg
import pytest

from lesbillets_server.errors import GuardFailed, StoreError
from lesbillets_server.storage import Store, open_store
from lesbillets_server.storage.records import EventKind, Guard, SessionRecord, TicketChange
from protocol.messages import (
    Lock,
    Priority,
    Role,
    Status,
    Ticket,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    UnlockReason,
    User,
)

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=180)
ALICE = User(id=uuid.uuid4(), email="alice@example.com", name="Alice", role=Role.AGENT)
BOB = User(id=uuid.uuid4(), email="bob@example.com", name="Bob", role=Role.AGENT)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each engine."""
    if request.param == "sqlite":
        return str(tmp_path / "contract.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """An open store on a fresh database."""
    opened = await open_store(db_url)
    yield opened
    await opened.close()


def new_ticket(title: str = "Printer jams", by: User = ALICE) -> Ticket:
    return Ticket(
        id=uuid.uuid4(),
        title=title,
        description="",
        status=Status.OPEN,
        priority=Priority.NORMAL,
        assignee=None,
        created_at=T0,
        created_by=by.id,
        updated_at=T0,
        updated_by=by.id,
        version=1,
    )


def grant(ticket: Ticket, user: User, session: str, now: datetime = T0, max_locks: int = 5) -> TicketChange:
    lock = Lock(user_id=user.id, user_name=user.name, expires_at=now + TTL)
    return TicketChange(
        ticket=msgspec.structs.replace(ticket, lock=lock),
        holder=session,
        guard=Guard(free=True, max_locks=max_locks),
        kind=EventKind.LOCKED,
        actor=user.id,
        grant=True,
    )


def edit(ticket: Ticket, session: str, *, fence: int | None = None, **fields: object) -> TicketChange:
    changed = msgspec.structs.replace(ticket, version=ticket.version + 1, **fields)
    return TicketChange(
        ticket=changed,
        holder=session,
        guard=Guard(version=ticket.version, holder=session, fence=fence),
        kind=EventKind.UPDATED,
        actor=ticket.created_by,
    )


def unlock(ticket: Ticket, session: str) -> TicketChange:
    return TicketChange(
        ticket=msgspec.structs.replace(ticket, lock=None),
        holder=None,
        guard=Guard(holder=session, live=False),
        kind=EventKind.UNLOCKED,
        actor=ticket.created_by,
        reason=UnlockReason.RELEASED,
    )


async def created(store: Store, title: str = "Printer jams") -> Ticket:
    return (await store.create_tickets([new_ticket(title)], T0))[0].ticket


async def test_create_appends_the_first_event(store: Store) -> None:
    """A new ticket is stored and logged as seq 1, and a reload sees both."""
    event = (await store.create_tickets([new_ticket()], T0))[0]
    assert event.seq == 1 and event.kind is EventKind.CREATED
    assert event.wire() == TicketCreated(seq=1, ticket=event.ticket)
    loaded = await store.load()
    assert loaded.tickets == [event.ticket] and loaded.seq == 1 and loaded.log_start == 1
    assert [e.seq for e in await store.events_after(0, 100)] == [1]


async def test_a_grant_takes_the_next_fence(store: Store) -> None:
    """Every grant of a ticket's lock carries a larger fence than the one before."""
    ticket = await created(store)
    first = await store.change(grant(ticket, ALICE, "s-alice"), T0)
    assert first.ticket.lock is not None and first.ticket.lock.fence == 1
    await store.change(unlock(first.ticket, "s-alice"), T0)
    second = await store.change(grant(ticket, BOB, "s-bob"), T0)
    assert second.ticket.lock is not None and second.ticket.lock.fence == 2
    assert isinstance(second.wire(), TicketLocked)
    loaded = await store.load()
    assert loaded.holders == {ticket.id: "s-bob"} and loaded.tickets[0].lock == second.ticket.lock


async def test_racing_grants_have_one_winner(store: Store) -> None:
    """Ten sessions ask for one free lock at once: exactly one gets it, the rest see who did."""
    ticket = await created(store)
    users = [User(id=uuid.uuid4(), email=f"u{i}@example.com", name=f"U{i}", role=Role.AGENT) for i in range(10)]
    outcomes = await asyncio.gather(
        *(store.change(grant(ticket, u, f"s-{i}"), T0) for i, u in enumerate(users)), return_exceptions=True
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, GuardFailed)]
    assert len(winners) == 1 and len(losers) == 9
    assert {loser.holder for loser in losers} == {winners[0].holder}
    assert [e.kind for e in await store.events_after(0, 100)] == [EventKind.CREATED, EventKind.LOCKED]


@pytest.mark.parametrize(
    ("case", "change_of"),
    [
        ("stale version", lambda t, f: edit(msgspec.structs.replace(t, version=t.version - 1), "s-alice", title="x")),
        ("stale fence", lambda t, f: edit(t, "s-alice", fence=f - 1, title="x")),
        ("not the holder", lambda t, f: edit(t, "s-bob", title="x")),
    ],
)
async def test_a_guard_that_fails_writes_nothing(store: Store, case: str, change_of: object) -> None:
    """A stale version, a stale fence or another session: GuardFailed with the row as it is, and no event."""
    ticket = await created(store)
    locked = (await store.change(grant(ticket, ALICE, "s-alice"), T0)).ticket
    assert locked.lock is not None
    await store.change(unlock(locked, "s-alice"), T0)
    relocked = (await store.change(grant(ticket, ALICE, "s-alice"), T0)).ticket  # fence 2
    assert relocked.lock is not None
    updated = (await store.change(edit(relocked, "s-alice", fence=relocked.lock.fence, title="v2"), T0)).ticket
    before = await store.events_after(0, 100)
    with pytest.raises(GuardFailed) as failed:
        await store.change(change_of(updated, relocked.lock.fence), T0)  # type: ignore[operator]
    assert failed.value.ticket == updated and failed.value.holder == "s-alice", case
    assert await store.events_after(0, 100) == before
    assert (await store.load()).tickets == [updated]


async def test_an_expired_lease_lets_nobody_but_a_new_grant_in(store: Store) -> None:
    """Past the lease's end the holder may not update, and another session may take the lock."""
    ticket = await created(store)
    locked = (await store.change(grant(ticket, ALICE, "s-alice"), T0)).ticket
    later = T0 + TTL + timedelta(seconds=1)
    with pytest.raises(GuardFailed):
        await store.change(edit(locked, "s-alice", title="late"), later)
    taken = await store.change(grant(ticket, BOB, "s-bob", now=later), later)
    assert taken.holder == "s-bob"


async def test_max_locks_is_checked_in_the_write(store: Store) -> None:
    """A user at the limit of unexpired locks is refused a new grant."""
    tickets = [await created(store, f"t{i}") for i in range(3)]
    for ticket in tickets[:2]:
        await store.change(grant(ticket, ALICE, "s-alice", max_locks=2), T0)
    with pytest.raises(GuardFailed) as failed:
        await store.change(grant(tickets[2], ALICE, "s-alice", max_locks=2), T0)
    assert failed.value.too_many_locks
    # expired locks do not count
    later = T0 + TTL + timedelta(seconds=1)
    assert (await store.change(grant(tickets[2], ALICE, "s-alice", now=later, max_locks=2), later)).holder


async def test_expiry_is_claimed_once(store: Store) -> None:
    """Three sweepers at once release an expired lease once: one event, reason expired."""
    ticket = await created(store)
    await store.change(grant(ticket, ALICE, "s-alice"), T0)
    later = T0 + TTL + timedelta(seconds=1)
    assert await store.release_expired(T0) == []
    results = await asyncio.gather(*(store.release_expired(later) for _ in range(3)))
    released = [event for result in results for event in result]
    assert len(released) == 1 and released[0].wire() == TicketUnlocked(
        seq=released[0].seq, ticket_id=ticket.id, reason=UnlockReason.EXPIRED
    )
    assert (await store.load()).holders == {}


async def test_a_session_alive_on_another_replica_keeps_its_locks(store: Store) -> None:
    """Grace release skips sessions any replica reported alive within the grace period."""
    kept, dropped = await created(store, "kept"), await created(store, "dropped")
    await store.change(grant(kept, ALICE, "s-alice"), T0)
    await store.change(grant(dropped, BOB, "s-bob"), T0)
    await store.heartbeat("replica-a", ["s-bob"], T0)
    await store.heartbeat("replica-b", ["s-alice"], T0)
    await store.heartbeat("replica-b", ["s-alice"], T0 + timedelta(seconds=25))
    released = await store.release_orphans(T0 + timedelta(seconds=31), timedelta(seconds=30))
    assert [(e.ticket.id, e.reason) for e in released] == [(dropped.id, UnlockReason.DISCONNECTED)]


async def test_a_session_seen_just_now_keeps_its_locks_with_no_grace(store: Store) -> None:
    """With `--lock-grace 0` a session beaten at this very instant is alive: only sessions seen before lose locks."""
    kept, dropped = await created(store, "kept"), await created(store, "dropped")
    await store.change(grant(kept, ALICE, "s-alice"), T0)
    await store.change(grant(dropped, BOB, "s-bob"), T0)
    later = T0 + timedelta(seconds=1)
    await store.heartbeat("replica-a", ["s-bob"], T0)
    await store.heartbeat("replica-a", ["s-alice"], later)
    released = await store.release_orphans(later, timedelta(0))
    assert [(e.ticket.id, e.reason) for e in released] == [(dropped.id, UnlockReason.DISCONNECTED)]


async def test_release_session_frees_every_lock_of_the_session(store: Store) -> None:
    """Logout (or a disabled user) releases the session's locks and no one else's."""
    a, b, c = [await created(store, t) for t in "abc"]
    await store.change(grant(a, ALICE, "s-alice"), T0)
    await store.change(grant(b, ALICE, "s-alice"), T0)
    await store.change(grant(c, BOB, "s-bob"), T0)
    released = await store.release_session("s-alice", UnlockReason.RELEASED, T0)
    assert {e.ticket.id for e in released} == {a.id, b.id}
    assert (await store.load()).holders == {c.id: "s-bob"}


async def test_seq_is_gap_free_under_concurrent_writers(store: Store) -> None:
    """Forty changes committed at once take seq 1..40, and the log returns them in that order."""
    events = await asyncio.gather(*(store.create_tickets([new_ticket(f"t{i}")], T0) for i in range(40)))
    assert sorted(e.seq for [e] in events) == list(range(1, 41))
    logged = await store.events_after(0, 100)
    assert [e.seq for e in logged] == list(range(1, 41))
    assert [e.seq for e in await store.events_after(30, 5)] == [31, 32, 33, 34, 35]


async def test_history_is_the_tickets_events_oldest_first(store: Store) -> None:
    """GetHistory reads the log: each change of one ticket with its actor and time, renewals left out."""
    ticket = await created(store)
    await created(store, "another")
    locked = (await store.change(grant(ticket, ALICE, "s-alice"), T0)).ticket
    assert locked.lock is not None
    renewed = msgspec.structs.replace(locked, lock=msgspec.structs.replace(locked.lock, expires_at=T0 + 2 * TTL))
    await store.change(
        TicketChange(
            ticket=renewed, holder="s-alice", guard=Guard(holder="s-alice"), kind=EventKind.RENEWED, actor=ALICE.id
        ),
        T0,
    )
    await store.change(edit(renewed, "s-alice", title="Printer jams on duplex"), T0 + timedelta(seconds=5))
    history = await store.history(ticket.id, 100)
    assert [e.kind for e in history] == [EventKind.CREATED, EventKind.LOCKED, EventKind.UPDATED]
    assert [e.kind for e in await store.history(ticket.id, 2)] == [EventKind.LOCKED, EventKind.UPDATED]
    assert history[-1].ticket.title == "Printer jams on duplex" and history[-1].actor == ALICE.id
    assert history[-1].at == T0 + timedelta(seconds=5)


async def test_trimming_the_log_moves_its_start(store: Store) -> None:
    """Retention forgets old events; the log's start tells a resuming client it is too late."""
    await store.create_tickets([new_ticket("old")], T0)
    await store.create_tickets([new_ticket("new")], T0 + timedelta(days=40))
    assert await store.trim_log(T0 + timedelta(days=30)) == 1
    loaded = await store.load()
    assert (loaded.seq, loaded.log_start) == (2, 2)
    assert len(loaded.tickets) == 2  # the tickets themselves stay


async def test_users_and_sessions(store: Store) -> None:
    """Users are found by email in any case; sessions by token hash until deleted."""
    await store.add_user(ALICE, "hash-a")
    await store.add_user(BOB, "hash-b")
    assert (await store.user_by_email("ALICE@example.com")) is not None
    assert [r.user for r in await store.list_users()] == [ALICE, BOB]
    await store.set_disabled(BOB.id, True)
    await store.set_password(ALICE.id, "hash-a2")
    alice, bob = await store.user_by_id(ALICE.id), await store.user_by_id(BOB.id)
    assert alice is not None and alice.password_hash == "hash-a2"
    assert bob is not None and bob.disabled
    session = SessionRecord(id="s1", user_id=ALICE.id, expires_at=T0 + timedelta(days=30))
    await store.add_session(session, "th1")
    assert await store.session_by_token("th1") == session
    await store.delete_sessions_of(ALICE.id)
    assert await store.session_by_token("th1") is None


async def test_the_epoch_survives_a_reopen(db_url: str) -> None:
    """A database keeps its epoch; another database has another."""
    first = await open_store(db_url)
    epoch = (await first.load()).epoch
    await first.close()
    again = await open_store(db_url)
    assert (await again.load()).epoch == epoch
    await again.close()
    other = await open_store(":memory:")
    assert (await other.load()).epoch != epoch
    await other.close()


async def test_a_newer_schema_is_refused(db_url: str) -> None:
    """A database written by a newer server is refused with a sentence naming it."""
    opened = await open_store(db_url)
    await opened.close()
    if db_url.startswith("postgresql"):
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("UPDATE meta SET value = 99 WHERE key = 'schema_version'")
    else:
        with sqlite3.connect(db_url) as conn:
            conn.execute("UPDATE meta SET value = 99 WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer Les Billets server"):
        await open_store(db_url)


async def test_a_version_one_sqlite_database_is_migrated(tmp_path: Path) -> None:
    """A database from before the event log keeps its tickets, lock and seq, and logs from there on."""
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as conn:
        from lesbillets_server.storage.schema import SQLITE

        for statement in SQLITE[0]:
            conn.execute(statement)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', 1), ('seq', 41)")
        conn.execute(
            "INSERT INTO tickets VALUES (?, 'old', '', 'open', 'normal', NULL, ?, ?, ?, ?, 3, ?, 'Alice', ?, 's-a')",
            (
                str(uuid.uuid4()),
                T0.isoformat(),
                str(ALICE.id),
                T0.isoformat(),
                str(ALICE.id),
                str(ALICE.id),
                (T0 + TTL).isoformat(),
            ),
        )
    store = await open_store(str(path))
    loaded = await store.load()
    assert loaded.seq == 41 and loaded.log_start == 42
    assert loaded.tickets[0].version == 3 and loaded.tickets[0].lock is not None
    [event] = await store.create_tickets([new_ticket("new")], T0)
    assert event.seq == 42
    assert await store.release_expired(T0 + TTL + timedelta(seconds=1))  # the old lease compares as a time
    await store.close()


async def test_closing_postgres_lets_a_batch_in_flight_finish(pg_url: str) -> None:
    """A batch mid-transaction when the store closes (its waiter gone) commits first: no row lock outlives close."""
    store = await open_store(pg_url)
    ticket = await created(store)
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as blocker:
        async with blocker.transaction():
            await blocker.execute("SELECT 1 FROM log_head FOR UPDATE")  # every change takes the head row
            waiter = asyncio.create_task(store.change(grant(ticket, ALICE, "s-alice"), T0))
            async with asyncio.timeout(10):
                # polled: PostgreSQL offers no event for "a backend now waits"
                while not (await (await blocker.execute(WAITING_ON_A_LOCK)).fetchone() or (0,))[0]:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            waiter.cancel()
            closing = asyncio.create_task(store.close())
        # the head row is free: the batch can go on, and close() must wait for it
        await closing
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '2s'")
        conn.execute("LOCK TABLE tickets, log_head IN ACCESS EXCLUSIVE MODE")  # nothing else holds them


WAITING_ON_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    " AND pid <> pg_backend_pid()"
)
