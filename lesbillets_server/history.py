"""A ticket's history from its log rows: one entry per change, with each field's value before and after.

Pure: the log keeps the ticket as each change left it, so a field's change is the difference between consecutive
rows. Lease renewals are not history (the store leaves them out).
"""

from __future__ import annotations

from collections.abc import Iterable

from lesbillets_server.storage.records import EventKind, LoggedEvent
from protocol.messages import FieldChange, HistoryEntry, HistoryKind, Ticket

FIELDS = ("title", "description", "status", "priority", "assignee")
LIMIT = 1000
"""The newest entries a `History` reply carries."""

_KINDS = {
    EventKind.CREATED: HistoryKind.CREATED,
    EventKind.UPDATED: HistoryKind.UPDATED,
    EventKind.LOCKED: HistoryKind.LOCKED,
    EventKind.UNLOCKED: HistoryKind.UNLOCKED,
}


def _text(ticket: Ticket | None, field: str) -> str | None:
    value = None if ticket is None else getattr(ticket, field)
    return None if value is None else str(value)


def entries(events: Iterable[LoggedEvent]) -> list[HistoryEntry]:
    result: list[HistoryEntry] = []
    before: Ticket | None = None
    for event in events:
        kind = _KINDS.get(event.kind)
        if kind is None:
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
