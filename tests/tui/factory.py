"""Deterministic tickets and users for tests that need data but no server (model, widgets, snapshots)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from protocol.messages import Lock, Priority, Role, Status, Ticket, User

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
ME = User(id=uuid.UUID(int=1), email="alice@example.com", name="Alice Martin", role=Role.AGENT)
BOB = User(id=uuid.UUID(int=2), email="bob@example.com", name="Bob Dubois", role=Role.AGENT)
ADMIN = User(id=uuid.UUID(int=3), email="admin@example.com", name="Camille Admin", role=Role.ADMIN)
USERS = [ME, BOB, ADMIN]

TITLES = (
    "Printer on 3rd floor jams on every duplex job",
    "VPN drops every 20 minutes from home",
    "Cannot log in to the expense portal",
    "Shared drive S: shows as disconnected",
    "Invoice PDF export cuts off the last line",
    "Wi-Fi in meeting room B is very slow",
    "Request: second monitor for accounting",
    "Phone voicemail not forwarding to email",
)


def make_ticket(
    n: int,
    *,
    title: str | None = None,
    description: str = "",
    status: Status = Status.OPEN,
    priority: Priority = Priority.NORMAL,
    assignee: uuid.UUID | None = None,
    created_by: uuid.UUID = BOB.id,
    updated_at: datetime | None = None,
    version: int = 1,
    lock: Lock | None = None,
) -> Ticket:
    """Ticket ``n``: id and number n+1000 (#1000), created n minutes after T0."""
    created = T0 + timedelta(minutes=n)
    return Ticket(
        id=uuid.UUID(int=1000 + n),
        number=1000 + n,
        title=title or f"Ticket {n}",
        description=description,
        status=status,
        priority=priority,
        assignee=assignee,
        created_at=created,
        created_by=created_by,
        updated_at=updated_at or created,
        updated_by=created_by,
        version=version,
        lock=lock,
    )


def many_tickets(count: int, *, seed: int = 7) -> list[Ticket]:
    """``count`` varied tickets, the same every run."""
    rng = random.Random(seed)
    tickets = []
    for n in range(count):
        holder = rng.random() < 0.1
        tickets.append(
            make_ticket(
                n,
                title=f"{TITLES[n % len(TITLES)]} #{n}",
                description=f"Reported by a customer. Case {n}.",
                status=rng.choice(list(Status)),
                priority=rng.choice(list(Priority)),
                assignee=rng.choice([None, ME.id, BOB.id]),
                lock=Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0 + timedelta(minutes=n, seconds=150))
                if holder
                else None,
            )
        )
    return tickets
