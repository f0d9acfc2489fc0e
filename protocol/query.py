"""The query language of the app's filter and the server's search, parsed without any I/O.

    printer jam status:open priority:high,urgent assignee:me locked tag:vpn #1042

Plain words (or "quoted phrases") are what is searched for: the app's filter looks for each in the title or
description, ignoring case; the server's search looks them up in its full-text index (titles, descriptions and
comments). ``key:value`` narrows: ``status:`` and ``priority:`` take one or more comma-separated values (a unique
prefix is enough, so the filter works while it is being typed); ``assignee:`` takes ``me``, ``none`` or the start
of an agent's name or email; ``tag:`` takes whole tags. ``locked`` and ``unlocked`` keep tickets with or without a
lock, ``#1042`` the ticket numbered 1042. Different keys must all hold; the values of one key (and several
``#numbers``) are alternatives.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from protocol.messages import RID_MAX, Priority, Status, Ticket, User
from protocol.rows import TableRow

_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_NUMBER = re.compile(r"#([1-9][0-9]{0,15})")
_TAG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class Filter:
    """What a ticket must satisfy to be shown; the empty filter shows everything."""

    words: tuple[str, ...] = ()
    """Casefolded; each must occur in the title or description."""
    statuses: frozenset[Status] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    assignees: frozenset[uuid.UUID | None] | None = None
    """``None``: any assignee; otherwise the accepted ids, with ``None`` standing for unassigned."""
    locked: bool | None = None
    tags: frozenset[str] = frozenset()
    """A ticket with any of these tags passes."""
    numbers: frozenset[int] = frozenset()
    """A ticket with any of these numbers passes."""

    @property
    def is_empty(self) -> bool:
        return self == _EMPTY

    def matches(self, ticket: Ticket | TableRow, haystack: str) -> bool:
        """Whether ``ticket`` passes; ``haystack`` is its casefolded title and description (see `haystack`)."""
        if self.statuses and ticket.status not in self.statuses:
            return False
        if self.priorities and ticket.priority not in self.priorities:
            return False
        if self.assignees is not None and ticket.assignee not in self.assignees:
            return False
        if self.locked is not None and (ticket.lock is not None) != self.locked:
            return False
        if self.tags and self.tags.isdisjoint(ticket.tags):
            return False
        if self.numbers and ticket.number not in self.numbers:
            return False
        return all(word in haystack for word in self.words)


_EMPTY = Filter()


def haystack(ticket: Ticket) -> str:
    """The text plain words are searched in."""
    return f"{ticket.title}\n{ticket.description}".casefold()


@dataclass(frozen=True)
class ParsedQuery:
    filter: Filter
    errors: tuple[str, ...] = field(default=())
    """Sentences about the parts that were not understood (and so were ignored)."""


def parse_query(text: str, *, me: uuid.UUID | None = None, users: Iterable[User] = ()) -> ParsedQuery:
    """Parse the filter box; never raises: what cannot be understood is reported in ``errors`` and ignored."""
    words: list[str] = []
    statuses: set[Status] = set()
    priorities: set[Priority] = set()
    assignees: set[uuid.UUID | None] | None = None
    locked: bool | None = None
    tags: set[str] = set()
    numbers: set[int] = set()
    errors: list[str] = []
    user_list = list(users)

    for match in _TOKEN.finditer(text):
        phrase, token = match.group(1), match.group(2)
        if phrase is not None:
            if phrase.strip():
                words.append(phrase.casefold())
            continue
        lowered = token.casefold()
        if lowered in ("locked", "unlocked"):
            locked = lowered == "locked"
            continue
        number = _NUMBER.fullmatch(lowered)
        if number is not None and int(number.group(1)) <= RID_MAX:
            numbers.add(int(number.group(1)))
            continue
        key, sep, value = lowered.partition(":")
        if not sep or key not in ("status", "priority", "assignee", "tag"):
            words.append(lowered)
            continue
        for part in filter(None, value.split(",")):
            if key == "status":
                _add_enum(Status, part, statuses, "status", errors)
            elif key == "priority":
                _add_enum(Priority, part, priorities, "priority", errors)
            elif key == "tag":
                if _TAG.fullmatch(part):
                    tags.add(part)
                else:
                    errors.append(f"“{part}” is not a tag: tags are lowercase letters and digits, with . _ - inside.")
            else:
                found = _assignees(part, me, user_list)
                if found is None:
                    errors.append(f"No agent matches “{part}”.")
                else:
                    assignees = (assignees or set()) | found

    return ParsedQuery(
        Filter(
            words=tuple(words),
            statuses=frozenset(statuses),
            priorities=frozenset(priorities),
            assignees=None if assignees is None else frozenset(assignees),
            locked=locked,
            tags=frozenset(tags),
            numbers=frozenset(numbers),
        ),
        tuple(errors),
    )


def _add_enum(enum: type[E], value: str, into: set[E], label: str, errors: list[str]) -> None:
    candidates = [member for member in enum if member.value.startswith(value)]
    if len(candidates) == 1:
        into.add(candidates[0])
        return
    exact = [member for member in candidates if member.value == value]
    if exact:
        into.add(exact[0])
        return
    choices = ", ".join(member.value for member in enum)
    errors.append(f"Unknown {label} “{value}”: use one of {choices}.")


def _assignees(value: str, me: uuid.UUID | None, users: list[User]) -> set[uuid.UUID | None] | None:
    if value == "none":
        return {None}
    if value == "me":
        return {me} if me is not None else None
    found: set[uuid.UUID | None] = {
        user.id for user in users if user.name.casefold().startswith(value) or user.email.casefold().startswith(value)
    }
    return found or None
