"""Textual messages shared between the app, its link worker and its screens.

The link worker (`LesBilletsApp.run_link`) is the only code that reads from the server; it turns what the
protocol client yields into the first group of messages, posted to the app. The app applies them to its
`TableModel` and forwards the second group to every screen on the stack.
"""

from __future__ import annotations

import asyncio
import uuid

from textual.message import Message

from protocol.client import ConnectionState
from protocol.messages import (
    AllTickets,
    CommentAdded,
    CommentEdited,
    Inbox,
    InboxChanged,
    InboxItem,
    TicketEvent,
    TicketPresence,
    User,
    Welcome,
)
from protocol.rows import TableRow

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

    def __init__(self, message: str, *, token_rejected: bool = False, refused: bool = False) -> None:
        super().__init__()
        self.message = message
        self.token_rejected = token_rejected
        self.refused = refused
        """The server refused the email or password of a `Login` (not an address or link that failed)."""


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
    """One ticket changed in the model (``ticket`` is its row as it now stands); ``event`` says how (a created or
    updated ticket's event carries it in full)."""

    bubble = False

    def __init__(self, ticket_id: uuid.UUID, ticket: TableRow | None, event: TicketEvent) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.ticket = ticket
        self.event = event


class TableReloaded(Message):
    """The model was replaced by a snapshot (or the user directory changed)."""

    bubble = False


# --- from the screens up to the app (screens ask; only the app starts and ends sessions) -------------------


class LoginRequested(Message):
    """The agent submitted the login form: connect to ``url`` and log in."""

    def __init__(self, url: str, email: str, password: str) -> None:
        super().__init__()
        self.url = url
        self.email = email
        self.password = password


class LoginAgainRequested(Message):
    """The agent asked for the login form on top of the open screens (after the session ended)."""


# --- the conversation and presence (issue 9): from the link worker to the app, then to the screens -------------


class CommentEventReceived(Message):
    """A comment was added or edited (a live event, in ``seq`` order with the ticket events)."""

    def __init__(self, event: CommentAdded | CommentEdited) -> None:
        super().__init__()
        self.event = event


class PresenceReceived(Message):
    """Who has tickets open: every ticket (``complete``, from `GetPresence`) or one (a `PresenceChanged`)."""

    def __init__(self, tickets: list[TicketPresence], *, complete: bool) -> None:
        super().__init__()
        self.tickets = tickets
        self.complete = complete


class CommentChanged(Message):
    """From the app to the screens: a comment was added or edited."""

    bubble = False

    def __init__(self, event: CommentAdded | CommentEdited) -> None:
        super().__init__()
        self.event = event


class ViewersChanged(Message):
    """From the app to the screens: who has ``ticket_id`` open changed (None: any ticket, after `GetPresence`)."""

    bubble = False

    def __init__(self, ticket_id: uuid.UUID | None) -> None:
        super().__init__()
        self.ticket_id = ticket_id


class RowsReceived(Message):
    """A page of the table from the link worker (`GetRows`): ``fresh`` for the first page of a load (the newest
    rows), ``complete`` for its last; ``shown``, if given, is set once the table has been redrawn with it."""

    def __init__(
        self, rows: list[TableRow], *, fresh: bool, complete: bool, shown: asyncio.Event | None = None
    ) -> None:
        super().__init__()
        self.rows = rows
        self.fresh = fresh
        self.complete = complete
        self.shown = shown


# --- the inbox (issue 9) ------------------------------------------------------------------------


class InboxReceived(Message):
    """From the link worker: the whole inbox (at login, after a reconnect, after a read on another connection)."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox


class InboxNoticeReceived(Message):
    """From the link worker: the server's `InboxChanged` notice."""

    def __init__(self, notice: InboxChanged) -> None:
        super().__init__()
        self.notice = notice


class InboxUpdated(Message):
    """To the screens: the desk's inbox changed; ``new_item`` is the item that just arrived, if one did."""

    bubble = False

    def __init__(self, new_item: InboxItem | None = None) -> None:
        super().__init__()
        self.new_item = new_item
