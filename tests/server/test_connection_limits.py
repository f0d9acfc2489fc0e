"""How many connections the server keeps and for how long: caps in total and per address (HTTP 503), the login
deadline (4001), floods past the caps, and the accept-failure log."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from lesbillets_server.limits import FD_RESERVE, REFUSALS, AcceptErrorLog, connection_cap
from protocol.messages import AllTickets, CloseCode, Error, ErrorCode, GetTickets, Logout
from tests.conftest import ServerFactory
from tests.server.wire import TIMEOUT, Wire, wire
from tests.support import ALICE, ServerHarness

OK = "open"


@asynccontextmanager
async def _from(server: ServerHarness, address: str) -> AsyncIterator[Wire]:
    async with wire(server.url, local_addr=(address, 0)) as peer:
        yield peer


@pytest.mark.parametrize(
    ("caps", "sources", "expected"),
    [
        (
            {"max_connections": 2, "max_connections_per_ip": 10},
            ["127.0.0.1", "127.0.0.2", "127.0.0.3"],
            [OK, OK, "at its limit of 2 connections"],
        ),
        (
            {"max_connections": 10, "max_connections_per_ip": 2},
            ["127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2"],
            [OK, OK, "Too many connections from your address", OK],
        ),
    ],
    ids=["total", "per-address"],
)
async def test_caps_answer_503_and_connected_agents_carry_on(
    server_factory: ServerFactory, caps: dict[str, int], sources: list[str], expected: list[str]
) -> None:
    """Past a cap a websocket handshake gets HTTP 503 with a sentence; the agents already connected keep working."""
    server = await server_factory(**caps)
    outcomes: list[str] = []
    async with AsyncExitStack() as stack:
        peers = []
        for address in sources:
            try:
                peers.append(await stack.enter_async_context(_from(server, address)))
                outcomes.append(OK)
            except InvalidStatus as refused:
                response = refused.response
                assert (response.status_code, response.headers["Retry-After"]) == (503, "60")
                outcomes.append(response.body.decode())
        assert [o == OK for o in outcomes] == [e == OK for e in expected]
        for outcome, sentence in zip(outcomes, expected, strict=True):
            assert sentence in outcome
        await peers[0].login(ALICE)
        await peers[0].expect(GetTickets(rid=peers[0].rid()), AllTickets)


async def test_connections_past_the_refusals_are_dropped_unanswered(server_factory: ServerFactory) -> None:
    """With `REFUSALS` over-cap connections already waiting for their 503, the next one is closed at once."""
    server = await server_factory(max_connections=1)
    host, port = "127.0.0.1", server.config.port
    streams = [await asyncio.open_connection(host, port) for _ in range(1 + REFUSALS)]  # 1 in, the rest refused
    try:
        reader, writer = await asyncio.open_connection(host, port)
        streams.append((reader, writer))
        assert await _closed_by_server(reader)
        refused_reader, refused_writer = streams[1]
        refused_writer.write(
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        async with asyncio.timeout(TIMEOUT):
            status = await refused_reader.readline()
        assert status.startswith(b"HTTP/1.1 503")
    finally:
        for _, writer in streams:
            writer.close()


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    async with asyncio.timeout(TIMEOUT):
        try:
            return await reader.read(1) == b""
        except ConnectionResetError:  # an abort usually resets
            return True


@pytest.mark.parametrize("logs_in_then_out", [False, True], ids=["never-logs-in", "logs-out"])
async def test_login_deadline_closes_with_4001(server_factory: ServerFactory, logs_in_then_out: bool) -> None:
    """A connection not logged in within --login-timeout (of its handshake, or of a logout) is closed with 4001."""
    server = await server_factory(login_timeout_s=0.3)
    async with wire(server.url, login=ALICE) as agent, wire(server.url) as idle:
        if logs_in_then_out:
            await idle.login(ALICE)
            await idle.request(Logout(rid=idle.rid()))
        code, reason = await idle.closed()
        assert code == CloseCode.LOGIN_TIMEOUT
        assert reason == "log in within 0.3 s"
        # the logged-in agent, past the same deadline, still works
        await agent.expect(GetTickets(rid=agent.rid()), AllTickets)


async def test_requests_before_logging_in_do_not_extend_the_deadline(server_factory: ServerFactory) -> None:
    """Sending requests without logging in (each answered `unauthorized`) does not keep a connection open."""
    server = await server_factory(login_timeout_s=0.3)
    async with wire(server.url) as idle:
        reply = await idle.request(GetTickets(rid=idle.rid()))
        assert isinstance(reply, Error) and reply.code is ErrorCode.UNAUTHORIZED
        code, _ = await idle.closed()
        assert code == CloseCode.LOGIN_TIMEOUT


async def test_accept_failures_are_logged_once_per_interval(
    server: ServerHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """asyncio's "accept() out of system resource", a hundred times at once, is one line; other reports pass on."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop.get_exception_handler(), AcceptErrorLog)
    failure = OSError(errno.EMFILE, "Too many open files")
    with caplog.at_level(logging.WARNING):
        for _ in range(100):  # as asyncio does: once per connection waiting in the backlog, each loop iteration
            loop.call_exception_handler({"message": AcceptErrorLog.MESSAGE, "exception": failure})
        loop.call_exception_handler({"message": "something else went wrong"})
    ours = [r for r in caplog.records if r.name == "lesbillets_server.limits"]
    assert len(ours) == 1
    assert "Too many open files" in ours[0].getMessage() and ours[0].exc_info is None
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == ["something else went wrong"]


async def test_accept_failure_log_is_removed_with_the_server(server_factory: ServerFactory) -> None:
    """Stopping the server puts back the loop's previous exception handler."""
    loop = asyncio.get_running_loop()
    before = loop.get_exception_handler()
    server = await server_factory()
    await server.stop()
    assert loop.get_exception_handler() is before


@pytest.mark.parametrize(
    ("max_connections", "open_files", "cap"),
    [
        (2000, 1_048_576, 2000),
        (2000, 1024, 1024 - FD_RESERVE - REFUSALS),
        (10, 1024, 10),
        (2000, 100, 1),
    ],
)
def test_connection_cap_fits_the_open_file_limit(max_connections: int, open_files: int, cap: int) -> None:
    """--max-connections is lowered so that connections, refusals and the reserve fit in the open-file limit."""
    assert connection_cap(max_connections, open_files) == cap


async def test_serve_options_set_the_limits(tmp_path: Path) -> None:
    """`serve --login-timeout` and LESBILLETS_MAX_CONNECTIONS_PER_IP reach the server (on uvloop when installed)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lesbillets_server",
        "serve",
        "--port",
        "0",
        "--db",
        str(tmp_path / "d.db"),
        "--login-timeout",
        "0.5",
        env={**os.environ, "LESBILLETS_MAX_CONNECTIONS_PER_IP": "1"},
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    output = ""
    try:
        async with asyncio.timeout(20):
            while not (match := re.search(r"serving on (ws://\S+)", output)):
                output += (await process.stderr.readline()).decode()
        async with wire(match[1]) as idle:
            with pytest.raises(InvalidStatus) as refused:
                async with wire(match[1]):
                    pass
            assert refused.value.response.status_code == 503
            code, _ = await idle.closed()
            assert code == CloseCode.LOGIN_TIMEOUT
    finally:
        process.terminate()
        async with asyncio.timeout(10):
            await process.wait()
