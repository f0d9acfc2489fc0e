"""A database the server cannot write: reads go on, changes get `unavailable`, /healthz and the log say so.

Also: the database's files are created private.

Each fault is a real SQLite condition, not a stand-in for the store:

* `write_locked`: another process holds the database's write lock (a stuck `sqlite3` shell, a backup
  tool); with `busy_timeout_s=0` every write of the server fails at once with SQLITE_BUSY.
* `read_only`: `PRAGMA query_only` on the server's own connection; SQLite refuses every write with
  SQLITE_READONLY, as for a file the server may not write.
* `disk_full`: `PRAGMA max_page_count` pinned to the file's current size; a write that needs one more
  page fails with SQLITE_FULL, "database or disk is full". A write that fits in the existing pages still
  succeeds, as on a real full disk, so this fault only serves tests whose write grows the file.

`query_only` and `max_page_count` hold per connection, so those two are set on the server's connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import sqlite3
import stat
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lesbillets_server import health
from lesbillets_server.errors import StoreUnavailable
from lesbillets_server.health import WriteHealth
from lesbillets_server.store import SqliteStore
from protocol.messages import (
    Ack,
    AllTickets,
    CreateTicket,
    Error,
    ErrorCode,
    GetTickets,
    GetUsers,
    LockTicket,
    Login,
    Logout,
    Priority,
    RenewLock,
    Request,
    Resume,
    Status,
    Ticket,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    UnlockReason,
    UnlockTicket,
    UpdateTicket,
    Users,
    Welcome,
)
from tests.conftest import ServerFactory
from tests.server.test_tickets import create
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, ManualClock, ServerHarness

UNAVAILABLE = StoreUnavailable.CLIENT_MESSAGE
BIG = "x" * 20_000  # several overflow pages: a write that must grow the file


def _connection(store: object) -> sqlite3.Connection:
    assert isinstance(store, SqliteStore)
    return store._db  # the per-connection pragmas must go on the server's own connection


@contextlib.contextmanager
def write_locked(db: str, store: object) -> Iterator[None]:
    """Another connection holds the write lock until the block ends."""
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextlib.contextmanager
def read_only(db: str, store: object) -> Iterator[None]:
    """SQLite refuses every write on the store's connection until the block ends."""
    connection = _connection(store)
    connection.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        connection.execute("PRAGMA query_only = OFF")


@contextlib.contextmanager
def disk_full(db: str, store: object) -> Iterator[None]:
    """The file may not grow by a page until the block ends."""
    connection = _connection(store)
    limit = connection.execute("PRAGMA max_page_count").fetchone()[0]
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    try:
        yield
    finally:
        connection.execute(f"PRAGMA max_page_count = {limit}")


Fault = Callable[[str, object], contextlib.AbstractContextManager[None]]
EVERY_WRITE_FAILS: list[Fault] = [write_locked, read_only]


def faulty(server: ServerHarness, fault: Fault) -> contextlib.AbstractContextManager[None]:
    return fault(server.config.db, server.service.store)


async def start_server(server_factory: ServerFactory, **overrides: object) -> ServerHarness:
    """A server whose writes fail at once while another connection holds the lock, and whose sweeper ticks often."""
    return await server_factory(busy_timeout_s=0, sweep_interval_s=0.02, **overrides)


# --- item 7: reads keep working; the release waits for the database -----------------


@pytest.mark.parametrize("fault", EVERY_WRITE_FAILS)
async def test_reads_and_resume_work_while_an_expired_lease_cannot_be_released(
    server_factory: ServerFactory, fault: Fault
) -> None:
    """A lease ran out and nothing can be written: GetTickets, GetUsers and Resume answer, the release comes later."""
    clock = ManualClock()
    server = await start_server(server_factory, clock=clock, lock_ttl_s=60)
    async with wire(server.url) as alice, wire(server.url, login=BOB) as bob:
        token = (await alice.login(ALICE)).token
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        before = await bob.expect(GetTickets(rid=bob.rid()), AllTickets)
        bob.events.clear()
        with faulty(server, fault):
            clock.advance(61)
            during = await bob.expect(GetTickets(rid=bob.rid()), AllTickets)
            # exactly the state as of its seq: the lock with its past expires_at, the release still to come
            assert (during.seq, during.tickets) == (before.seq, before.tickets)
            lock = during.tickets[0].lock
            assert lock is not None and lock.expires_at <= clock.now
            await bob.expect(GetUsers(rid=bob.rid()), Users)
            async with wire(server.url) as again:
                await again.expect(Resume(rid=again.rid(), token=token), Welcome)
                await again.expect(GetTickets(rid=again.rid()), AllTickets)
            assert not bob.events
        released = await bob.next_event()  # the sweeper retried until the database could be written
        assert isinstance(released, TicketUnlocked)
        assert (released.ticket_id, released.reason, released.seq) == (tid, UnlockReason.EXPIRED, before.seq + 1)
        after = await bob.expect(GetTickets(rid=bob.rid()), AllTickets)
        assert after.tickets[0].lock is None


