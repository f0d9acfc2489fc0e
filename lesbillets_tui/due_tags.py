"""Due times and tags as the ticket form reads and writes them, sans I/O.

A due time is typed as a moment in the agent's local time, "2026-11-27 17:00", or from now, "+3h", "+2d", "+30m",
"+1w"; empty means none. It is shown back in local time to the minute. Tags are free words separated by spaces or
commas, written in lower case, each kept once (the protocol's `Tag` rule: letters, digits, and . _ - inside).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import msgspec

from protocol.messages import TAG_MAX, TAGS_MAX, Tag

DUE_FORMAT = "%Y-%m-%d %H:%M"
_RELATIVE = re.compile(r"^\+\s*(\d{1,4})\s*([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SEPARATORS = re.compile(r"[\s,]+")


class FieldError(ValueError):
    """What is wrong with a typed value, as a sentence."""


def format_due(due_at: datetime | None) -> str:
    """``due_at`` as the form shows it: local time to the minute, "" for none."""
    if due_at is None:
        return ""
    try:
        local = due_at.astimezone()
    except OverflowError:  # 9999-12-31 late in UTC is year 10000 east of it: any agent may set such a due time
        local = due_at.astimezone(UTC)
    return local.strftime(DUE_FORMAT)


def parse_due(text: str, now: datetime) -> datetime | None:
    """The due time typed in ``text`` (UTC), None when empty; `FieldError` when it is not one."""
    text = text.strip()
    if not text:
        return None
    relative = _RELATIVE.match(text)
    if relative:
        return now + timedelta(seconds=int(relative[1]) * _UNITS[relative[2]])
    try:
        # a naive time is the agent's local time; the last hours of 9999 west of UTC are past any datetime
        return datetime.strptime(text, DUE_FORMAT).astimezone().astimezone(UTC)
    except (ValueError, OverflowError):
        raise FieldError(
            f"The due time “{text}” is not one: type a local time as YYYY-MM-DD HH:MM, or +3h, +2d, +30m."
        ) from None


def format_tags(tags: list[str]) -> str:
    return " ".join(tags)


def parse_tags(text: str) -> list[str]:
    """The tags typed in ``text``, lower case, each once, in order; `FieldError` for a word that cannot be one."""
    tags: list[str] = []
    for word in _SEPARATORS.split(text.strip().lower()):
        if word and word not in tags:
            try:
                msgspec.convert(word, Tag)
            except msgspec.ValidationError:
                raise FieldError(
                    f"“{word}” cannot be a tag: at most {TAG_MAX} lowercase letters, digits, and . _ - inside."
                ) from None
            tags.append(word)
    if len(tags) > TAGS_MAX:
        raise FieldError(f"A ticket has at most {TAGS_MAX} tags ({len(tags)} typed).")
    return tags
