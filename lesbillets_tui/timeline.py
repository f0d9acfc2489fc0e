"""A ticket's history as lines an agent reads, sans I/O: "Bob Dubois · status open → blocked · 3m ago".

One line per field change (an update of three fields is three lines), one per lock taken or let go, one per
comment added or edited. Values are shortened; a description change is said, not quoted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from lesbillets_tui.due_tags import format_due
from protocol.messages import HistoryEntry, HistoryKind, UnlockReason

NameOf = Callable[[uuid.UUID], str]
VALUE_MAX = 32
"""Characters of a value (a title, a comment's first line) a line quotes."""
SERVER = "Les Billets"
"""The actor of the server's own changes (a lease that ran out, a session that dropped)."""

_UNLOCKED = {
    UnlockReason.RELEASED: "released the lock",
    UnlockReason.EXPIRED: "lock expired",
    UnlockReason.DISCONNECTED: "lock released: the connection dropped",
    UnlockReason.BROKEN: "broke the lock",
}


@dataclass(frozen=True)
class TimelineLine:
    seq: int
    at: datetime
    actor: str
    what: str

    def text(self, ago: str) -> str:
        return f"{self.actor} · {self.what} · {ago}"


def clip(text: str, limit: int = VALUE_MAX) -> str:
    """The first line of ``text``, at most ``limit`` characters (an ellipsis when cut)."""
    first, _, rest = text.strip().partition("\n")
    if len(first) > limit or rest:
        return first[: limit - 1].rstrip() + "…"
    return first


def _value(field: str, value: str | None, name_of: NameOf) -> str:
    if value is None or value == "":
        return "nobody" if field == "assignee" else "none"
    if field == "assignee":
        try:
            return name_of(uuid.UUID(value))
        except ValueError:
            return clip(value)
    if field == "due_at":
        try:
            return format_due(datetime.fromisoformat(value))  # local time, as the form and the preview show it
        except ValueError:
            return clip(value)
    if field == "title":
        return f"“{clip(value)}”"
    return clip(value)


def _field_line(field: str, old: str | None, new: str | None, name_of: NameOf, created: bool) -> str:
    if field == "description":
        return "wrote the description" if created or not old else "changed the description"
    label = "due" if field == "due_at" else field
    if created:
        return f"{label} {_value(field, new, name_of)}"
    return f"{label} {_value(field, old, name_of)} → {_value(field, new, name_of)}"


def entry_lines(entry: HistoryEntry, name_of: NameOf) -> list[TimelineLine]:
    """The lines of one history entry (at least one)."""
    actor = name_of(entry.actor) if entry.actor is not None else SERVER

    def line(what: str) -> TimelineLine:
        return TimelineLine(entry.seq, entry.at, actor, what)

    kind = entry.kind
    if kind is HistoryKind.CREATED:
        return [line("created the ticket")]
    if kind is HistoryKind.UPDATED:
        changes = [
            line(_field_line(change.field, change.old, change.new, name_of, created=False)) for change in entry.changes
        ]
        return changes or [line("saved without changes")]
    if kind is HistoryKind.LOCKED:
        return [line("took the lock")]
    if kind is HistoryKind.UNLOCKED:
        return [line(_UNLOCKED.get(entry.reason or UnlockReason.RELEASED, "released the lock"))]
    comment = entry.comment
    quoted = f": “{clip(comment.body)}”" if comment is not None else ""
    if kind is HistoryKind.COMMENTED:
        return [line(f"commented{quoted}")]
    # HistoryKind.COMMENT_EDITED
    return [line(f"edited a comment{quoted}")]


def timeline(entries: Iterable[HistoryEntry], name_of: NameOf) -> list[TimelineLine]:
    """Every entry's lines, oldest first."""
    return [line for entry in sorted(entries, key=lambda entry: entry.seq) for line in entry_lines(entry, name_of)]
