"""The head of the ticket view: number and title, the fields, the lock, and who else has the ticket open."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from lesbillets_tui.due_tags import format_due
from lesbillets_tui.palette import LOCK_MINE, LOCK_OTHER, MUTED, OVERDUE, PRESENCE, PRIORITY_STYLE, STATUS_STYLE
from lesbillets_tui.presence import viewers_sentence
from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.table_model import TableModel
from lesbillets_tui.timefmt import ago, due_text, time_left
from protocol.messages import Ticket, Viewer
from protocol.rows import TableRow

SEP = (" · ", MUTED)


def due_fact(due_at: datetime, now: datetime) -> tuple[str, str]:
    """The due time as the form takes it and as the table says it ("due 2026-11-30 17:00, in 3h"), red once passed."""
    return f"due {format_due(due_at)}, {due_text(due_at, now)}", OVERDUE if due_at <= now else ""


def field_lines(ticket: Ticket | TableRow, model: TableModel, now: datetime, viewers: list[Viewer]) -> Content:
    """Every line of the head, as one `Content` (server text made safe, never parsed as markup); a table row (the
    first look, before `GetTicket` answers) lacks who made the last update and when the ticket was created."""
    number = f"#{ticket.number} " if ticket.number else ""
    lines = [Content.assemble((number, "$text-accent bold"), (safe_line(ticket.title), "bold"))]

    assignee = safe_line(model.user_name(ticket.assignee)) if ticket.assignee else "unassigned"
    facts: list[tuple[str, str]] = [
        (ticket.status.value, STATUS_STYLE[ticket.status]),
        SEP,
        (ticket.priority.value, PRIORITY_STYLE[ticket.priority]),
        SEP,
        (assignee, "" if ticket.assignee else MUTED),
    ]
    if ticket.due_at is not None:
        facts += [SEP, due_fact(ticket.due_at, now)]
    if ticket.tags:
        # Not "#vpn": "#" is a ticket's number ("#1042" above, and in the filter), a tag is "tag:vpn" there.
        facts += [SEP, ("tags " + " ".join(safe_line(tag) for tag in ticket.tags), "$text-secondary")]
    lines.append(Content.assemble(*facts))

    created_by = safe_line(model.user_name(ticket.created_by))
    if isinstance(ticket, Ticket):
        updated_by = safe_line(model.user_name(ticket.updated_by))
        made = (
            f"created by {created_by} {ago(ticket.created_at, now)} · "
            f"updated by {updated_by} {ago(ticket.updated_at, now)} · v{ticket.version}"
        )
    else:
        made = f"created by {created_by} · updated {ago(ticket.updated_at, now)} · v{ticket.version}"
    lines.append(Content.styled(made, MUTED))
    lock = ticket.lock
    if lock is not None:
        left = time_left(lock.expires_at, now)
        if lock.user_id == model.me:
            lines.append(Content.styled(f"● You are editing this ticket ({left} left on your lock).", LOCK_MINE))
        else:
            holder = safe_line(lock.user_name)
            lines.append(Content.styled(f"● {holder} is editing this ticket ({left} left on the lock).", LOCK_OTHER))
    here = viewers_sentence(viewers)
    if here:
        lines.append(Content.styled(f"○ {safe_line(here)}", PRESENCE))
    return Content("\n").join(lines)


class TicketFields(Static):
    """Shows one ticket's fields; `show` redraws them (the screen calls it on every change and each second)."""

    DEFAULT_CSS = """
    TicketFields {
        height: auto;
        padding: 0 1;
        background: $surface;
        border-bottom: solid $panel-lighten-2;
    }
    """

    def show(self, ticket: Ticket | TableRow | None, model: TableModel, now: datetime, viewers: list[Viewer]) -> None:
        if ticket is None:
            self.update(Content.styled("Loading the ticket…", MUTED))
        else:
            self.update(field_lines(ticket, model, now, viewers))
