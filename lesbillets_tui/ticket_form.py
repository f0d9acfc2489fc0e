"""What the ticket form holds, sans I/O: its values, what changed, and whether it can be sent.

The editor screen reads its widgets into a `FormValues`; everything it then decides about those values (is the
form valid, which fields does an update send, what did someone else change meanwhile) lives here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from lesbillets_tui.safe_text import safe_block, safe_line
from protocol.messages import DESCRIPTION_MAX, TITLE_MAX, Description, Priority, Status, Ticket, Title

FIELDS = ("title", "description", "status", "priority", "assignee")
"""The fields the form edits, in the order sentences name them."""


@dataclass(frozen=True)
class FormValues:
    title: str
    description: str
    status: Status
    priority: Priority
    assignee: uuid.UUID | None

    @classmethod
    def of(cls, ticket: Ticket) -> FormValues:
        """The ticket as the form shows it: control characters from before the text rules drawn as symbols.

        The form's starting point is what the agent sees, so an untouched field is not sent back, and an
        edited one is sent as shown, which the text rules accept.
        """
        return cls(
            safe_line(ticket.title), safe_block(ticket.description), ticket.status, ticket.priority, ticket.assignee
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
    if not _follows(Title, values.title.strip()):
        return "The title cannot hold control characters (such as tab or escape) or bidirectional overrides."
    if not _follows(Description, values.description):
        return "The description cannot hold control characters other than newline and tab, or bidirectional overrides."
    return ""


def _follows(rule: object, text: str) -> bool:
    """Whether ``text`` passes a wire type's rule, so the form says what the server would refuse."""
    try:
        msgspec.convert(text, rule)
    except msgspec.ValidationError:
        return False
    return True


def update_changes(original: FormValues, values: FormValues) -> dict[str, Any]:
    """The fields an update sends: only those the agent changed, so a save over a conflict keeps theirs."""
    changes = original.changed_fields(values)
    if "title" in changes:
        changes["title"] = values.title.strip()
    return changes


def changed_by_others(
    opened: Ticket | None, latest: Ticket | None, base_version: int, name_of: Callable[[uuid.UUID | None], str]
) -> str:
    """A sentence about what changed since the form opened on ``opened``, or "" when nothing did."""
    if latest is None or opened is None or latest.version == base_version:
        return ""
    fields = [name for name in FIELDS if name in FormValues.of(opened).changed_fields(FormValues.of(latest))]
    what = ", ".join(fields) if fields else "nothing you can see"
    return f"{name_of(latest.updated_by)} changed this ticket since you opened it ({what})."
