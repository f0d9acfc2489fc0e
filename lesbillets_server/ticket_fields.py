"""The rules for the fields a client sets beside the text: due times, tags, and a quick change's fields.

Sans-I/O: plain functions of the request and the ticket. A value the rules refuse raises `Rejected`
(`bad_request`, with the field's path), before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from msgspec import UNSET, UnsetType

from lesbillets_server.errors import Rejected
from protocol.messages import TAGS_MAX, ChangeTickets, ErrorCode, Priority, Status, Ticket

DUE_FIRST_YEAR = 1970
DUE_LAST_YEAR = 9999


def normal_tags(tags: Iterable[str]) -> list[str]:
    """Each tag once, in the order first given (the `Tag` pattern already refused anything but plain words)."""
    return list(dict.fromkeys(tags))


def due_time(value: datetime | None, path: str = "$.due_at") -> datetime | None:
    """A due time as the server keeps it: in UTC. One without a time zone, or out of range, is refused."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise Rejected(
            ErrorCode.BAD_REQUEST,
            "A due time needs a time zone, as in 2026-11-24T17:00:00Z or 2026-11-24T18:00:00+01:00.",
            detail=path,
        )
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not DUE_FIRST_YEAR <= utc.year <= DUE_LAST_YEAR:
        raise Rejected(
            ErrorCode.BAD_REQUEST,
            f"A due time must fall between the years {DUE_FIRST_YEAR} and {DUE_LAST_YEAR}.",
            detail=path,
        )
    return utc


@dataclass(frozen=True, slots=True)
class QuickChange:
    """What a `ChangeTickets` does to each ticket, checked once for the whole request."""

    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    assignee: uuid.UUID | UnsetType | None = UNSET
    due_at: datetime | UnsetType | None = UNSET
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, request: ChangeTickets) -> QuickChange:
        both = sorted(set(request.add_tags) & set(request.remove_tags))
        if both:
            raise Rejected(
                ErrorCode.BAD_REQUEST,
                f"A tag cannot be both added and removed in one change: {', '.join(both)}.",
                detail="$.remove_tags",
            )
        change = cls(
            status=request.status,
            priority=request.priority,
            assignee=request.assignee,
            due_at=UNSET if request.due_at is UNSET else due_time(request.due_at),
            add_tags=tuple(normal_tags(request.add_tags)),
            remove_tags=tuple(normal_tags(request.remove_tags)),
        )
        if change == cls():
            raise Rejected(ErrorCode.BAD_REQUEST, "The change names no field to change.")
        return change

    def fields_for(self, ticket: Ticket) -> dict[str, Any]:
        """The fields of `ticket` this change makes different (empty: it already is as asked)."""
        wanted: dict[str, Any] = {
            name: value
            for name in ("status", "priority", "assignee", "due_at")
            if (value := getattr(self, name)) is not UNSET
        }
        if self.add_tags or self.remove_tags:
            removed = set(self.remove_tags)
            tags = [tag for tag in normal_tags([*ticket.tags, *self.add_tags]) if tag not in removed]
            if len(tags) > TAGS_MAX:
                raise Rejected(
                    ErrorCode.BAD_REQUEST,
                    f"The ticket would have {len(tags)} tags; a ticket may have at most {TAGS_MAX}.",
                    detail="$.add_tags",
                )
            wanted["tags"] = tags
        return {name: value for name, value in wanted.items() if getattr(ticket, name) != value}
