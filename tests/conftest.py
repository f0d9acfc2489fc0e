"""Fixtures: a real server per test, on an ephemeral port, over a copy of a prepared SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import ServerHarness, add_test_users, make_template_db

pytest_plugins = ["tests.pg"]  # the pg_url fixture: a fresh PostgreSQL schema, or a clear skip

ServerFactory = Callable[..., Awaitable[ServerHarness]]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the test users, made once per test session."""
    return make_template_db(tmp_path_factory.mktemp("template") / "template.db")


@pytest.fixture
async def server_factory(template_db: Path, tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """Start servers with config overrides (``lock_ttl_s=0.2``…); all stop at the end of the test."""
    started: list[ServerHarness] = []

    async def start(**overrides: Any) -> ServerHarness:
        directory = tmp_path / f"server{len(started)}"
        directory.mkdir()
        harness = ServerHarness(template_db, directory, **overrides)
        await harness.start()
        started.append(harness)
        return harness

    yield start
    for harness in started:
        await harness.stop()


@pytest.fixture
async def server(server_factory: ServerFactory) -> ServerHarness:
    """A running server with default settings and the users ALICE, BOB and ADMIN."""
    return await server_factory()


Replicas = Callable[..., Awaitable[list[ServerHarness]]]


@pytest.fixture
async def replicas(pg_url: str, tmp_path: Path) -> AsyncIterator[Replicas]:
    """Start n servers on one fresh PostgreSQL schema holding the test users; all stop at the end."""
    await add_test_users(pg_url)
    started: list[ServerHarness] = []

    async def start(n: int, **overrides: Any) -> list[ServerHarness]:
        servers = [ServerHarness(None, tmp_path, db=pg_url, **overrides) for _ in range(n)]
        for server in servers:
            await server.start()
        started.extend(servers)
        return servers

    yield start
    for server in started:
        await server.stop()
