"""Textual messages shared between the app, its link worker and its screens.

The link worker (`LesBilletsApp.run_link`) is the only code that reads from the server; it turns what the
protocol client yields into the first group of messages, posted to the app. The app applies them to its
`TableModel` and forwards the second group to every screen on the stack.
"""

from __future__ import annotations

import uuid

from textual.message import Message

from protocol.client import ConnectionState
from protocol.messages import (
    AllTickets,
    Ticket,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    TicketUpdated,
    User,
    Welcome,
)

TicketEvent = TicketCreated | TicketUpdated | TicketLocked | TicketUnlocked

# --- from the link worker to the app -------------------------------------------------


class SessionOpened(Message):
    """Logged in (or resumed) on ``url``."""

    def __init__(self, url: str, welcome: Welcome, email: str) -> None:
        super().__init__()
        self.url = url
        self.welcome = welcome
        self.email = email


class SessionFailed(Message):
    """Could not connect or log in, or the session ended; ``message`` is a sentence for the agent."""

    def __init__(self, message: str, *, token_rejected: bool = False) -> None:
        super().__init__()
        self.message = message
        self.token_rejected = token_rejected


class SnapshotReceived(Message):
    """The whole table (first load, after a reconnect, after a gap, or on request)."""

    def __init__(self, snapshot: AllTickets, users: list[User] | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.users = users


class ServerEventReceived(Message):
    """One live change from the server."""

    def __init__(self, event: TicketEvent) -> None:
        super().__init__()
        self.event = event


class LinkChanged(Message):
    """The protocol client's connection went up or down."""

    def __init__(self, state: ConnectionState, reason: str | None) -> None:
        super().__init__()
        self.state = state
        self.reason = reason


class UsersReceived(Message):
    def __init__(self, users: list[User]) -> None:
        super().__init__()
        self.users = users


# --- from the app to the screens (they do not bubble back up to the app) ---------------------


class ConnectionStateChanged(Message):
    """The link went up or down; ``reason`` is a sentence (or None)."""

    bubble = False

    def __init__(self, state: ConnectionState, reason: str | None) -> None:
        super().__init__()
        self.state = state
        self.reason = reason


class TicketChanged(Message):
    """One ticket changed in the model (``ticket`` is how it now stands); ``event`` says how."""

    bubble = False

    def __init__(self, ticket_id: uuid.UUID, ticket: Ticket | None, event: TicketEvent) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.ticket = ticket
        self.event = event


class TableReloaded(Message):
    """The model was replaced by a snapshot (or the user directory changed)."""

    bubble = False
