"""The selected ticket at a glance, under the table: the ticket view's head (number and title, the fields with the
due time and tags, who made it, the lock), and the start of its description.

The table's rows carry no description: the preview shows the row at once and the rest once the screen has
fetched the ticket in full (`GetTicket`) or an event brought it. It never fetches anything itself.
"""

from __future__ import annotations

import uuid

import msgspec
from textual.content import Content
from textual.widgets import Static

from lesbillets_tui.palette import MUTED
from lesbillets_tui.safe_text import safe_block
from lesbillets_tui.table_model import TableModel
from lesbillets_tui.timefmt import Clock, utc_now
from lesbillets_tui.widgets.ticket_fields import field_lines
from protocol.messages import Ticket
from protocol.rows import TableRow

LOADING = "Loading the description…"


def description(full: Ticket | None, problem: str) -> Content:
    """The description of the ticket in full, or why it is not shown (yet)."""
    if full is None:
        return Content.styled(problem or LOADING, MUTED)
    return Content(safe_block(full.description)) if full.description else Content.styled("(no description)", MUTED)


class TicketPreview(Static):
    """A read-only summary of one ticket; shows a hint when there is none."""

    DEFAULT_CSS = """
    TicketPreview {
        height: 9;
        padding: 0 1;
        background: $surface;
        border-top: solid $panel-lighten-2;
        overflow: hidden;
    }
    """

    def __init__(self, model: TableModel, *, now: Clock = utc_now, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.model = model
        self.now = now
        self.row: TableRow | None = None
        self.full: Ticket | None = None
        """The selected ticket in full, once fetched or brought by an event (None while it is not)."""
        self.problem = ""
        """Why the full ticket could not be had, as a sentence."""

    @property
    def wanted(self) -> uuid.UUID | None:
        """The selected ticket, when its description is not here (or is older than its row)."""
        row, full = self.row, self.full
        if row is None or (full is not None and full.id == row.id and full.version >= row.version):
            return None
        return row.id

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._draw()

    def show_row(self, row: TableRow | None) -> None:
        """Show another ticket's row (or the same ticket as it now stands); its description waits for `show_full`."""
        if row is None or self.row is None or row.id != self.row.id:
            self.full, self.problem = None, ""
        self.row = row
        self._draw()

    def show_full(self, ticket: Ticket) -> None:
        """The shown ticket in full (a reply to `GetTicket`, or an event's ticket); another ticket is ignored."""
        if self.row is None or ticket.id != self.row.id:
            return
        if self.full is not None and self.full.id == ticket.id and self.full.version > ticket.version:
            return
        self.full, self.problem = ticket, ""
        self._draw()

    def show_problem(self, ticket_id: uuid.UUID, sentence: str) -> None:
        """Why the shown ticket's description cannot be had; kept only while it is still wanted."""
        if self.wanted == ticket_id:
            self.problem = sentence
            self._draw()

    def _draw(self) -> None:
        row = self.row
        if row is None:
            self.update(Content.styled("No ticket selected.", MUTED))
            return
        full = self.full if self.wanted is None else None
        # The full ticket says who updated it and when it was created; the row has the lock as it now stands
        # (a lock comes and goes without a new version). Who else has it open shows in the table's Lock column.
        head = row if full is None else msgspec.structs.replace(full, lock=row.lock)
        head_lines = field_lines(head, self.model, self.now(), [])
        self.update(Content("\n").join([head_lines, Content(""), description(full, self.problem)]))

    def _tick(self) -> None:
        # A lock's time left and a due time's "in 3h" / "overdue 20m" run with the clock.
        if self.row is not None and (self.row.lock is not None or self.row.due_at is not None):
            self._draw()