# --- item 7: changes get `unavailable`, change nothing, keep the connection ---------


REQUESTS: dict[str, Callable[[Wire, uuid.UUID], Request]] = {
    "create": lambda peer, tid: CreateTicket(rid=peer.rid(), title="New", description=BIG),
    "lock again": lambda peer, tid: LockTicket(rid=peer.rid(), ticket_id=tid),
    "renew": lambda peer, tid: RenewLock(rid=peer.rid(), ticket_id=tid),
    "update": lambda peer, tid: UpdateTicket(rid=peer.rid(), ticket_id=tid, version=1, status=Status.BLOCKED),
    "unlock": lambda peer, tid: UnlockTicket(rid=peer.rid(), ticket_id=tid),
    "logout": lambda peer, tid: Logout(rid=peer.rid()),
}
CASES = [
    *[pytest.param(fault, name, id=f"{fault.__name__}-{name}") for fault in EVERY_WRITE_FAILS for name in REQUESTS],
    pytest.param(disk_full, "create", id="disk_full-create"),
]


@pytest.mark.parametrize(("fault", "name"), CASES)
async def test_a_change_gets_unavailable_and_changes_nothing(
    server_factory: ServerFactory, fault: Fault, name: str
) -> None:
    """A change the database refuses: `unavailable` with a sentence, no event, same state, connection open."""
    server = await start_server(server_factory)
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        before = await alice.expect(GetTickets(rid=alice.rid()), AllTickets)
        await bob.expect(GetTickets(rid=bob.rid()), AllTickets)  # bob has had every event so far
        alice.events.clear()
        bob.events.clear()
        with faulty(server, fault):
            reply = await alice.request(REQUESTS[name](alice, tid))
            assert isinstance(reply, Error), reply
            assert (reply.code, reply.message) == (ErrorCode.UNAVAILABLE, UNAVAILABLE)
            during = await alice.expect(GetTickets(rid=alice.rid()), AllTickets)  # still open, still logged in
            assert (during.seq, during.tickets) == (before.seq, before.tickets)
            assert server.service.seq == before.seq
            await bob.expect(GetTickets(rid=bob.rid()), AllTickets)  # any event would have come before this reply
        assert not alice.events and not bob.events
        retried = await alice.request(REQUESTS[name](alice, tid))  # the same request, once it can be written
        assert isinstance(retried, Ack), retried


@pytest.mark.parametrize("fault", EVERY_WRITE_FAILS)
async def test_login_gets_unavailable_and_resume_still_works(server_factory: ServerFactory, fault: Fault) -> None:
    """Login must store its session, so it gets `unavailable`; an existing token resumes; Login works afterwards."""
    server = await start_server(server_factory)
    async with wire(server.url) as first:
        token = (await first.login(ALICE)).token
    with faulty(server, fault):
        async with wire(server.url) as peer:
            reply = await peer.request(Login(rid=peer.rid(), email=BOB.email, password=BOB.password))
            assert isinstance(reply, Error) and reply.code is ErrorCode.UNAVAILABLE
            await peer.expect(Resume(rid=peer.rid(), token=token), Welcome)
            await peer.expect(GetTickets(rid=peer.rid()), AllTickets)
    async with wire(server.url) as peer:
        await peer.login(BOB)


