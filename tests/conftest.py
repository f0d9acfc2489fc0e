"""Fixtures: a real server per test, on an ephemeral port, over a copy of a prepared SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.pg import pg_url  # noqa: F401  (a fixture: a fresh PostgreSQL schema, or a clear skip)
from tests.support import ServerHarness, make_template_db

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
