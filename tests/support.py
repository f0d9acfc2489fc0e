"""Shared test data and a harness that runs a real server on an ephemeral port."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lesbillets_server.app import RunningServer, run_server
from lesbillets_server.auth import add_user
from lesbillets_server.config import ServerConfig
from lesbillets_server.service import Clock, TicketService, utc_now
from lesbillets_server.store import SqliteStore
from protocol.messages import Role


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


def make_template_db(path: Path) -> Path:
    """A database with the three test users (argon2 hashing is slow on purpose, so do it once a session)."""
    store = SqliteStore(path)
    try:
        for agent in AGENTS:
            add_user(store, agent.email, agent.name, agent.password, agent.role)
    finally:
        store.close()
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

    def __init__(self, template: Path, directory: Path, clock: Clock = utc_now, **overrides: Any) -> None:
        self.clock = clock
        db = directory / "lesbillets.db"
        shutil.copy(template, db)  # keeps the template's 0600
        self.config = replace(ServerConfig(), host="127.0.0.1", port=0, db=str(db), **overrides)
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
