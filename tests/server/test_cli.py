"""`lesbillets-server`: user administration in-process, and `serve` as a real subprocess."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import traceback
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lesbillets_server.cli import _run, app
from protocol.messages import AllTickets, CloseCode, GetTickets, Login, Welcome
from tests.server.wire import wire
from tests.support import ServerHarness

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_user_lifecycle(tmp_path: Path) -> None:
    """add, list, passwd and disable work against one database and say what they did."""
    db = str(tmp_path / "u.db")
    assert (
        run(
            "user",
            "add",
            "zoe@example.com",
            "--name",
            "Zoé",
            "--admin",
            "--password-stdin",
            "--db",
            db,
            stdin="s3cret\n",
        )[0]
        == 0
    )
    code, out = run("user", "list", "--db", db)
    assert code == 0
    assert re.search(r"zoe@example.com\s+Zoé\s+admin\s+active", out)
    assert "s3cret" not in out
    assert run("user", "passwd", "zoe@example.com", "--password-stdin", "--db", db, stdin="other\n")[0] == 0
    assert run("user", "disable", "zoe@example.com", "--db", db)[0] == 0
    assert "disabled" in run("user", "list", "--db", db)[1]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "add", "not-an-email", "--name", "X", "--password-stdin"], "pw\n", "is not an email address"),
        (["user", "add", "a@example.com", "--name", " ", "--password-stdin"], "pw\n", "name must be"),
        (["user", "add", "a@example.com", "--name", "Eve\x1b[2J", "--password-stdin"], "pw\n", "name must be"),
        (["user", "add", "a@example.com", "--name", "Eve\u202eevE", "--password-stdin"], "pw\n", "name must be"),
        (["user", "add", "a\x07@example.com", "--name", "A", "--password-stdin"], "pw\n", "is not an email address"),
        (["user", "add", "a@example.com", "--name", "A", "--password-stdin"], "\n", "must not be empty"),
        (["user", "passwd", "ghost@example.com", "--password-stdin"], "pw\n", "No user has the email"),
        (["user", "disable", "ghost@example.com"], None, "No user has the email"),
    ],
    ids=[
        "bad email",
        "blank name",
        "escape in name",
        "bidi override in name",
        "bell in email",
        "empty password",
        "passwd unknown",
        "disable unknown",
    ],
)
def test_user_command_errors(tmp_path: Path, args: list[str], stdin: str | None, message: str) -> None:
    """Bad input to a user command exits 1 with a sentence, never a traceback."""
    code, out = run(*args, "--db", str(tmp_path / "u.db"), stdin=stdin)
    assert code == 1
    assert message in out
    assert "Traceback" not in out


def test_duplicate_user(tmp_path: Path) -> None:
    """Adding an email twice is refused with a sentence."""
    db = str(tmp_path / "u.db")
    args = ("user", "add", "a@example.com", "--name", "A", "--password-stdin", "--db", db)
    assert run(*args, stdin="pw\n")[0] == 0
    code, out = run(*args, stdin="pw\n")
    assert code == 1
    assert "already exists" in out


async def test_serve_demo_then_sigterm(tmp_path: Path) -> None:
    """`serve --demo --port 0` seeds, prints the demo logins, serves, and stops cleanly on SIGTERM (1001)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lesbillets_server",
        "serve",
        "--demo",
        "--port",
        "0",
        "--db",
        str(tmp_path / "d.db"),
        "--log-level",
        "warning",
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    output = []
    try:
        async with asyncio.timeout(20):
            while not (match := re.search(r"serving on (ws://\S+)", "".join(output))):
                output.append((await process.stderr.readline()).decode())
        assert "alice@example.com / alice" in "".join(output)
        async with wire(match[1]) as peer:
            await peer.expect(Login(rid=1, email="alice@example.com", password="alice"), Welcome)
            snapshot = await peer.expect(GetTickets(rid=2), AllTickets)
            assert len(snapshot.tickets) >= 20
            process.send_signal(signal.SIGTERM)
            code, _ = await peer.closed()
            assert code == CloseCode.GOING_AWAY
        async with asyncio.timeout(10):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve_reports_busy_port(tmp_path: Path, server: ServerHarness) -> None:
    """Starting on a port that is taken exits 1 with a sentence."""
    taken = server
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lesbillets_server",
        "serve",
        "--port",
        str(taken.config.port),
        "--db",
        str(tmp_path / "d.db"),
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(20):
        _, err = await process.communicate()
    assert process.returncode == 1
    assert b"Cannot listen on" in err
    assert b"Traceback" not in err


def test_run_without_uvloop_chains_no_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without uvloop, an error inside the server carries no "No module named 'uvloop'" in its traceback."""
    monkeypatch.setitem(sys.modules, "uvloop", None)  # what `import uvloop` meets when the extra is not installed

    async def main() -> None:
        raise RuntimeError("the server failed")

    with pytest.raises(RuntimeError) as raised:
        _run(main())
    assert raised.value.__context__ is None
    assert "ModuleNotFoundError" not in "".join(traceback.format_exception(raised.value))
