"""The main screen: the live ticket table, the filter, a preview of the selected ticket and the status bar."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from lesbillets_tui.messages import ConnectionStateChanged, TableReloaded, TicketChanged
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.help import HelpScreen
from lesbillets_tui.screens.ticket_view import TicketViewScreen
from lesbillets_tui.timefmt import spoken_duration
from lesbillets_tui.widgets.filter_bar import FilterBar
from lesbillets_tui.widgets.status_bar import StatusBar
from lesbillets_tui.widgets.ticket_preview import TicketPreview
from lesbillets_tui.widgets.ticket_table import TicketTable
from protocol.client import ConnectionState
from protocol.errors import LesBilletsError, Locked
from protocol.messages import Ticket

if TYPE_CHECKING:
    from lesbillets_tui.app import LesBilletsApp

# (title, help, action) for the command palette; the same actions as the keys.
_COMMANDS = (
    ("Edit ticket", "Lock the selected ticket and edit it (e)", "edit"),
    ("New ticket", "Create a ticket (n)", "new"),
    ("View ticket", "Show the selected ticket in full (enter)", "view"),
    ("Filter tickets", "Type words, status:, priority:, assignee:me, locked (/)", "filter"),
    ("Clear filter", "Show every ticket again", "clear_filter"),
    ("Sort by next column", "Cycle the sort column (s)", "sort"),
    ("Reverse sort", "Flip the sort direction (S)", "reverse_sort"),
    ("Resync", "Fetch the whole table from the server again (r)", "resync"),
    ("Keys", "Show every key (?)", "help"),
)


class TicketsScreen(Screen[None]):
    """The live table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit"),
        Binding("n", "new", "New"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse"),
        Binding("r", "resync", "Resync"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("L", "login_again", "Log in again", show=False),
    ]

    @property
    def lb(self) -> LesBilletsApp:
        return cast("LesBilletsApp", self.app)

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def compose(self) -> ComposeResult:
        app = self.lb
        yield Header(icon="≡")
        yield FilterBar(id="filter")
        yield TicketTable(app.model, now=app.now, id="table")
        yield TicketPreview(app.model, now=app.now, id="preview")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self._reload()
        self._show_connection(self.lb.connection_state, None)

    # --- what the app forwards ------------------------------------------------------

    def on_table_reloaded(self, _message: TableReloaded) -> None:
        self._reload()

    def on_ticket_changed(self, _message: TicketChanged) -> None:
        self._reload()

    def on_connection_state_changed(self, message: ConnectionStateChanged) -> None:
        self._show_connection(message.state, message.reason)

    def _reload(self) -> None:
        self.table.model_changed()
        self._show_counts()

    def _show_counts(self) -> None:
        model = self.lb.model
        user = self.lb.user
        arrow = "▼" if model.sort.descending else "▲"
        self.query_one(StatusBar).show(
            user=user.name if user is not None else "",
            shown=len(model),
            total=model.total,
            sort=f"by {model.sort.column.value} {arrow}",
        )

    def _show_connection(self, state: ConnectionState, reason: str | None) -> None:
        self.table.stale = state is not ConnectionState.CONNECTED
        note = "" if state is ConnectionState.CONNECTED else (reason or "")
        self.query_one(StatusBar).show(state=state, note=note)

    # --- widgets' messages -------------------------------------------------------------

    def on_ticket_table_highlighted(self, message: TicketTable.Highlighted) -> None:
        self.query_one(TicketPreview).show_ticket(message.ticket)

    def on_ticket_table_opened(self, message: TicketTable.Opened) -> None:
        self._view(message.ticket)

    def on_filter_bar_changed(self, message: FilterBar.Changed) -> None:
        errors = self.lb.model.set_query(message.query)
        self.query_one(FilterBar).show_errors(errors)
        self._reload()

    def on_filter_bar_done(self, _message: FilterBar.Done) -> None:
        self.table.focus()

    # --- actions ----------------------------------------------------------------------

    def action_edit(self) -> None:
        ticket = self.table.cursor_ticket
        if ticket is not None:
            self.edit_ticket(ticket.id)

    def action_view(self) -> None:
        ticket = self.table.cursor_ticket
        if ticket is not None:
            self._view(ticket)

    def _view(self, ticket: Ticket) -> None:
        def then(edit: bool | None) -> None:
            if edit:
                self.edit_ticket(ticket.id)

        self.app.push_screen(TicketViewScreen(ticket.id), then)

    def action_new(self) -> None:
        def then(created: Ticket | None) -> None:
            if created is not None:
                self.table.select_ticket(created.id)

        self.app.push_screen(EditorScreen(None), then)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.input.value = ""  # posts Changed, which re-filters
        bar.action_done()

    def action_sort(self) -> None:
        self.lb.model.set_sort(self.lb.model.sort.next_column())
        self._reload()

    def action_reverse_sort(self) -> None:
        self.lb.model.set_sort(self.lb.model.sort.reversed())
        self._reload()

    def action_resync(self) -> None:
        self._resync()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_login_again(self) -> None:
        self.lb.action_login_again()

    async def action_quit(self) -> None:
        self.app.exit()

    def commands(self) -> Iterator[SystemCommand]:
        for title, help_text, action in _COMMANDS:
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))

    # --- network, in short workers ---------------------------------------------------------

    def edit_ticket(self, ticket_id: uuid.UUID) -> None:
        """Take the lock, then open the form; someone else's lock gets a notification and no form."""
        self._lock_and_edit(ticket_id)

    @work(exclusive=True, exit_on_error=False, group="lock")
    async def _lock_and_edit(self, ticket_id: uuid.UUID) -> None:
        client = self.lb.client
        if client is None:
            self.notify("Not connected to the server.", severity="error", markup=False)
            return
        try:
            ticket = await client.lock(ticket_id)
        except Locked as exc:
            self.notify(
                self._locked_sentence(ticket_id, exc), title="Locked", severity="warning", timeout=6, markup=False
            )
            return
        except LesBilletsError as exc:
            self.notify(str(exc), title="Cannot edit", severity="error", markup=False)
            return
        self.app.push_screen(EditorScreen(ticket))

    def _locked_sentence(self, ticket_id: uuid.UUID, exc: Locked) -> str:
        lock = exc.lock
        current = self.lb.model.get(ticket_id)
        if lock is None and current is not None:
            lock = current.lock
        if lock is None:
            return str(exc)
        left = spoken_duration((lock.expires_at - self.lb.now()).total_seconds())
        title = f"“{current.title}”" if current is not None else "This ticket"
        return f"{title} is being edited by {lock.user_name}; their lock ends in {left}."

    @work(exclusive=True, exit_on_error=False, group="resync")
    async def _resync(self) -> None:
        client = self.lb.client
        if client is None:
            self.notify("Not connected to the server.", severity="error", markup=False)
            return
        try:
            await client.get_tickets()  # the snapshot reaches the table through the link worker
        except LesBilletsError as exc:
            self.notify(str(exc), title="Resync failed", severity="error", markup=False)
