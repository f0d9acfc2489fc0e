"""Shared test data and a harness that runs a real server on an ephemeral port."""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import urllib.request
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lesbillets_server.app import RunningServer, run_server
from lesbillets_server.auth import add_user
from lesbillets_server.config import ServerConfig
from lesbillets_server.service import TicketService
from lesbillets_server.storage import open_store
from protocol.clock import Clock, utc_now
from protocol.messages import Lock, Priority, Role, Status, Ticket


@dataclass(frozen=True)
class Agent:
    email: str
    password: str
    name: str
    role: Role = Role.AGENT


ALICE = Agent("alice@example.com", "alice-password", "Alice Martin")
BOB = Agent("bob@example.com", "bob-password", "Bob Dubois")
ADMIN = Agent("admin@example.com", "admin-password", "Camille Admin", Role.ADMIN)
AGENTS = (ALICE, BOB, ADMIN)


async def add_test_users(db: str) -> None:
    """The three test users, in any database (argon2 hashing is slow on purpose: do it once per database)."""
    store = await open_store(db)
    try:
        for agent in AGENTS:
            await add_user(store, agent.email, agent.name, agent.password, agent.role)
    finally:
        await store.close()


def make_template_db(path: Path) -> Path:
    """A SQLite database with the three test users, made once a session and copied for each server."""
    asyncio.run(add_test_users(str(path)))
    return path


class ManualClock:
    """A clock the test moves by hand, so lease expiry needs no waiting."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ServerHarness:
    """A real server on 127.0.0.1 with a real SQLite file; stop/restart keep the port and the file."""

    def __init__(
        self, template: Path | None, directory: Path, clock: Clock = utc_now, db: str | None = None, **overrides: Any
    ) -> None:
        """Serve a copy of `template` in `directory`, or the database `db` as it is (a replica of a shared one)."""
        self.clock = clock
        if db is None:
            assert template is not None
            db = str(directory / "lesbillets.db")
            shutil.copy(template, db)  # keeps the template's 0600
        # the login tarpit would only slow down tests that fail logins on purpose; test_login_hostile tests it
        overrides.setdefault("login_backoff_s", 0.0)
        self.config = replace(ServerConfig(), host="127.0.0.1", port=0, db=db, **overrides)
        self._stack: contextlib.AsyncExitStack | None = None
        self._running: RunningServer | None = None

    @property
    def running(self) -> RunningServer:
        assert self._running is not None, "server is not running"
        return self._running

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def http_url(self) -> str:
        return self.running.http_url

    @property
    def service(self) -> TicketService:
        return self.running.service

    async def start(self) -> None:
        self._stack = contextlib.AsyncExitStack()
        self._running = await self._stack.enter_async_context(run_server(self.config, clock=self.clock))
        self.config = self._running.config  # keep the bound port for restarts

    async def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    async def restart(self) -> None:
        await self.stop()
        await self.start()


async def metrics(server: ServerHarness) -> dict[str, float]:
    """The server's /metrics, as a test (or Prometheus) reads them: name → value, for the unlabelled samples."""

    def fetch() -> str:
        with urllib.request.urlopen(server.http_url + "/metrics", timeout=5) as response:
            return str(response.read().decode())

    text = await asyncio.to_thread(fetch)
    return {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("lesbillets_") and "{" not in line
    }


async def subscribed(server: ServerHarness) -> int:
    """How many logged-in connections the server sends events to."""
    return int((await metrics(server))["lesbillets_connections"])


class PausableProxy:
    """A TCP relay in front of a server whose server→client direction can be stalled, as a congested network
    would: the way to make a real client fall behind without touching its insides."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> PausableProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def cut(self) -> None:
        """Drop every relayed connection (what the server sent and the proxy held back is lost); new ones relay."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        self._writers |= {client_writer, server_writer}
        for task in (
            asyncio.create_task(self._pipe(client_reader, server_writer, gated=False)),
            asyncio.create_task(self._pipe(server_reader, client_writer, gated=True)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, gated: bool) -> None:
        try:
            while data := await reader.read(65536):
                if gated:
                    await self._flowing.wait()  # stalled: nothing read from the server, its buffers fill up
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


ROWS_T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def tickets_for_rows(count: int, authors: list[uuid.UUID]) -> list[Ticket]:
    """`count` varied tickets, created in one order and last updated in a shuffled one, each at its own second."""
    order = list(range(count))
    random.Random(count).shuffle(order)
    return [
        Ticket(
            id=uuid.UUID(int=n + 1),
            title=f"Ticket {n}",
            description="not in a row " * 10,
            status=list(Status)[n % 3],
            priority=list(Priority)[n % 4],
            assignee=authors[(n + 1) % len(authors)] if n % 3 else None,
            created_at=ROWS_T0,
            created_by=authors[n % len(authors)],
            updated_at=ROWS_T0 + timedelta(seconds=order[n], microseconds=n % 1000),
            updated_by=authors[n % len(authors)],
            version=1 + n % 5,
            lock=Lock(user_id=authors[0], user_name="Alice Martin", expires_at=ROWS_T0) if n % 97 == 0 else None,
            number=n + 1,
            due_at=ROWS_T0 + timedelta(days=n) if n % 11 == 0 else None,
            tags=["vpn"] if n % 13 == 0 else [],
        )
        for n in range(count)
    ]


async def seed_tickets(db: str, count: int) -> list[Ticket]:
    """Write `tickets_for_rows` straight into a database (its server stopped, or not started yet)."""
    store = await open_store(db)
    try:
        authors = [record.user.id for record in await store.list_users()]
        tickets = tickets_for_rows(count, authors)
        await store.create_tickets(tickets, ROWS_T0)
    finally:
        await store.close()
    return tickets


async def with_tickets(server: ServerHarness, count: int) -> list[Ticket]:
    """Stop the server, seed `count` tickets into its database, start it again."""
    await server.stop()
    tickets = await seed_tickets(server.config.db, count)
    await server.start()
    return tickets
