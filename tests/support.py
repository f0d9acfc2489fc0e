"""Shared test data and a harness that runs a real server on an ephemeral port."""

from __future__ import annotations

import asyncio
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
from lesbillets_server.storage import open_store
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
