"""Deterministic bench data, written straight into a store before the server loads it.

Users, sessions and tickets are derived from their index alone, so the launcher (which seeds) and the clients
(which need tokens and ticket ids) agree without passing anything but two counts. One real argon2 hash is
computed once and shared, so seeding 1,000 users takes milliseconds and any of them can still log in.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

from lesbillets_server.auth import hash_password, token_hash
from lesbillets_server.storage import Store
from lesbillets_server.storage.records import SessionRecord
from protocol.messages import Priority, Role, Status, Ticket, User

PASSWORD: Final = "bench-password"
_USER_BASE: Final = 1 << 64
_EPOCH: Final = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

_TITLES: Final = (
    "Printer on 3rd floor jams on every duplex job",
    "VPN drops every 20 minutes from home",
    "Cannot log in to the expense portal after password reset",
    "Outlook search returns nothing older than a week",
    "Customer portal shows 500 on order history",
    "Backup job failed twice on the file server",
    "Two-factor codes arrive late by SMS",
    "Payroll export has wrong decimal separator",
)
_DESCRIPTIONS: Final = (
    "Reported by phone. Happens since this morning; restarting did not help.",
    "Several people on the team see the same thing. Screenshots in the shared folder.",
    "Customer is waiting on this; please keep them updated by email.",
    "Steps: open the app, go to Settings, press Sync. Error appears after ~5 seconds.",
)
_STATUSES: Final = (Status.OPEN, Status.OPEN, Status.BLOCKED, Status.CLOSED)
_PRIORITIES: Final = tuple(Priority)


def user_id(index: int) -> uuid.UUID:
    return uuid.UUID(int=_USER_BASE + index)


def user(index: int) -> User:
    return User(id=user_id(index), email=email(index), name=f"Agent {index:05d}", role=Role.AGENT)


def email(index: int) -> str:
    return f"agent{index:05d}@bench.example"


def token(index: int) -> str:
    """The session token of user `index` (bench only: predictable on purpose)."""
    return f"bench-session-token-{index:05d}-0123456789abcdef0123456789abcdef"


def ticket_id(index: int) -> uuid.UUID:
    return uuid.UUID(int=index + 1)


def ticket_number(index: int) -> int:
    """The number the database gives ticket `index` when seeded into an empty database (in creation order)."""
    return index + 1


def ticket(index: int, users: int) -> Ticket:
    """A realistic ticket (a helpdesk title, a sentence of description, an assignee on half of them), with the
    number the store gives it."""
    moment = _EPOCH + timedelta(seconds=index)
    author = user_id(index % users)
    return Ticket(
        id=ticket_id(index),
        title=f"{_TITLES[index % len(_TITLES)]} (#{index})",
        description=_DESCRIPTIONS[index % len(_DESCRIPTIONS)],
        status=_STATUSES[index % len(_STATUSES)],
        priority=_PRIORITIES[index % len(_PRIORITIES)],
        assignee=user_id((index * 7) % users) if index % 2 else None,
        created_at=moment,
        created_by=author,
        updated_at=moment,
        updated_by=author,
        version=1,
        number=ticket_number(index),
    )


def tickets(count: int, users: int) -> list[Ticket]:
    return [ticket(index, users) for index in range(count)]


async def seed(store: Store, *, users: int, tickets_count: int) -> None:
    """Add `users` users, one open session each (token `token(i)`), and `tickets_count` tickets (numbered 1 to
    `tickets_count` by the store, as `ticket_number` says, when the database had none)."""
    password_hash = hash_password(PASSWORD)
    expires = datetime.now(UTC) + timedelta(days=1)
    for index in range(users):
        await store.add_user(user(index), password_hash)
        session = SessionRecord(id=f"bench-session-{index:05d}", user_id=user_id(index), expires_at=expires)
        await store.add_session(session, token_hash(token(index)))
    if tickets_count:
        await store.create_tickets(tickets(tickets_count, max(users, 1)), datetime.now(UTC))
