"""A ticket's history as lines an agent reads, sans I/O: "Bob Dubois · status open → blocked · 3m ago".

One line per field change (an update of three fields is three lines), one per lock taken or let go (naming whose
lock when it expired or was broken), one per comment added or edited (an edit quotes the text before and after).
Values are shortened around where they differ, so a long title changed at its end still shows the change; a
description change is said, not quoted; comments are quoted as plain text, without their Markdown marks.
"""

from __future__ import annotations

import re
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
_UNLOCKED_OF = {
    UnlockReason.EXPIRED: "{holder}'s lock expired",
    UnlockReason.DISCONNECTED: "{holder}'s lock released: the connection dropped",
    UnlockReason.BROKEN: "broke {holder}'s lock",
}
"""When the timeline knows who held the lock (the entry that took it is in the history)."""
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_MARKDOWN_MARKS = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)|[*_`~]+")


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


def clip_pair(old: str, new: str, limit: int = VALUE_MAX) -> tuple[str, str]:
    """Both first lines shortened to ``limit``, each cut to show where they start to differ (an ellipsis marks a
    cut), so "…shows paper jams" → "…shows paper jams (edited)" rather than two identical beginnings."""
    old_first, new_first = (text.strip().partition("\n")[0] for text in (old, new))
    if len(old_first) <= limit and len(new_first) <= limit:
        return clip(old, limit), clip(new, limit)
    same = 0
    for a, b in zip(old_first, new_first, strict=False):
        if a != b:
            break
        same += 1
    start = max(0, same - limit // 3)  # a little of what they share, for context
    if start == 0:
        return clip(old, limit), clip(new, limit)
    return tuple(  # type: ignore[return-value]
        "…" + clip(first[start:], limit - 1) if len(first) > start else clip(first, limit)
        for first in (old_first, new_first)
    )


def plain(text: str) -> str:
    """A comment's text without its Markdown marks (headings, quotes, list bullets, emphasis, code ticks, a link's
    address)."""
    return "\n".join(_MARKDOWN_MARKS.sub("", _MARKDOWN_LINK.sub(r"\1", line)) for line in text.strip().splitlines())


def _value(field: str, value: str | None, name_of: NameOf) -> str:
    """A value in full as the timeline names it (a person by name, a due time in local time, a title quoted)."""
    if value is None or value == "":
        return "nobody" if field == "assignee" else "none"
    if field == "assignee":
        try:
            return name_of(uuid.UUID(value))
        except ValueError:
            return value
    if field == "due_at":
        try:
            return format_due(datetime.fromisoformat(value))  # local time, as the form and the preview show it
        except ValueError:
            return value
    return value


def _quoted(field: str, value: str | None, shown: str) -> str:
    return f"“{shown}”" if field == "title" and value else shown


def _field_line(field: str, old: str | None, new: str | None, name_of: NameOf, created: bool) -> str:
    if field == "description":
        return "wrote the description" if created or not old else "changed the description"
    label = "due" if field == "due_at" else field
    if created:
        return f"{label} {_quoted(field, new, clip(_value(field, new, name_of)))}"
    before, after = clip_pair(_value(field, old, name_of), _value(field, new, name_of))
    return f"{label} {_quoted(field, old, before)} → {_quoted(field, new, after)}"


def entry_lines(
    entry: HistoryEntry, name_of: NameOf, *, holder: str | None = None, before: str | None = None
) -> list[TimelineLine]:
    """The lines of one history entry (at least one). ``holder`` names who held the lock an unlock let go;
    ``before`` is a comment's text before the edit this entry is."""
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
        reason = entry.reason or UnlockReason.RELEASED
        if holder is not None and reason in _UNLOCKED_OF and holder != actor:
            return [line(_UNLOCKED_OF[reason].format(holder=holder))]
        return [line(_UNLOCKED.get(reason, "released the lock"))]
    comment = entry.comment
    if comment is None:
        return [line("commented" if kind is HistoryKind.COMMENTED else "edited a comment")]
    if kind is HistoryKind.COMMENTED:
        return [line(f"commented: “{clip(plain(comment.body))}”")]
    # HistoryKind.COMMENT_EDITED
    if before is None:
        return [line(f"edited a comment: “{clip(plain(comment.body))}”")]
    old, new = clip_pair(plain(before), plain(comment.body))
    return [line(f"edited a comment: “{old}” → “{new}”")]


def timeline(entries: Iterable[HistoryEntry], name_of: NameOf) -> list[TimelineLine]:
    """Every entry's lines, oldest first; each unlock names the holder and each edit the text before, when the
    entries before it say so."""
    lines: list[TimelineLine] = []
    holder: str | None = None
    bodies: dict[uuid.UUID, str] = {}
    for entry in sorted(entries, key=lambda entry: entry.seq):
        comment = entry.comment
        before = bodies.get(comment.id) if comment is not None else None
        lines.extend(entry_lines(entry, name_of, holder=holder, before=before))
        if entry.kind is HistoryKind.LOCKED:
            holder = name_of(entry.actor) if entry.actor is not None else None
        elif entry.kind is HistoryKind.UNLOCKED:
            holder = None
        if comment is not None:
            bodies[comment.id] = comment.body
    return lines
