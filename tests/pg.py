"""PostgreSQL for tests: one throwaway schema per test, skipped (or, in CI, failed) when the server is not there.

`LESBILLETS_PG` names the server (default: the local one, trust auth, database `test`); `.ci/run` sets
`LESBILLETS_REQUIRE_PG=1` so that a green CI means the PostgreSQL tests ran.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

PG_URL = os.environ.get("LESBILLETS_PG", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("LESBILLETS_REQUIRE_PG") == "1"
SKIP_REASON = f"PostgreSQL is not reachable at {urlsplit(PG_URL).hostname}:{urlsplit(PG_URL).port or 5432}"


@functools.cache
def unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"{SKIP_REASON} ({str(exc).strip().splitlines()[0]})"
    return None


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose tables live in a fresh schema, dropped after the test."""
    reason = unreachable()
    if reason is not None:
        if REQUIRED:
            pytest.fail(f"{reason}; LESBILLETS_REQUIRE_PG=1 says these tests must run.")
        pytest.skip(f"{reason}: PostgreSQL test skipped")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[arg-type]
    try:
        yield with_search_path(PG_URL, schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')  # type: ignore[arg-type]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say it in one line at the end when the PostgreSQL half did not run, so nobody mistakes it for a pass."""
    skipped = [report for report in terminalreporter.stats.get("skipped", []) if SKIP_REASON in str(report.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} PostgreSQL tests were SKIPPED: {SKIP_REASON}. Set LESBILLETS_PG to a server to run them "
            "(CI requires it).",
            yellow=True,
            bold=True,
        )
