"""What the ticket form holds, sans I/O: its values, what changed, and whether it can be sent.

The editor screen reads its widgets into a `FormValues`; everything it then decides about those values (is the
form valid, which fields does an update send, what did someone else change meanwhile) lives here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lesbillets_tui.due_tags import FieldError, format_due, format_tags, parse_due, parse_tags
from lesbillets_tui.safe_text import safe_block, safe_line
from protocol.codec import follows
from protocol.messages import DESCRIPTION_MAX, TITLE_MAX, Description, Priority, Status, Ticket, Title

FIELDS = ("title", "description", "status", "priority", "assignee", "due_at", "tags")
"""The fields the form edits, in the order sentences name them."""
FIELD_NAMES = {"due_at": "due"}
"""How a sentence names a field, where that differs from the field."""


@dataclass(frozen=True)
class FormValues:
    title: str
    description: str
    status: Status
    priority: Priority
    assignee: uuid.UUID | None
    due_at: str = ""
    """As typed: a local time, "+3h", or "" for none (`due_tags.parse_due`)."""
    tags: str = ""
    """As typed: words separated by spaces or commas."""

    @classmethod
    def of(cls, ticket: Ticket) -> FormValues:
        """The ticket as the form shows it: control characters from before the text rules drawn as symbols.

        The form's starting point is what the agent sees, so an untouched field is not sent back, and an
        edited one is sent as shown, which the text rules accept.
        """
        return cls(
            safe_line(ticket.title),
            safe_block(ticket.description),
            ticket.status,
            ticket.priority,
            ticket.assignee,
            format_due(ticket.due_at),
            format_tags(ticket.tags),
        )

    def changed_fields(self, other: FormValues) -> dict[str, Any]:
        """The fields whose value differs in ``other``, with ``other``'s values."""
        return {name: getattr(other, name) for name in FIELDS if getattr(self, name) != getattr(other, name)}


NEW_TICKET = FormValues("", "", Status.OPEN, Priority.NORMAL, None)
"""What the form holds for a new ticket."""


def invalid(values: FormValues) -> str:
    """Why the form cannot be sent as it is, or ""."""
    if not values.title.strip():
        return "A ticket needs a title."
    if len(values.title.strip()) > TITLE_MAX:
        return f"The title is too long: at most {TITLE_MAX} characters."
    if len(values.description) > DESCRIPTION_MAX:
        return f"The description is too long: {len(values.description):,} of at most {DESCRIPTION_MAX:,} characters."
    if not follows(Title, values.title.strip()):
        return "The title cannot hold control characters (such as tab or escape) or bidirectional overrides."
    if not follows(Description, values.description):
        return "The description cannot hold control characters other than newline and tab, or bidirectional overrides."
    try:
        parse_due(values.due_at, datetime.now(UTC))
        parse_tags(values.tags)
    except FieldError as exc:
        return str(exc)
    return ""


def update_changes(original: FormValues, values: FormValues, now: datetime) -> dict[str, Any]:
    """The fields an update sends: only those the agent changed, so a save over a conflict keeps theirs.

    The values are as the protocol takes them (a relative due time is counted from ``now``).
    """
    changes = original.changed_fields(values)
    if "title" in changes:
        changes["title"] = values.title.strip()
    if "due_at" in changes:
        changes["due_at"] = parse_due(values.due_at, now)
    if "tags" in changes:
        changes["tags"] = parse_tags(values.tags)
    return changes


def field_name(field: str) -> str:
    return FIELD_NAMES.get(field, field)


def changed_by_others(
    opened: Ticket | None, latest: Ticket | None, base_version: int, name_of: Callable[[uuid.UUID | None], str]
) -> str:
    """A sentence about what changed since the form opened on ``opened``, or "" when nothing did."""
    if latest is None or opened is None or latest.version == base_version:
        return ""
    changed = FormValues.of(opened).changed_fields(FormValues.of(latest))
    fields = [field_name(name) for name in FIELDS if name in changed]
    what = ", ".join(fields) if fields else "nothing you can see"
    return f"{name_of(latest.updated_by)} changed this ticket since you opened it ({what})."


@dataclass(frozen=True)
class FieldConflict:
    """One field someone else changed since the form opened: their value and the form's, as the agent reads them."""

    field: str
    theirs: str
    yours: str
    same: bool
    """The form already holds their value (nothing to choose)."""
    kept: bool = False
    """The agent did not change this field: the form takes theirs, and a save (only the agent's changes) keeps it."""


def conflicts(
    opened: Ticket | None,
    latest: Ticket | None,
    values: FormValues,
    name_of: Callable[[uuid.UUID | None], str],
    *,
    baseline: FormValues | None = None,
) -> list[FieldConflict]:
    """Each field changed by someone else since the form opened on ``opened``, theirs beside the form's value.
    A field is the agent's change where the form differs from ``baseline`` (by default what it opened with)."""
    if opened is None or latest is None:
        return []
    theirs = FormValues.of(latest)
    before = FormValues.of(opened)
    changed = before.changed_fields(theirs)
    touched = (baseline or before).changed_fields(values)
    return [
        FieldConflict(
            name,
            _shown(name, getattr(theirs, name), name_of),
            _shown(name, getattr(values, name), name_of),
            getattr(theirs, name) == getattr(values, name),
            kept=name not in touched,
        )
        for name in FIELDS
        if name in changed
    ]


def theirs_value(latest: Ticket, field: str) -> Any:
    """``latest``'s value of a form field, as the form holds it."""
    return getattr(FormValues.of(latest), field)


_SHOWN_MAX = 60


def _shown(field: str, value: Any, name_of: Callable[[uuid.UUID | None], str]) -> str:
    if field == "assignee":
        return name_of(value) if value is not None else "unassigned"
    if field in ("status", "priority"):
        return str(value.value)
    if field in ("due_at", "tags"):
        return str(value) or "none"
    text = str(value)
    lines = text.splitlines() or [""]
    first = lines[0] if len(lines[0]) <= _SHOWN_MAX else lines[0][: _SHOWN_MAX - 1] + "…"
    more = f" (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
    return f"“{first}”{more}"
