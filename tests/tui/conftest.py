"""Fixtures the app's tests share."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest


def _local_time_in(zone: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so a due time ("due 2026-11-30 17:00") reads the same on every machine."""
    yield from _local_time_in("UTC", monkeypatch)


@pytest.fixture
def paris(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The agent's terminal in Paris (UTC+1 in November)."""
    yield from _local_time_in("Europe/Paris", monkeypatch)
