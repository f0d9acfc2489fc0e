"""Times as an agent reads them: "3m ago", "4:05" left on a lock.

Every function takes ``now`` explicitly so screens can be drawn against a fixed clock in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def ago(when: datetime, now: datetime) -> str:
    """How long ago, coarse: "just now", "3m ago", "5h ago", "4d ago", then the date."""
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    if seconds < 30 * 86400:
        return f"{int(seconds // 86400)}d ago"
    return when.strftime("%Y-%m-%d")


def time_left(expires_at: datetime, now: datetime) -> str:
    """A lease's remaining time as m:ss (h:mm:ss past an hour); never negative."""
    seconds = max(0, int((expires_at - now).total_seconds()))
    return duration(seconds)


def duration(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour up."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def spoken_duration(seconds: float) -> str:
    """Seconds for a sentence: "45 s", "4 min 5 s", "1 h 2 min"."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