@pytest.mark.parametrize("fault", EVERY_WRITE_FAILS)
async def test_a_dropped_sessions_locks_go_once_the_database_can_be_written(
    server_factory: ServerFactory, fault: Fault
) -> None:
    """The grace period ends while nothing can be written: the locks go (`disconnected`) once it can."""
    server = await start_server(server_factory, lock_grace_s=0)
    async with wire(server.url, login=BOB) as bob:
        with contextlib.ExitStack() as fault_active:
            async with wire(server.url, login=ALICE) as alice:
                tid = await create(alice)
                await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
                fault_active.enter_context(faulty(server, fault))
            await _health_becomes(server, 503)  # the only write tried: releasing Alice's lock at the grace's end
            await bob.expect(GetTickets(rid=bob.rid()), AllTickets)
            assert [type(e) for e in bob.events] == [TicketCreated, TicketLocked]
        bob.events.clear()
        released = await bob.next_event()  # the sweeper retried until the database could be written
        assert isinstance(released, TicketUnlocked)
        assert (released.ticket_id, released.reason) == (tid, UnlockReason.DISCONNECTED)


async def test_one_log_line_per_episode_and_no_traceback(
    server_factory: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Many refused writes log one line without a traceback; the recovery logs one more."""
    caplog.set_level(logging.INFO, logger="lesbillets_server")
    server = await start_server(server_factory)
    async with wire(server.url, login=ALICE) as alice:
        with write_locked(server.config.db, server.service.store):
            for _ in range(5):
                reply = await alice.request(CreateTicket(rid=alice.rid(), title="t"))
                assert isinstance(reply, Error) and reply.code is ErrorCode.UNAVAILABLE
        await create(alice)
    records = [r for r in caplog.records if r.name.startswith("lesbillets_server") and r.levelno >= logging.WARNING]
    assert [r.exc_info for r in records] == [None, None]
    assert "cannot write to the database" in records[0].getMessage()
    assert server.config.db in records[0].getMessage()
    recovered = re.search(r"can be written again \((\d+) writes failed", records[1].getMessage())
    assert recovered is not None and int(recovered[1]) >= 5  # the 5 requests, and the sweeper's retries meanwhile


def test_log_lines_are_rate_limited_whatever_the_pattern(caplog: pytest.LogCaptureFixture) -> None:
    """A long episode logs every ten minutes; a database flipping every second logs at most once a minute."""
    caplog.set_level(logging.INFO, logger="lesbillets_server")
    steady = WriteHealth("x.db", 0.0)
    for second in range(1800):  # half an hour of failing once a second
        steady.failed("database or disk is full", float(second))
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "cannot write to the database x.db",
        "still cannot write to the database x.db",
        "still cannot write to the database x.db",
    ]
    caplog.clear()
    flapping = WriteHealth("x.db", 0.0)
    for second in range(300):  # five minutes of fail, succeed, fail…
        if second % 2:
            flapping.succeeded(float(second))
        else:
            flapping.failed("database is locked", float(second))
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 5


# --- item 8: refuse to start on a database that cannot be written; /healthz ---------


async def _http_get(url: str) -> tuple[int, bytes]:
    def fetch() -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    return await asyncio.to_thread(fetch)


async def _health_becomes(server: ServerHarness, status: int) -> bytes:
    """Poll /healthz (as a load balancer does) until it answers `status`; the sweeper probes every 20 ms."""
    async with asyncio.timeout(10):
        while True:
            got, body = await _http_get(server.http_url + "/healthz")
            if got == status:
                return body
            await asyncio.sleep(0.02)


async def test_healthz_reports_a_database_that_cannot_be_written(
    server_factory: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/healthz is 200 while writes work, 503 with a sentence once a write (or the idle probe) fails, 200 after."""
    server = await start_server(server_factory)
    assert await _http_get(server.http_url + "/healthz") == (200, b"ok\n")
    async with wire(server.url, login=ALICE) as alice:
        with write_locked(server.config.db, server.service.store):
            reply = await alice.request(CreateTicket(rid=alice.rid(), title="t"))
            assert isinstance(reply, Error) and reply.code is ErrorCode.UNAVAILABLE
            status, body = await _http_get(server.http_url + "/healthz")
            assert status == 503
            assert body == b"The server cannot write to its database: database is locked. Changes fail until it can.\n"
        await _health_becomes(server, 200)  # no request needed: the sweeper probes while writes fail
        monkeypatch.setattr(health, "PROBE_EVERY_S", 0.0)  # an idle server probes every 30 s; here, every tick
        with read_only(server.config.db, server.service.store):
            body = await _health_becomes(server, 503)
            assert b"attempt to write a readonly database" in body
        await _health_becomes(server, 200)


def _unprivileged(argv: list[str]) -> list[str]:
    """As root, run without the capability that lets root write any file, so the file's mode counts."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("setpriv") is None:
        pytest.skip("running as root: setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *argv]


@pytest.mark.parametrize(
    "command",
    [["serve", "--port", "0"], ["user", "add", "zoe@example.com", "--name", "Zoé", "--password-stdin"]],
    ids=["serve", "user add"],
)
async def test_commands_refuse_a_database_they_cannot_write(tmp_path: Path, command: list[str]) -> None:
    """`serve` (before it listens) and `user add` on a read-only database exit 1 with a sentence naming the file."""
    db = tmp_path / "readonly.db"
    SqliteStore(db).close()
    db.chmod(0o444)
    argv = [sys.executable, "-m", "lesbillets_server", *command, "--db", str(db)]
    process = await asyncio.create_subprocess_exec(
        *_unprivileged(argv), stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdin is not None
    process.stdin.write(b"a password\n")
    process.stdin.close()
    assert process.stderr is not None
    err = b""
    try:
        async with asyncio.timeout(20):
            while line := await process.stderr.readline():
                err += line
                assert b"serving on" not in line, "the server started on a database it cannot write"
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 1
    assert f"Cannot write to the database {db}: attempt to write a readonly database.".encode() in err
    assert b"Traceback" not in err


# --- item 9: the files hold password hashes and every ticket -------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common umask, under which files are created world-readable unless asked otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_new_database_files_are_private(tmp_path: Path) -> None:
    """A new database gets 0600 files (db, -wal, -shm) in 0700 directories it had to create."""
    db = tmp_path / "data" / "lesbillets" / "new.db"
    store = SqliteStore(db)
    try:
        store.probe()  # a committed write: the -wal and -shm files exist now
        modes = {path.name: _mode(path) for path in (db.parent.parent, db.parent, *db.parent.iterdir())}
    finally:
        store.close()
    assert modes == {"data": 0o700, "lesbillets": 0o700, "new.db": 0o600, "new.db-wal": 0o600, "new.db-shm": 0o600}


@pytest.mark.usefixtures("umask_022")
def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    """A directory the operator chose (shared like /tmp, say) is not chmodded; the new file is still 0600."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    SqliteStore(shared / "x.db").close()
    assert (_mode(shared), _mode(shared / "x.db")) == (0o755, 0o600)


@pytest.mark.usefixtures("umask_022")
def test_a_database_others_can_read_gets_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An existing database readable by others keeps its mode (the operator's choice) but the log says so."""
    db = tmp_path / "old.db"
    SqliteStore(db).close()
    db.chmod(0o644)
    SqliteStore(db).close()
    assert _mode(db) == 0o644
    assert any("can be read by other users (mode 644)" in r.getMessage() for r in caplog.records)


# --- the store: which SQLite failures mean "cannot write now" ------------------------


def _ticket(description: str) -> Ticket:
    now = datetime.now(UTC)
    user = uuid.uuid4()
    return Ticket(
        id=uuid.uuid4(),
        title="t",
        description=description,
        status=Status.OPEN,
        priority=Priority.NORMAL,
        assignee=None,
        created_at=now,
        created_by=user,
        updated_at=now,
        updated_by=user,
        version=1,
    )


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (disk_full, "database or disk is full"),
        (read_only, "attempt to write a readonly database"),
        (write_locked, "database is locked"),
    ],
)
def test_store_raises_unavailable_and_stays_usable(tmp_path: Path, fault: Fault, reason: str) -> None:
    """Each condition raises StoreUnavailable with SQLite's reason, writes nothing, and leaves no transaction open."""
    db = tmp_path / "s.db"
    store = SqliteStore(db, busy_timeout_s=0)
    try:
        with fault(str(db), store), pytest.raises(StoreUnavailable) as raised:
            store.save([(_ticket(BIG), None)], 1)
        assert raised.value.reason == reason
        assert str(raised.value).startswith(f"Cannot write to the database {db}: {reason}.")
        assert store.health.problem == reason
        assert (store.load().tickets, store.load().seq) == ([], 0)
        store.save([(_ticket(BIG), None)], 1)
        assert store.health.problem is None
        assert (len(store.load().tickets), store.load().seq) == (1, 1)
    finally:
        store.close()
