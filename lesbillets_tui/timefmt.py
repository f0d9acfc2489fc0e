"""Times as an agent reads them: "3m ago", "4:05" left on a lock.

Every function takes ``now`` explicitly so screens can be drawn against a fixed clock in tests.
"""

from __future__ import annotations

from datetime import datetime

from protocol.clock import Clock as Clock
from protocol.clock import utc_now as utc_now

# Clock and utc_now are defined in protocol.clock (shared with the server); named here too for the app's modules.


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


def short_ago(when: datetime, now: datetime) -> str:
    """`ago` for a narrow column, at most 6 cells: "now", "3m", "5h", "4d", then "Nov 25"."""
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 30 * 86400:
        return f"{int(seconds // 86400)}d"
    return when.strftime("%b %d")


def due_text(due_at: datetime, now: datetime, *, short: bool = False) -> str:
    """A due time as an agent reads it: "in 3h", "overdue 20m" (short: "3h", "-20m")."""
    seconds = (due_at - now).total_seconds()
    span = _span(abs(seconds))
    if seconds < 0:
        return f"-{span}" if short else f"overdue {span}"
    return span if short else f"in {span}"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


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
