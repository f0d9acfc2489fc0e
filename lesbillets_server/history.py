"""A ticket's history from its log rows: one entry per change, with each field's value before and after.

Pure: the log keeps the ticket as each change left it, so a field's change is the difference between consecutive
rows. Lease renewals are not history (the store leaves them out). Comments are: each entry carries the comment as
its event left it, and an edit's `body` change keeps the text it replaced (from the comment's previous row).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from lesbillets_server.storage.records import EventKind, LoggedEvent
from protocol.messages import FieldChange, HistoryEntry, HistoryKind, Ticket

FIELDS = ("title", "description", "status", "priority", "assignee", "due_at", "tags")
LIMIT = 1000
"""The newest entries a `History` reply carries, as long as their text fits the `text_budget`."""


def text_budget(backlog_bytes: int) -> int:
    """The characters of text (field values, comments) one reply may carry: half the backlog a connection may owe
    (4 MiB: 512,000 characters) at 4 bytes a character, the most any encoding takes. A long history or
    conversation is cut short rather than get the connection that asks for it closed as a laggard."""
    return backlog_bytes // 8


_KINDS = {
    EventKind.CREATED: HistoryKind.CREATED,
    EventKind.UPDATED: HistoryKind.UPDATED,
    EventKind.LOCKED: HistoryKind.LOCKED,
    EventKind.UNLOCKED: HistoryKind.UNLOCKED,
    EventKind.COMMENTED: HistoryKind.COMMENTED,
    EventKind.COMMENT_EDITED: HistoryKind.COMMENT_EDITED,
}


def _text(ticket: Ticket | None, field: str) -> str | None:
    """A field's value as the history shows it: tags as comma-separated words (none: null), times in ISO 8601."""
    value = None if ticket is None else getattr(ticket, field)
    if isinstance(value, list):
        return ", ".join(value) or None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return None if value is None else str(value)


def _comment_entry(event: LoggedEvent, kind: HistoryKind, bodies: dict[uuid.UUID, str]) -> HistoryEntry:
    """A comment's entry; `bodies` holds each comment's text as the rows so far left it."""
    comment = event.comment
    assert comment is not None
    changes = []
    if kind is HistoryKind.COMMENT_EDITED:
        # an edit whose earlier row the retention already dropped shows its new text only
        changes.append(FieldChange(field="body", old=bodies.get(comment.id), new=comment.body))
    bodies[comment.id] = comment.body
    return HistoryEntry(seq=event.seq, at=event.at, actor=event.actor, kind=kind, changes=changes, comment=comment)


def entries(events: Iterable[LoggedEvent]) -> list[HistoryEntry]:
    result: list[HistoryEntry] = []
    before: Ticket | None = None
    bodies: dict[uuid.UUID, str] = {}
    for event in events:
        kind = _KINDS.get(event.kind)
        if kind is None:
            continue
        if event.ticket is None:
            result.append(_comment_entry(event, kind, bodies))
            continue
        changes: list[FieldChange] = []
        if kind in (HistoryKind.CREATED, HistoryKind.UPDATED):
            # an update whose previous row the retention already dropped shows its new values only
            baseline = before if kind is HistoryKind.UPDATED else None
            for field in FIELDS:
                old, new = _text(baseline, field), _text(event.ticket, field)
                if old != new and not (kind is HistoryKind.CREATED and new in (None, "")):
                    changes.append(FieldChange(field=field, old=old, new=new))
        result.append(
            HistoryEntry(seq=event.seq, at=event.at, actor=event.actor, kind=kind, changes=changes, reason=event.reason)
        )
        before = event.ticket
    return result


def newest(entries: list[HistoryEntry], budget: int, limit: int = LIMIT) -> list[HistoryEntry]:
    """The newest `limit` entries, fewer when their text passes `budget` characters (the newest always)."""
    kept: list[HistoryEntry] = []
    used = 0
    for entry in reversed(entries[-limit:]):
        used += _size(entry)
        if used > budget and kept:
            break
        kept.append(entry)
    return kept[::-1]


def _size(entry: HistoryEntry) -> int:
    size = sum(len(change.old or "") + len(change.new or "") for change in entry.changes)
    return size + (0 if entry.comment is None else len(entry.comment.body))
