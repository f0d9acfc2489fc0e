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


def due_text(due_at: datetime, now: datetime, *, short: bool = False, rounded: bool = False) -> str:
    """A due time as an agent reads it: "in 2h 59m", "overdue 20m"; ``rounded``: one unit, the nearest ("in 3h",
    for the table's Due cell); ``short``: rounded and narrow ("3h", "-20m").

    Rounded to the nearest, never down: a ticket due "+3h" a few seconds ago is "in 3h", not "in 2h" (an agent
    would plan an hour short); 2h 59m 10s is "in 2h 59m" in full, "in 3h" rounded. Below ten of a unit the full form
    says the next unit down too ("1d 13h"): under ten days it is never off by more than half an hour (half a minute
    under ten hours).
    """
    seconds = (due_at - now).total_seconds()
    span = _nearest(abs(seconds)) if short or rounded else _span(abs(seconds))
    if seconds < 0:
        return f"-{span}" if short else f"overdue {span}"
    return span if short else f"in {span}"


def _span(seconds: float) -> str:
    """Two units below ten of the larger ("2h 59m", "1d 13h"), to the nearest minute (hour, day) of the whole."""
    if _round(seconds) < 60:
        return f"{_round(seconds)}s"
    minutes = _round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 10 * 60:
        return _two(*divmod(minutes, 60), "h", "m")
    hours = _round(seconds / 3600)
    if hours < 24:
        return f"{hours}h"
    if hours < 10 * 24:
        return _two(*divmod(hours, 24), "d", "h")
    return f"{_round(seconds / 86400)}d"


def _two(big: int, small: int, big_unit: str, small_unit: str) -> str:
    return f"{big}{big_unit} {small}{small_unit}" if small else f"{big}{big_unit}"


def _nearest(seconds: float) -> str:
    """One unit, rounded to the nearest: 2h 59m is "3h", 2h 20m "2h"; 59m 40s is "1h", not "60m"."""
    for unit, size, next_size in (("s", 1, 60), ("m", 60, 3600), ("h", 3600, 86400)):
        count = _round(seconds / size)
        if count * size < next_size:
            return f"{count}{unit}"
    return f"{_round(seconds / 86400)}d"


def _round(value: float) -> int:
    """Half up (Python's `round` takes 2.5 to 2 and 3.5 to 4: "2h" and "4h" for the same half hour over)."""
    return int(value + 0.5)


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
