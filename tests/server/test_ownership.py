"""One SQLite file, one server: a second `serve` refuses, naming the first; `user` commands work beside it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lesbillets_server.cli import app as cli
from lesbillets_server.errors import StoreError
from lesbillets_server.ownership import running_server
from protocol.messages import AllTickets, GetTickets
from tests.conftest import ServerFactory
from tests.server.wire import wire
from tests.support import ALICE, ServerHarness


async def test_a_second_server_on_the_same_file_refuses_to_start(server: ServerHarness, tmp_path: Path) -> None:
    """Starting another server on the file names the running one (pid and URL) and leaves it serving."""
    second = ServerHarness(None, tmp_path, db=server.config.db)
    with pytest.raises(StoreError) as refused:
        await second.start()
    message = str(refused.value)
    assert server.config.db in message and server.url in message and f"pid {os.getpid()}" in message
    owner = running_server(server.config.db)
    assert owner is not None and (owner["pid"], owner["url"]) == (os.getpid(), server.url)
    async with wire(server.url, login=ALICE) as alice:  # the first one still serves
        await alice.expect(GetTickets(rid=alice.rid()), AllTickets)


async def test_the_serve_command_says_so_and_exits_1(server: ServerHarness) -> None:
    """`lesbillets-server serve` on a file another server holds prints one sentence and exits with 1."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lesbillets_server", "serve", "--db", server.config.db, "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        _, err = await process.communicate()
    assert process.returncode == 1
    text = err.decode()
    assert "is already served by" in text and server.url in text and "Traceback" not in text


async def test_user_commands_work_beside_a_running_server(server: ServerHarness) -> None:
    """`user add` and `user list` on the served file do their work while the server runs."""
    runner = CliRunner()
    add = ["user", "add", "ana@example.com", "--name", "Ana", "--password-stdin", "--db", server.config.db]
    added = await asyncio.to_thread(runner.invoke, cli, add, input="ana-password\n")
    assert added.exit_code == 0, added.output
    listed = await asyncio.to_thread(runner.invoke, cli, ["user", "list", "--db", server.config.db])
    assert "ana@example.com" in listed.output


async def test_the_file_is_free_again_once_the_server_stops(server_factory: ServerFactory) -> None:
    """After the first server stops, another may serve the same file."""
    first = await server_factory()
    await first.stop()
    assert running_server(first.config.db) is None
    await first.start()
    assert running_server(first.config.db) is not None
