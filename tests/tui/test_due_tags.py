"""Due times and tags as typed in the ticket form: parsing, showing back, and the sentences for mistakes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from lesbillets_tui.due_tags import FieldError, format_due, parse_due, parse_tags
from lesbillets_tui.timefmt import due_text

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("   ", None),
        ("+30m", NOW + timedelta(minutes=30)),
        ("+3h", NOW + timedelta(hours=3)),
        ("+ 2d", NOW + timedelta(days=2)),
        ("+1w", NOW + timedelta(weeks=1)),
        ("2026-11-27 17:00", datetime(2026, 11, 27, 16, 0, tzinfo=UTC)),
    ],
)
def test_a_due_time_is_local_or_from_now(paris: None, text: str, expected: datetime | None) -> None:
    """Relative times count from now; a written time is the agent's local time, sent in UTC."""
    assert parse_due(text, NOW) == expected


def test_a_due_time_shows_back_in_local_time_to_the_minute(paris: None) -> None:
    """What the form shows parses back to the same minute."""
    due = datetime(2026, 11, 27, 16, 0, 42, tzinfo=UTC)
    assert format_due(due) == "2026-11-27 17:00"
    assert parse_due(format_due(due), NOW) == due.replace(second=0)
    assert format_due(None) == ""


@pytest.mark.parametrize(
    ("zone", "due", "shown"),
    [
        ("Pacific/Kiritimati", datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), "9999-12-31 23:59"),
        ("Asia/Tokyo", datetime(9999, 12, 31, 15, 0, tzinfo=UTC), "9999-12-31 15:00"),
        ("Asia/Tokyo", datetime(9999, 12, 31, 14, 0, tzinfo=UTC), "9999-12-31 23:00"),
        ("America/New_York", datetime(1970, 1, 1, tzinfo=UTC), "1969-12-31 19:00"),
    ],
    ids=["last moment east of UTC", "past year 9999 in Tokyo", "last local minute in Tokyo", "first moment west"],
)
def test_due_times_at_the_ends_of_the_range_show_in_every_zone(
    monkeypatch: pytest.MonkeyPatch, zone: str, due: datetime, shown: str
) -> None:
    """Any agent may set a due time anywhere in the years 1970 to 9999 (UTC): where local time would pass year
    9999 it is shown in UTC (it raised OverflowError, in the ticket preview and view of every agent east of UTC)."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert format_due(due) == shown
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_typed_due_time_past_year_9999_gets_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    """9999-12-31 23:59 typed west of UTC is past any time: a sentence, not OverflowError."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        with pytest.raises(FieldError, match="is not one"):
            parse_due("9999-12-31 23:59", NOW)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("text", ["tomorrow", "27/11/2026", "+3", "+3y", "2026-13-01 10:00", "+99999h"])
def test_a_due_time_that_is_not_one_gets_a_sentence(text: str) -> None:
    """Anything else is refused with an example of what works."""
    with pytest.raises(FieldError, match="as YYYY-MM-DD HH:MM, or \\+3h"):
        parse_due(text, NOW)


def test_tags_are_words_lower_case_each_once() -> None:
    """Spaces or commas separate tags; case folds; a repeated tag is kept once, in first order."""
    assert parse_tags(" VPN, network  vpn,,wi-fi ") == ["vpn", "network", "wi-fi"]
    assert parse_tags("") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [("-vpn", "“-vpn” cannot be a tag"), ("x" * 33, "cannot be a tag"), (" ".join(f"t{n}" for n in range(21)), "20")],
)
def test_bad_tags_get_a_sentence(text: str, problem: str) -> None:
    """A word the protocol would refuse, or too many tags, is said before anything is sent."""
    with pytest.raises(FieldError, match=problem):
        parse_tags(text)


@pytest.mark.parametrize(
    ("seconds", "long", "short"),
    [
        (3 * 3600, "in 3h", "3h"),
        (3 * 3600 - 5, "in 3h", "3h"),  # made "+3h" a moment ago: not "in 2h"
        (80, "in 1m", "1m"),
        (-20 * 60, "overdue 20m", "-20m"),
        (-3 * 86400, "overdue 3d", "-3d"),
    ],
)
def test_due_text(seconds: int, long: str, short: str) -> None:
    """The table's Due cell, in full and short: one unit, the nearest."""
    due = NOW + timedelta(seconds=seconds)
    assert (due_text(due, NOW, rounded=True), due_text(due, NOW, short=True)) == (long, short)
