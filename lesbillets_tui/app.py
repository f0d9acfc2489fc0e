"""The Textual app: screens on top, one long-lived link worker underneath.

The link worker owns the protocol `Client`: it connects, logs in (or resumes a remembered session), then
turns everything `client.events()` yields into messages for the app. The app keeps the `Desk` (the table's
`TableModel`, the client, who is logged in), hands it to the screens it makes and forwards each change to the
screens on the stack. Screens that need the network (lock, save, create) call the desk's client from short
workers of their own; what only the app may do (log in, log in again) they ask for with a message. Widgets
never touch the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Literal

from textual import work
from textual.app import App, SystemCommand
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen

from lesbillets_tui.context import Desk
from lesbillets_tui.gcpause import CollectorPause
from lesbillets_tui.inbox import headline
from lesbillets_tui.messages import (
    CommentChanged,
    CommentEventReceived,
    ConnectionStateChanged,
    InboxNoticeReceived,
    InboxReceived,
    InboxUpdated,
    LinkChanged,
    LoginAgainRequested,
    LoginRequested,
    PresenceReceived,
    RowsReceived,
    ServerEventReceived,
    SessionFailed,
    SessionOpened,
    SnapshotReceived,
    TableReloaded,
    TicketChanged,
    UsersReceived,
    ViewersChanged,
)
from lesbillets_tui.safe_text import safe_block, safe_line
from lesbillets_tui.save_dir import screenshot_directory
from lesbillets_tui.screens.login import LoginScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.session_store import DEFAULT_URL, SessionStore
from lesbillets_tui.table_model import FIRST_ROWS
from lesbillets_tui.timefmt import Clock, utc_now
from protocol.client import ConnectionChanged, ConnectionState, connect
from protocol.errors import LesBilletsError, Unauthorized
from protocol.messages import (
    AllTickets,
    CommentAdded,
    CommentEdited,
    InboxChanged,
    PresenceChanged,
    Rows,
    TicketCreated,
    TicketEvent,
    TicketPresence,
    TicketUpdated,
)
from protocol.rows import RowsLoad, expand

log = logging.getLogger(__name__)

TOKEN_REJECTED = "Your saved session has expired; please log in again."
PAINT_WAIT_S = 1.0
"""The longest the link worker waits for the first page to be painted before it merges the next."""


async def _within(awaitable: Awaitable[object], seconds: float) -> None:
    """Wait for ``awaitable``, or ``seconds`` at most."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await awaitable


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
        bell: bool = False,
    ) -> None:
        super().__init__()
        self.store = store
        self.url = url or (store.last_url if store is not None else None) or DEFAULT_URL
        saved = store.get(self.url) if store is not None else None
        self.email = email or (saved.email if saved is not None else "")
        self._password = password
        self.autoconnect = autoconnect
        self.encoding = encoding
        self.desk = Desk(now=now)
        """What screens may use of the app (give it to a screen's constructor rather than cast `self.app`)."""
        self.desk.here.on_change = self._presence_wanted
        self.tickets_screen: TicketsScreen | None = None
        self._users_requested = False
        self._reporting_presence = False
        self.synced = False
        """Whether the model reflects the server: a snapshot arrived and the link has not dropped since."""
        self.inbox_bell = bell
        """Ring the terminal bell when an item lands in the inbox (off unless asked for: offices are shared)."""

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
        pause = CollectorPause()
        try:
            async with connect(url, encoding=self.encoding) as client:
                try:
                    welcome = await (client.resume(token) if token else client.login(email, password or ""))
                except Unauthorized as exc:
                    self.post_message(
                        SessionFailed(
                            TOKEN_REJECTED if token else str(exc), token_rejected=bool(token), refused=not token
                        )
                    )
                    return
                self.desk.client = client
                self.post_message(SessionOpened(url, welcome, email))
                # The table as rows, the newest first: their pages arrive through events(), in stream order.
                users, _ = await asyncio.gather(client.get_users(), client.get_rows(FIRST_ROWS))
                self.post_message(UsersReceived(users))
                load = RowsLoad()
                async for item in client.events():
                    if isinstance(item, Rows):
                        fresh = load.take(item)
                        if fresh:
                            pause.start()
                        # On a first load the next page waits until the first is on screen: queued pages would
                        # otherwise be expanded and merged back to back, and the table painted after the last.
                        shown = asyncio.Event() if fresh and not self.desk.model.loaded else None
                        rows = expand(item)
                        self.post_message(RowsReceived(rows, fresh=fresh, complete=load.complete, shown=shown))
                        await (_within(shown.wait(), PAINT_WAIT_S) if shown else asyncio.sleep(0))
                        if load.complete:
                            pause.end()
                    elif isinstance(item, AllTickets):
                        self.post_message(SnapshotReceived(item))
                    elif isinstance(item, ConnectionChanged):
                        pause.end()  # a load cut short by the link (a fresh one comes with the reconnect)
                        self.post_message(LinkChanged(item.state, item.reason))
                        if item.state is ConnectionState.CLOSED:
                            reason = item.reason or "The connection to the server was closed."
                            ended = client.session_ended is not None  # its token is worthless now: forget it
                            self.post_message(SessionFailed(reason, token_rejected=ended))
                    elif isinstance(item, TicketEvent):
                        self.post_message(ServerEventReceived(item))
                    elif isinstance(item, CommentAdded | CommentEdited):
                        self.post_message(CommentEventReceived(item))
                    elif isinstance(item, InboxChanged):
                        self.post_message(InboxNoticeReceived(item))
                    elif isinstance(item, PresenceChanged):
                        presence = TicketPresence(ticket_id=item.ticket_id, viewers=item.viewers)
                        self.post_message(PresenceReceived([presence], complete=False))
        except LesBilletsError as exc:
            self.post_message(SessionFailed(str(exc)))
        except OSError as exc:  # anything the client did not already turn into a sentence
            self.post_message(SessionFailed(f"Could not talk to {url}: {exc.strerror or exc}."))
        finally:
            pause.end()
            self.desk.client = None

    @work(exclusive=True, exit_on_error=False, group="users")
    async def refresh_users(self) -> None:
        client = self.desk.client
        if client is None:
            return
        try:
            self.post_message(UsersReceived(await client.get_users()))
        except LesBilletsError as exc:
            log.info("could not refresh the user directory: %s", exc)
        finally:
            self._users_requested = False

    @work(exclusive=True, exit_on_error=False, group="presence-get")
    async def refresh_presence(self) -> None:
        """Who has which ticket open (at login and after a reconnect: notices are not replayed)."""
        client = self.desk.client
        if client is None:
            return
        try:
            tickets = await client.get_presence()
        except LesBilletsError as exc:
            log.info("could not read who has which ticket open: %s", exc)
            return
        self.post_message(PresenceReceived(tickets, complete=True))

    def _presence_wanted(self) -> None:
        if not self._reporting_presence:
            self._report_presence()

    @work(exit_on_error=False, group="presence-set")
    async def _report_presence(self) -> None:
        """Tell the server what the screens have open, until it knows the newest claim (one request at a time)."""
        self._reporting_presence = True
        try:
            while (client := self.desk.client) is not None and (here := self.desk.here.to_send()) is not None:
                await client.set_presence(here.ticket_id, editing=here.editing)
                self.desk.here.mark_sent(here)
        except LesBilletsError as exc:
            log.info("could not report presence: %s", exc)
        finally:
            self._reporting_presence = False

    @work(exclusive=True, exit_on_error=False, group="inbox")
    async def refresh_inbox(self) -> None:
        """Fetch the whole inbox: at login, after a reconnect (notices may have been missed), after a read elsewhere."""
        client = self.desk.client
        if client is None:
            return
        try:
            self.post_message(InboxReceived(await client.get_inbox()))
        except LesBilletsError as exc:  # a server without an inbox, or the link dropped: the next connect retries
            log.info("could not fetch the inbox: %s", exc)

    # --- what the link worker reports ------------------------------------------------------

    def on_session_opened(self, message: SessionOpened) -> None:
        welcome = message.welcome
        self.desk.user = welcome.user
        self.desk.lock_ttl_s = welcome.lock_ttl_s
        self.url, self.email = message.url, message.email
        self.desk.model.me = welcome.user.id
        if self.store is not None:
            self.store.remember(message.url, message.email, welcome.token)
        self.sub_title = f"{safe_line(welcome.user.name)} · {message.url}"
        self._set_connection(ConnectionState.CONNECTED, None)
        self._after_connect()
        if self.tickets_screen is None:
            self.tickets_screen = TicketsScreen(self.desk)
            self.switch_screen(self.tickets_screen)
        elif isinstance(self.screen, LoginScreen):
            self.pop_screen()

    def on_login_requested(self, message: LoginRequested) -> None:
        self.start_session(message.url, message.email, password=message.password)

    def on_login_again_requested(self, _message: LoginAgainRequested) -> None:
        self.action_login_again()

    def on_session_failed(self, message: SessionFailed) -> None:
        if message.token_rejected and self.store is not None:
            self.store.forget_token(self.url)
        self._set_connection(ConnectionState.CLOSED, message.message)
        if isinstance(self.screen, LoginScreen):
            self.screen.show_error(message.message, refused=message.refused)
        elif self.tickets_screen is not None:
            # Keep every open form: the agent logs in again on top of them (ctrl+l on the login screen).
            self.notify(f"{message.message} Press L to log in again.", severity="error", timeout=10, markup=False)

    def on_users_received(self, message: UsersReceived) -> None:
        self.desk.model.set_users(message.users)
        self._broadcast(TableReloaded)

    def on_snapshot_received(self, message: SnapshotReceived) -> None:
        self.desk.model.load(message.snapshot.tickets)
        self.synced = True
        self._broadcast(TableReloaded)

    async def on_rows_received(self, message: RowsReceived) -> None:
        if self.desk.model.receive(message.rows, fresh=message.fresh, complete=message.complete):
            self._broadcast(TableReloaded)
        if message.shown is not None:
            # queued behind the screen's TableReloaded: set once the table has been redrawn with these rows
            (self.tickets_screen or self.screen).call_after_refresh(message.shown.set)
        if message.complete:
            self.synced = True
        # Let the screens redraw before the next page: the app's queue would otherwise merge every queued page
        # (tens of milliseconds each with 100,000 rows) before the table paints the first.
        await asyncio.sleep(0)

    def on_server_event_received(self, message: ServerEventReceived) -> None:
        event = message.event
        ticket = self.desk.model.apply(event)
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
        if message.state is ConnectionState.CONNECTED and self.desk.model.loaded and not self.desk.model.reloading:
            # the client resumed the event stream: the table catches up from the missed events (or from the
            # fresh snapshot the client fetched first, when the server could not replay them)
            self.synced = True
        if message.state is ConnectionState.CONNECTED:
            client = self.desk.client
            if client is not None and client.lock_ttl_s is not None:
                self.desk.lock_ttl_s = client.lock_ttl_s  # the server resumed on may lease locks for another time
            self._after_connect()

    def _after_connect(self) -> None:
        """A new connection knows nothing of this app's presence, and presence notices are not replayed."""
        self.desk.here.forget_sent()
        self._presence_wanted()
        self.refresh_presence()
        self.refresh_inbox()  # notices missed while away are in it

    def on_comment_event_received(self, message: CommentEventReceived) -> None:
        event = message.event
        comment = event.comment
        if isinstance(event, CommentAdded) and comment.author == self.desk.model.me:
            self.desk.drafts.arrived(comment.ticket_id, comment.body)  # a send whose reply was lost did arrive
        self._broadcast(lambda: CommentChanged(event))

    def on_presence_received(self, message: PresenceReceived) -> None:
        board = self.desk.presence
        if message.complete:
            board.load(message.tickets)
            self._broadcast(lambda: ViewersChanged(None))
            return
        for entry in message.tickets:
            board.apply(entry.ticket_id, entry.viewers)
            self._broadcast(partial(ViewersChanged, entry.ticket_id))

    def on_inbox_received(self, message: InboxReceived) -> None:
        self.desk.inbox.load(message.inbox)
        self._broadcast(InboxUpdated)

    def on_inbox_notice_received(self, message: InboxNoticeReceived) -> None:
        notice = message.notice
        new_item = self.desk.inbox.apply(notice)
        if notice.item is None and self.desk.inbox.loaded:
            self.refresh_inbox()  # read on another connection: which items, only the server knows
        if new_item is not None and not new_item.read:
            self.notify(headline(new_item), title="Inbox (i)", timeout=8, markup=False)
            if self.inbox_bell:
                self.bell()
        self._broadcast(lambda: InboxUpdated(new_item))

    def action_toggle_inbox_bell(self) -> None:
        self.inbox_bell = not self.inbox_bell
        self.notify(f"The bell rings for new inbox items: {'on' if self.inbox_bell else 'off'}.", markup=False)

    def _set_connection(self, state: ConnectionState, reason: str | None) -> None:
        self.desk.connection_state = state
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

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """As Textual's, into a folder that exists: Textual's default, ~/Downloads, is missing on many servers."""
        return super().deliver_screenshot(filename, path or str(screenshot_directory()), time_format)

    def _has_unknown_user(self, *user_ids: object) -> bool:
        return any(user_id is not None and user_id not in self.desk.model.users for user_id in user_ids)

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
        client = self.desk.client
        if client is not None:
            try:
                await client.logout()
            except LesBilletsError as exc:
                log.info("logout was not acknowledged: %s", exc)
        self.workers.cancel_group(self, "link")
        if self.store is not None:
            self.store.forget_token(self.url)
        self.desk.user = None
        self.tickets_screen = None
        self.desk.model.clear()
        self.desk.drafts.clear()  # the next person to log in is not shown them
        self.desk.presence.clear()
        self.desk.inbox.clear()
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(LoginScreen(self.url, self.email))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, TicketsScreen):
            yield from screen.commands()
        if self.desk.user is not None:
            bell = "off" if self.inbox_bell else "on"
            yield SystemCommand(
                f"Inbox bell: turn {bell}",
                "Ring the terminal bell when an item lands in the inbox",
                self.action_toggle_inbox_bell,
            )
            yield SystemCommand("Log out", "End this session and forget its saved token", self.action_logout)
