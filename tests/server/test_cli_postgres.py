"""The `lesbillets-server user` commands on a PostgreSQL database, as on a SQLite file."""

from __future__ import annotations

from typer.testing import CliRunner

from lesbillets_server.cli import app as cli


def test_user_commands_take_a_postgresql_url(pg_url: str) -> None:
    """`user add`, `list`, `passwd` and `disable` work against --db postgresql://…"""
    runner = CliRunner()
    add = runner.invoke(
        cli, ["user", "add", "ana@example.com", "--name", "Ana", "--password-stdin", "--db", pg_url], input="pw\n"
    )
    assert add.exit_code == 0, add.output
    assert runner.invoke(cli, ["user", "passwd", "ana@example.com", "--password-stdin", "--db", pg_url], input="pw2\n")
    assert runner.invoke(cli, ["user", "disable", "ana@example.com", "--db", pg_url]).exit_code == 0
    listed = runner.invoke(cli, ["user", "list", "--db", pg_url])
    assert "ana@example.com" in listed.output and "disabled" in listed.output


def test_an_unreachable_database_is_a_sentence() -> None:
    """A PostgreSQL URL nobody answers at gives one sentence without the password, and exit code 1."""
    url = "postgresql://ana:secret@127.0.0.1:1/nowhere?connect_timeout=1"
    result = CliRunner().invoke(cli, ["user", "list", "--db", url])
    assert result.exit_code == 1
    assert "Cannot use the database postgresql://ana:***@127.0.0.1:1/nowhere" in result.output
    assert "secret" not in result.output and "Traceback" not in result.output


async def test_serve_never_prints_the_database_password(pg_url: str) -> None:
    """`serve --db postgresql://user:password@…` names the database in its output without the password."""
    import asyncio
    import sys
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(pg_url)
    with_password = urlunsplit(
        parts._replace(netloc=f"{parts.username or 'postgres'}:s3cret-pw@{parts.hostname}:{parts.port or 5432}")
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lesbillets_server", "serve", "--db", with_password, "--port", "0",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    seen = b""
    async with asyncio.timeout(30):
        while b"Ctrl+C stops" not in seen:
            line = await process.stderr.readline()
            assert line, seen.decode()
            seen += line
    process.terminate()
    await process.wait()
    assert b"s3cret-pw" not in seen and b"***" in seen
