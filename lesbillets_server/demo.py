"""Demo data for `serve --demo`: three users and a helpdesk's worth of tickets, only into an empty database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from lesbillets_server.auth import add_user
from lesbillets_server.board import Actor, Board
from lesbillets_server.storage import Store
from protocol.messages import CreateTicket, Priority, Role, Status, User

DEMO_USERS: tuple[tuple[str, str, str, Role], ...] = (
    ("alice@example.com", "Alice Martin", "alice", Role.AGENT),
    ("bob@example.com", "Bob Dubois", "bob", Role.AGENT),
    ("admin@example.com", "Camille Admin", "admin", Role.ADMIN),
)

_TITLES = (
    "Printer on 3rd floor jams on every duplex job",
    "VPN drops every 20 minutes from home",
    "Cannot log in to the expense portal after password reset",
    "Outlook search returns nothing older than a week",
    "New starter needs laptop and accounts by Monday",
    "Shared drive S: shows as disconnected",
    "Invoice PDF export cuts off the last line",
    "Wi-Fi in meeting room B is very slow",
    "Request: second monitor for accounting",
    "Phone system voicemail not forwarding to email",
    "Customer portal shows 500 on order history",
    "Two-factor codes arrive late by SMS",
    "Calendar invites from partners land in spam",
    "Laptop battery swells, replace before it fails",
    "Grant read access to the Q3 sales dashboard",
    "Website contact form sends no confirmation",
    "Badge reader at the loading dock rejects all cards",
    "Backup job failed twice on the file server",
    "Slack notifications missing on Android",
    "Licence renewal for the design suite",
    "Kitchen screen shows the wrong time zone",
    "Migrate old ticket attachments to new storage",
    "Password manager browser extension logs out hourly",
    "Payroll export has wrong decimal separator",
)
_DESCRIPTIONS = (
    "Reported by phone. Happens since this morning; restarting did not help.",
    "Several people on the team see the same thing. Screenshots in the shared folder.",
    "Customer is waiting on this; please keep them updated by email.",
    "Low impact but annoying. Workaround: use the web version for now.",
    "Steps: open the app, go to Settings, press Sync. Error appears after ~5 seconds.",
)


async def seed_demo(store: Store) -> list[tuple[User, str]] | None:
    """Create the demo users and tickets when the database is empty; None when it was not."""
    if await store.list_users() or (await store.load()).tickets:
        return None
    users = [
        (await add_user(store, email, name, password, role), password) for email, name, password, role in DEMO_USERS
    ]
    agents = [user for user, _ in users]
    board = Board([], {}, lock_ttl=timedelta(seconds=1), max_locks=0)
    rng = random.Random(7)  # the same demo every time
    now = datetime.now(UTC)
    tickets = []
    for index, title in enumerate(_TITLES):
        author = rng.choice(agents)
        request = CreateTicket(
            rid=0,
            title=title,
            description=rng.choice(_DESCRIPTIONS),
            status=rng.choice([Status.OPEN, Status.OPEN, Status.BLOCKED, Status.CLOSED]),
            priority=rng.choice(list(Priority)),
            assignee=rng.choice([None, *(u.id for u in agents)]),
        )
        moment = now - timedelta(minutes=(len(_TITLES) - index) * 37)
        tickets.append(board.create(request, Actor(user=author, session_id=""), moment))
    await store.create_tickets(tickets, now)
    return users
