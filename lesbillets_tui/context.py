"""What screens may use of the running app, by name: the `Desk`.

Screens get the desk in their constructor instead of casting `self.app` to the app class (which made `app.py`
and `screens/` import each other). It holds the ticket table's model, the protocol client while a session is up,
who is logged in, the lock lease and the clock; and the session's drafts and presence. Only the app sets its fields;
screens read them, call the client from their own workers, keep their drafts in ``drafts`` and claim the ticket
they show in ``here``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lesbillets_tui.drafts import Drafts
from lesbillets_tui.inbox import InboxModel
from lesbillets_tui.presence import OwnPresence, PresenceBoard
from lesbillets_tui.table_model import TableModel
from lesbillets_tui.timefmt import Clock, utc_now
from protocol.client import Client, ConnectionState
from protocol.messages import Role, User


@dataclass(eq=False)
class Desk:
    model: TableModel = field(default_factory=TableModel)
    now: Clock = utc_now
    client: Client | None = None
    """The link worker's client while connected (None between sessions)."""
    user: User | None = None
    lock_ttl_s: float = 180.0
    connection_state: ConnectionState = ConnectionState.CONNECTING
    drafts: Drafts = field(default_factory=Drafts)
    """Unsent comments and edits per ticket, for the whole session (screens write them, keystroke by keystroke)."""
    presence: PresenceBoard = field(default_factory=PresenceBoard)
    """Who has which ticket open (the app keeps it current)."""
    here: OwnPresence = field(default_factory=OwnPresence)
    """What this app has open: screens claim and release tickets; the app reports it to the server."""
    inbox: InboxModel = field(default_factory=InboxModel)
    """The agent's inbox (assignments, mentions, broken locks), kept live by the app."""

    @property
    def admin(self) -> bool:
        """The agent logged in is an admin: the admin's keys, commands and help show."""
        return self.user is not None and self.user.role is Role.ADMIN
