"""Times as agents read them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lesbillets_tui.timefmt import ago, due_text, duration, spoken_duration, time_left
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


@pytest.mark.parametrize(
    ("seconds", "full", "rounded", "short"),
    [
        (45, "in 45s", "in 45s", "45s"),
        (90, "in 2m", "in 2m", "2m"),  # half up
        (59 * 60 + 40, "in 1h", "in 1h", "1h"),  # not "in 60m"
        (3 * 3600 - 5, "in 3h", "in 3h", "3h"),
        (2 * 3600 + 59 * 60, "in 2h 59m", "in 3h", "3h"),
        (2 * 3600 + 20 * 60, "in 2h 20m", "in 2h", "2h"),
        (2 * 3600 + 30 * 60, "in 2h 30m", "in 3h", "3h"),
        (9 * 3600 + 59 * 60 + 50, "in 10h", "in 10h", "10h"),
        (14 * 3600 + 20 * 60, "in 14h", "in 14h", "14h"),
        (23 * 3600 + 50 * 60, "in 1d", "in 1d", "1d"),
        (37 * 3600, "in 1d 13h", "in 2d", "2d"),
        (12 * 86400 + 6 * 3600, "in 12d", "in 12d", "12d"),
        (-20 * 60, "overdue 20m", "overdue 20m", "-20m"),
        (-(2 * 3600 + 59 * 60), "overdue 2h 59m", "overdue 3h", "-3h"),
        (-(3 * 3600 - 5), "overdue 3h", "overdue 3h", "-3h"),
        (-130 * 86400, "overdue 130d", "overdue 130d", "-130d"),
    ],
)
def test_due_text_rounds_to_the_nearest_never_down(seconds: int, full: str, rounded: str, short: str) -> None:
    """Due times never lose most of a unit: two units below ten of the larger in full, the nearest one rounded."""
    due = T0 + timedelta(seconds=seconds)
    assert (due_text(due, T0), due_text(due, T0, rounded=True), due_text(due, T0, short=True)) == (
        full,
        rounded,
        short,
    )
