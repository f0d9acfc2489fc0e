"""The one clock: timezone-aware UTC now, as a function the server and the app take by injection (tests fix it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
