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
