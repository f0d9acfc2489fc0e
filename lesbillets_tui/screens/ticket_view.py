"""One ticket in full, read-only, kept live while it is open."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from lesbillets_tui.messages import TableReloaded, TicketChanged
from lesbillets_tui.palette import MUTED
from lesbillets_tui.safe_text import safe_block, safe_line
from lesbillets_tui.widgets.ticket_preview import lock_line, ticket_facts

if TYPE_CHECKING:
    from lesbillets_tui.app import LesBilletsApp


class TicketViewScreen(ModalScreen[bool]):
    """Dismisses with True when the agent asks to edit the ticket (e)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit"),
        Binding("escape,q,enter", "close", "Close"),
    ]

    def __init__(self, ticket_id: uuid.UUID) -> None:
        super().__init__()
        self.ticket_id = ticket_id

    @property
    def lb(self) -> LesBilletsApp:
        return cast("LesBilletsApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="view"):
            yield Label("", id="view-title", markup=False)
            yield Static("", id="view-facts")
            yield Static("", id="view-lock")
            with VerticalScroll(id="view-body"):
                yield Static("", id="view-description", markup=False)
            yield Label("e edit · escape close", id="view-footer")

    def on_mount(self) -> None:
        self._show()
        self.set_interval(1.0, self._show)

    def on_ticket_changed(self, message: TicketChanged) -> None:
        if message.ticket_id == self.ticket_id:
            self._show()

    def on_table_reloaded(self, _message: TableReloaded) -> None:
        self._show()

    def _show(self) -> None:
        app = self.lb
        ticket = app.model.get(self.ticket_id)
        if ticket is None:
            self.query_one("#view-title", Label).update("This ticket is no longer there.")
            return
        self.query_one("#view-title", Label).update(safe_line(ticket.title))
        self.query_one("#view-facts", Static).update(ticket_facts(ticket, app.model, app.now))
        self.query_one("#view-lock", Static).update(lock_line(ticket, app.model, app.now))
        description = ticket.description or "(no description)"
        body = self.query_one("#view-description", Static)
        body.update(Content(safe_block(description)) if ticket.description else Content.styled(description, MUTED))

    def action_edit(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)
