"""The selected ticket at a glance, under the table: title, facts, lock, and the start of its description."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from lesbillets_tui.palette import LOCK_MINE, LOCK_OTHER, MUTED, PRIORITY_STYLE, STATUS_STYLE
from lesbillets_tui.safe_text import safe_block, safe_line
from lesbillets_tui.table_model import TableModel
from lesbillets_tui.timefmt import Clock, ago, time_left, utc_now
from protocol.messages import Ticket


def ticket_facts(ticket: Ticket, model: TableModel, now: Clock) -> Content:
    """One line: status · priority · assignee · who created and updated it, when."""
    at = now()
    assignee = safe_line(model.user_name(ticket.assignee)) if ticket.assignee else "unassigned"
    created_by, updated_by = (
        safe_line(model.user_name(ticket.created_by)),
        safe_line(model.user_name(ticket.updated_by)),
    )
    return Content.assemble(
        (ticket.status.value, STATUS_STYLE[ticket.status]),
        (" · ", MUTED),
        (ticket.priority.value, PRIORITY_STYLE[ticket.priority]),
        (" · ", MUTED),
        (assignee, "" if ticket.assignee else MUTED),
        (" · ", MUTED),
        (f"created by {created_by} {ago(ticket.created_at, at)}", MUTED),
        (" · ", MUTED),
        (f"updated by {updated_by} {ago(ticket.updated_at, at)}", MUTED),
        (f" · v{ticket.version}", MUTED),
    )


def lock_line(ticket: Ticket, model: TableModel, now: Clock) -> Content:
    """Who holds the ticket and for how long, or nothing."""
    lock = ticket.lock
    if lock is None:
        return Content("")
    left = time_left(lock.expires_at, now())
    if lock.user_id == model.me:
        return Content.styled(f"● You are editing this ticket ({left} left on your lock).", LOCK_MINE)
    return Content.styled(
        f"● {safe_line(lock.user_name)} is editing this ticket ({left} left on the lock).", LOCK_OTHER
    )


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
        self.ticket: Ticket | None = None

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self.show_ticket(self.ticket)

    def show_ticket(self, ticket: Ticket | None) -> None:
        self.ticket = ticket
        if ticket is None:
            self.update(Content.styled("No ticket selected.", MUTED))
            return
        parts = [
            Content.styled(safe_line(ticket.title), "bold"),
            ticket_facts(ticket, self.model, self.now),
        ]
        lock = lock_line(ticket, self.model, self.now)
        if lock:
            parts.append(lock)
        parts.append(Content(""))
        parts.append(
            Content(safe_block(ticket.description)) if ticket.description else Content.styled("(no description)", MUTED)
        )
        self.update(Content("\n").join(parts))

    def _tick(self) -> None:
        if self.ticket is not None and self.ticket.lock is not None:
            self.show_ticket(self.ticket)
