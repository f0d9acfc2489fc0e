"""The main screen: the live ticket table, the filter, a preview of the selected ticket and the status bar."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Header

from lesbillets_tui.context import Desk
from lesbillets_tui.messages import (
    ConnectionStateChanged,
    LoginAgainRequested,
    TableReloaded,
    TicketChanged,
    ViewersChanged,
)
from lesbillets_tui.number_filter import jump_number, number_notes
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.help import HelpScreen
from lesbillets_tui.screens.ticket_view import TicketViewScreen
from lesbillets_tui.screens.triage import TRIAGE_BINDINGS, TriageScreen
from lesbillets_tui.table_model import FIRST_ROWS, SortColumn
from lesbillets_tui.timefmt import spoken_duration
from lesbillets_tui.widgets.filter_bar import FilterBar
from lesbillets_tui.widgets.keys_footer import KeysFooter
from lesbillets_tui.widgets.search_strip import SearchStrip
from lesbillets_tui.widgets.status_bar import StatusBar
from lesbillets_tui.widgets.ticket_preview import TicketPreview
from lesbillets_tui.widgets.ticket_table import TicketTable
from protocol.client import ConnectionState
from protocol.errors import LesBilletsError, Locked
from protocol.messages import Ticket, TicketCreated, TicketUpdated
from protocol.rows import TableRow

PREVIEW_DELAY_S = 0.15
"""How long the cursor rests on a ticket before the preview fetches it in full (holding j sends no flood)."""

# (title, help, action) for the command palette; the same actions as the keys.
_COMMANDS = (
    ("Edit ticket", "Lock the selected ticket and edit it (e)", "edit"),
    ("New ticket", "Create a ticket (n)", "new"),
    ("View ticket", "Show the selected ticket in full (enter)", "view"),
    (
        "Filter tickets",
        "Type words, status:, priority:, assignee:me, locked, tag:vpn, #1042 to go to a ticket (/)",
        "filter",
    ),
    ("Clear filter", "Show every ticket again", "clear_filter"),
    ("Sort by next column", "Cycle the sort column (s)", "sort"),
    ("Reverse sort", "Flip the sort direction (S)", "reverse_sort"),
    ("Resync", "Fetch the whole table from the server again (r)", "resync"),
    ("Due column", "Show or hide the due times", "toggle_due"),
    ("Tags column", "Show or hide the tags", "toggle_tags"),
    ("Help", "Every key and the filter's words (?)", "help"),
)


class TicketsScreen(TriageScreen):
    """The live table (what the agent does with it, beyond viewing and editing, is in `TriageScreen`)."""

    # The footer shows these in order and cuts what does not fit (80 columns): help and quit come before the
    # keys an agent can also find in the help or the palette.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit"),
        Binding("n", "new", "New"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        *TRIAGE_BINDINGS,
        Binding("S", "reverse_sort", "Reverse"),
        Binding("r", "resync", "Resync"),
        Binding("L", "login_again", "Log in again", show=False),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._preview_timer: Timer | None = None
        self._typing_into_filter = False
        """`/` was pressed and the filter box is open: printable keys the table still receives are for the box."""

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def compose(self) -> ComposeResult:
        desk = self.desk
        yield Header(icon="≡")
        yield FilterBar(id="filter")
        yield TicketTable(desk.model, now=desk.now, presence=desk.presence, id="table")
        yield SearchStrip(id="search-strip")
        yield TicketPreview(desk.model, now=desk.now, id="preview")
        yield StatusBar(id="status")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.table.focus()
        self._reload()
        self._show_connection(self.desk.connection_state, None)

    # --- what the app forwards ------------------------------------------------------

    def on_table_reloaded(self, _message: TableReloaded) -> None:
        self._reload()

    def on_ticket_changed(self, message: TicketChanged) -> None:
        self._reload()
        event = message.event
        if isinstance(event, TicketCreated | TicketUpdated):
            self.query_one(TicketPreview).show_full(event.ticket)  # the event carries it in full

    def on_connection_state_changed(self, message: ConnectionStateChanged) -> None:
        self._show_connection(message.state, message.reason)
        if message.state is ConnectionState.CONNECTED:
            self._fetch_preview_soon()  # what could not be fetched while the link was down

    def on_viewers_changed(self, _message: ViewersChanged) -> None:
        self.table.presence_changed()

    def _reload(self) -> None:
        self.table.model_changed()
        self._show_counts()
        model = self.desk.model
        # "No ticket has the number #1042" may stop being true when the load completes or the ticket is created.
        self.query_one(FilterBar).show_errors(model.query_errors + number_notes(model))

    def _show_counts(self) -> None:
        model = self.desk.model
        user = self.desk.user
        arrow = "▼" if model.sort.descending else "▲"
        self.query_one(StatusBar).show(
            user=user.name if user is not None else "",
            shown=len(model),
            total=model.total,
            sort=f"by {model.sort.column.value} {arrow}",
            loading=not model.loaded or model.reloading,
            partial=not model.loaded,  # the first load: what is there is not yet the helpdesk's total
        )

    def _show_connection(self, state: ConnectionState, reason: str | None) -> None:
        # The state goes in the status bar, where it hides nothing; the rows are dimmed while they may be stale.
        self.table.stale = state is not ConnectionState.CONNECTED
        note = ""
        if state is not ConnectionState.CONNECTED:
            note = reason or "rows may be stale"
        self.query_one(StatusBar).show(state=state, note=note)

    # --- widgets' messages -------------------------------------------------------------

    def on_ticket_table_highlighted(self, message: TicketTable.Highlighted) -> None:
        self.query_one(TicketPreview).show_row(message.ticket)
        self._fetch_preview_soon()

    def on_ticket_table_opened(self, message: TicketTable.Opened) -> None:
        self._view(message.ticket)

    def on_filter_bar_changed(self, message: FilterBar.Changed) -> None:
        self.desk.model.set_query(message.query)
        self._reload()  # shows what was not understood

    def on_filter_bar_done(self, _message: FilterBar.Done) -> None:
        self._typing_into_filter = False
        bar = self.query_one(FilterBar)
        number = jump_number(bar.value)
        ticket = self.desk.model.with_number(number) if number is not None else None
        if ticket is not None:
            # Enter on a lone "#1042": go to the ticket in the whole table (see number_filter).
            self.desk.model.set_query("")
            self._reload()
            self.table.select_ticket(ticket.id)
            bar.action_clear()  # empties and hides the bar; its Changed finds the model already unfiltered
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        """`/` and the keys typed right behind it in one burst (a paste, a fast typist, a loaded machine) go to the
        filter. Textual forwards each key to the widget focused when it reads the key, and the filter box takes the
        focus only later, so without this the rest of "/0xc004" reached the table, where `c` closes a ticket (the
        same Textual behaviour as https://github.com/Textualize/textual/issues/1009). Keys typed in the box itself
        never get here: the box keeps them."""
        if event.key == "slash":
            event.stop()
            event.prevent_default()
            self._typing_into_filter = True
            self.action_filter()
        elif self._typing_into_filter and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            self.query_one(FilterBar).input.insert_text_at_cursor(event.character)

    # --- actions ----------------------------------------------------------------------

    def action_edit(self) -> None:
        ticket = self.table.cursor_ticket
        if ticket is not None:
            self.edit_ticket(ticket.id)

    def action_view(self) -> None:
        ticket = self.table.cursor_ticket
        if ticket is not None:
            self._view(ticket)

    def _view(self, ticket: TableRow) -> None:
        def then(edit: bool | None) -> None:
            if edit:
                self.edit_ticket(ticket.id)

        self.app.push_screen(TicketViewScreen(self.desk, ticket.id), then)

    def action_new(self) -> None:
        def then(created: Ticket | None) -> None:
            if created is not None:
                self.table.select_ticket(created.id)

        self.app.push_screen(EditorScreen(self.desk, None), then)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_clear_filter(self) -> None:
        self.query_one(FilterBar).action_clear()

    def action_sort(self) -> None:
        self.desk.model.set_sort(self.desk.model.sort.next_column())
        self._reload()

    def action_reverse_sort(self) -> None:
        self.desk.model.set_sort(self.desk.model.sort.reversed())
        self._reload()

    def action_toggle_due(self) -> None:
        self._toggle_column(SortColumn.DUE, "Due")

    def action_toggle_tags(self) -> None:
        self._toggle_column(SortColumn.TAGS, "Tags")

    def _toggle_column(self, column: SortColumn, name: str) -> None:
        shown = self.table.toggle_column(column)
        self.notify(f"{name} column {'shown' if shown else 'hidden'}.", timeout=2, markup=False)

    def action_resync(self) -> None:
        self._resync()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(admin=self._is_admin()))

    def action_login_again(self) -> None:
        self.post_message(LoginAgainRequested())

    async def action_quit(self) -> None:
        self.app.exit()

    def commands(self) -> Iterator[SystemCommand]:
        for title, help_text, action in _COMMANDS:
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))
        yield from self.triage_commands()

    # --- network, in short workers ---------------------------------------------------------

    def edit_ticket(self, ticket_id: uuid.UUID) -> None:
        """Take the lock, then open the form; someone else's lock gets a notification and no form."""
        self._lock_and_edit(ticket_id)

    @work(exclusive=True, exit_on_error=False, group="lock")
    async def _lock_and_edit(self, ticket_id: uuid.UUID) -> None:
        client = self.desk.client
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
        self.app.push_screen(EditorScreen(self.desk, ticket))

    def _locked_sentence(self, ticket_id: uuid.UUID, exc: Locked) -> str:
        lock = exc.lock
        current = self.desk.model.get(ticket_id)
        if lock is None and current is not None:
            lock = current.lock
        if lock is None:
            return str(exc)
        left = spoken_duration((lock.expires_at - self.desk.now()).total_seconds())
        title = f"“{current.title}”" if current is not None else "This ticket"
        return f"{title} is being edited by {lock.user_name}; their lock ends in {left}."

    @work(exclusive=True, exit_on_error=False, group="resync")
    async def _resync(self) -> None:
        client = self.desk.client
        if client is None:
            self.notify("Not connected to the server.", severity="error", markup=False)
            return
        try:
            await client.get_rows(FIRST_ROWS)  # the pages reach the table through the link worker
        except LesBilletsError as exc:
            self.notify(str(exc), title="Resync failed", severity="error", markup=False)

    def _fetch_preview_soon(self) -> None:
        """Fetch the selected ticket in full (its description) once the cursor has rested on it."""
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY_S, self._fetch_preview)

    def _fetch_preview(self) -> None:
        ticket_id = self.query_one(TicketPreview).wanted
        if ticket_id is not None:
            self._fetch_full(ticket_id)

    @work(exclusive=True, exit_on_error=False, group="preview")
    async def _fetch_full(self, ticket_id: uuid.UUID) -> None:
        preview = self.query_one(TicketPreview)
        client = self.desk.client
        if client is None:
            preview.show_problem(ticket_id, "Not connected: the description shows once the connection is back.")
            return
        try:
            detail = await client.get_ticket(ticket_id)
        except LesBilletsError as exc:
            preview.show_problem(ticket_id, f"The description could not be loaded: {exc}")
            return
        preview.show_full(detail.ticket)
