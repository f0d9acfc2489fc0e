"""Times as agents read them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lesbillets_tui.timefmt import ago, duration, spoken_duration, time_left
from tests.tui.factory import T0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "just now"),
        (0, "just now"),
        (59, "just now"),
        (60, "1m ago"),
        (3 * 60 + 30, "3m ago"),
        (3599, "59m ago"),
        (3600, "1h ago"),
        (23 * 3600, "23h ago"),
        (86400, "1d ago"),
        (29 * 86400, "29d ago"),
        (40 * 86400, "2025-02-02"),
    ],
)
def test_ago(seconds: int, text: str) -> None:
    """Coarse ages: minutes, hours, days, then the date."""
    assert ago(T0 - timedelta(seconds=seconds), T0) == text


@pytest.mark.parametrize(
    ("seconds", "left", "spoken"),
    [
        (-10, "0:00", "0 s"),
        (0, "0:00", "0 s"),
        (45, "0:45", "45 s"),
        (245, "4:05", "4 min 5 s"),
        (180, "3:00", "3 min"),
        (3725, "1:02:05", "1 h 2 min"),
    ],
)
def test_time_left(seconds: int, left: str, spoken: str) -> None:
    """Remaining lease time, never negative, for the table and for sentences."""
    assert time_left(T0 + timedelta(seconds=seconds), T0) == left
    assert duration(seconds) == left
    assert spoken_duration(seconds) == spoken
