"""The Textual app: screens on top, one long-lived link worker underneath.

The link worker owns the protocol `Client`: it connects, logs in (or resumes a remembered session), then
turns everything `client.events()` yields into messages for the app. The app keeps the ticket table's
`TableModel` and forwards each change to the screens on the stack. Screens that need the network (lock,
save, create) call the client from short workers of their own; widgets never touch it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Literal

from textual import work
from textual.app import App, SystemCommand
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen

from lesbillets_tui.messages import (
    ConnectionStateChanged,
    LinkChanged,
    ServerEventReceived,
    SessionFailed,
    SessionOpened,
    SnapshotReceived,
    TableReloaded,
    TicketChanged,
    UsersReceived,
)
from lesbillets_tui.safe_text import safe_block, safe_line
from lesbillets_tui.screens.login import LoginScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.session_store import DEFAULT_URL, SessionStore
from lesbillets_tui.table_model import TableModel
from lesbillets_tui.timefmt import Clock, utc_now
from protocol.client import Client, ConnectionChanged, ConnectionState, connect
from protocol.errors import LesBilletsError, Unauthorized
from protocol.messages import AllTickets, TicketCreated, TicketUpdated, User

log = logging.getLogger(__name__)

TOKEN_REJECTED = "Your saved session has expired; please log in again."


class LesBilletsApp(App[None]):
    """Les Billets for agents: log in, watch the live table, lock and edit tickets."""

    TITLE = "Les Billets"
    CSS_PATH = "app.tcss"

    def __init__(
        self,
        url: str | None = None,
        *,
        email: str | None = None,
        password: str | None = None,
        store: SessionStore | None = None,
        now: Clock = utc_now,
        autoconnect: bool = True,
        encoding: Literal["json", "msgpack"] = "json",
    ) -> None:
        super().__init__()
        self.store = store
        self.url = url or (store.last_url if store is not None else None) or DEFAULT_URL
        saved = store.get(self.url) if store is not None else None
        self.email = email or (saved.email if saved is not None else "")
        self._password = password
        self.now = now
        self.autoconnect = autoconnect
        self.encoding = encoding
        self.model = TableModel()
        self.client: Client | None = None
        self.user: User | None = None
        self.lock_ttl_s = 180.0
        self.connection_state = ConnectionState.CONNECTING
        self.tickets_screen: TicketsScreen | None = None
        self._users_requested = False
        self.synced = False
        """Whether the model reflects the server: a snapshot arrived and the link has not dropped since."""

    # --- start-up and login --------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(LoginScreen(self.url, self.email))
        if self.autoconnect:
            self._auto_login()

    def _auto_login(self) -> None:
        saved = self.store.get(self.url) if self.store is not None else None
        if saved is not None and saved.token and (not self.email or self.email == saved.email):
            self.start_session(self.url, saved.email, token=saved.token)
        elif self.email and self._password:
            password, self._password = self._password, None
            self.start_session(self.url, self.email, password=password)

    def start_session(self, url: str, email: str, *, password: str | None = None, token: str | None = None) -> None:
        """Connect and log in (with a password) or resume (with a token); the outcome comes back as a message."""
        self.url, self.email = url, email
        if isinstance(self.screen, LoginScreen):
            self.screen.set_busy(f"Connecting to {url}…")
        self.run_link(url, email, password, token)

    @work(exclusive=True, exit_on_error=False, group="link", name="link")
    async def run_link(self, url: str, email: str, password: str | None, token: str | None) -> None:
        """The one task that reads from the server, for as long as the session lasts."""
        try:
            async with connect(url, encoding=self.encoding) as client:
                try:
                    welcome = await (client.resume(token) if token else client.login(email, password or ""))
                except Unauthorized as exc:
                    self.post_message(SessionFailed(TOKEN_REJECTED if token else str(exc), token_rejected=bool(token)))
                    return
                self.client = client
                self.post_message(SessionOpened(url, welcome, email))
                users = await client.get_users()
                self.post_message(UsersReceived(users))
                await client.get_tickets()  # the snapshot also arrives through events(), in stream order
                async for item in client.events():
                    if isinstance(item, AllTickets):
                        self.post_message(SnapshotReceived(item))
                    elif isinstance(item, ConnectionChanged):
                        self.post_message(LinkChanged(item.state, item.reason))
                        if item.state is ConnectionState.CLOSED:
                            reason = item.reason or "The connection to the server was closed."
                            ended = client.session_ended is not None  # its token is worthless now: forget it
                            self.post_message(SessionFailed(reason, token_rejected=ended))
                    else:
                        self.post_message(ServerEventReceived(item))
        except LesBilletsError as exc:
            self.post_message(SessionFailed(str(exc)))
        except OSError as exc:  # anything the client did not already turn into a sentence
            self.post_message(SessionFailed(f"Could not talk to {url}: {exc.strerror or exc}."))
        finally:
            self.client = None

    @work(exclusive=True, exit_on_error=False, group="users")
    async def refresh_users(self) -> None:
        client = self.client
        if client is None:
            return
        try:
            self.post_message(UsersReceived(await client.get_users()))
        except LesBilletsError as exc:
            log.info("could not refresh the user directory: %s", exc)
        finally:
            self._users_requested = False

    # --- what the link worker reports ------------------------------------------------------

    def on_session_opened(self, message: SessionOpened) -> None:
        welcome = message.welcome
        self.user = welcome.user
        self.lock_ttl_s = welcome.lock_ttl_s
        self.url, self.email = message.url, message.email
        self.model.me = welcome.user.id
        if self.store is not None:
            self.store.remember(message.url, message.email, welcome.token)
        self.sub_title = f"{safe_line(welcome.user.name)} · {message.url}"
        self._set_connection(ConnectionState.CONNECTED, None)
        if self.tickets_screen is None:
            self.tickets_screen = TicketsScreen()
            self.switch_screen(self.tickets_screen)
        elif isinstance(self.screen, LoginScreen):
            self.pop_screen()

    def on_session_failed(self, message: SessionFailed) -> None:
        if message.token_rejected and self.store is not None:
            self.store.forget_token(self.url)
        self._set_connection(ConnectionState.CLOSED, message.message)
        if isinstance(self.screen, LoginScreen):
            self.screen.show_error(message.message)
        elif self.tickets_screen is not None:
            # Keep every open form: the agent logs in again on top of them (ctrl+l on the login screen).
            self.notify(f"{message.message} Press L to log in again.", severity="error", timeout=10, markup=False)

    def on_users_received(self, message: UsersReceived) -> None:
        self.model.set_users(message.users)
        self._broadcast(TableReloaded)

    def on_snapshot_received(self, message: SnapshotReceived) -> None:
        self.model.load(message.snapshot.tickets)
        self.synced = True
        self._broadcast(TableReloaded)

    def on_server_event_received(self, message: ServerEventReceived) -> None:
        event = message.event
        ticket = self.model.apply(event)
        ticket_id = event.ticket.id if isinstance(event, TicketCreated | TicketUpdated) else event.ticket_id
        self._broadcast(lambda: TicketChanged(ticket_id, ticket, event))
        if (
            ticket is not None
            and not self._users_requested
            and self._has_unknown_user(ticket.assignee, ticket.created_by)
        ):
            self._users_requested = True
            self.refresh_users()

    def on_link_changed(self, message: LinkChanged) -> None:
        self._set_connection(message.state, message.reason)

    def _set_connection(self, state: ConnectionState, reason: str | None) -> None:
        self.connection_state = state
        if state is not ConnectionState.CONNECTED:
            self.synced = False
        self._broadcast(lambda: ConnectionStateChanged(state, reason))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """As Textual's, with control characters drawn as symbols: notifications quote titles, names, the server."""
        super().notify(safe_block(message), title=safe_line(title), severity=severity, timeout=timeout, markup=markup)

    def _has_unknown_user(self, *user_ids: object) -> bool:
        return any(user_id is not None and user_id not in self.model.users for user_id in user_ids)

    def _broadcast(self, make: Callable[[], Message]) -> None:
        """Post a fresh message to every screen on the stack (forms under a dialog stay up to date too)."""
        for screen in self.screen_stack:
            screen.post_message(make())

    # --- actions -------------------------------------------------------------------

    def action_login_again(self) -> None:
        if not isinstance(self.screen, LoginScreen):
            self.push_screen(LoginScreen(self.url, self.email))

    def action_logout(self) -> None:
        self._logout()

    @work(exclusive=True, exit_on_error=False, group="logout")
    async def _logout(self) -> None:
        client = self.client
        if client is not None:
            try:
                await client.logout()
            except LesBilletsError as exc:
                log.info("logout was not acknowledged: %s", exc)
        self.workers.cancel_group(self, "link")
        if self.store is not None:
            self.store.forget_token(self.url)
        self.user = None
        self.tickets_screen = None
        self.model.load([])
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen(self.url, self.email))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, TicketsScreen):
            yield from screen.commands()
        if self.user is not None:
            yield SystemCommand("Log out", "End this session and forget its saved token", self.action_logout)
