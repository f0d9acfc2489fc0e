"""Quick changes from the table (assign to me, close, reopen, set priority, set the due time, add or remove tags),
sans I/O: what each sends in a `ChangeTickets`, and the sentences for what the server did and refused."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lesbillets_tui.due_tags import FieldError, format_due, parse_tags
from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.table_model import TableModel
from protocol.client import Client
from protocol.messages import BATCH_MAX, UNSET, Changed, ErrorCode, Priority, Refusal, Status, Ticket, UnsetType
from protocol.rows import TableRow


@dataclass(frozen=True)
class QuickChange:
    done: str
    """How the outcome reads: "Closed", "Assigned to you", "Set to urgent"."""
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    assignee: uuid.UUID | UnsetType | None = UNSET
    due_at: datetime | UnsetType | None = UNSET
    add_tags: tuple[str, ...] = field(default=())
    remove_tags: tuple[str, ...] = field(default=())

    async def send(self, client: Client, ticket_ids: Sequence[uuid.UUID]) -> Changed:
        """One `ChangeTickets` per `BATCH_MAX` tickets; the replies joined into one."""
        tickets: list[Ticket] = []
        refused: list[Refusal] = []
        for start in range(0, len(ticket_ids), BATCH_MAX):
            part = list(ticket_ids[start : start + BATCH_MAX])
            reply = await client.change_tickets(
                part,
                status=self.status,
                priority=self.priority,
                assignee=self.assignee,
                due_at=self.due_at,
                add_tags=self.add_tags,
                remove_tags=self.remove_tags,
            )
            tickets.extend(reply.tickets)
            refused.extend(reply.refused)
        return Changed(rid=0, tickets=tickets, refused=refused)


CLOSE = QuickChange("Closed", status=Status.CLOSED)
REOPEN = QuickChange("Reopened", status=Status.OPEN)


def assign_to(me: uuid.UUID) -> QuickChange:
    return QuickChange("Assigned to you", assignee=me)


def set_priority(priority: Priority) -> QuickChange:
    return QuickChange(f"Set to {priority.value}", priority=priority)


def set_due(due_at: datetime | None) -> QuickChange:
    return QuickChange(f"Due {format_due(due_at)}" if due_at is not None else "Due time cleared", due_at=due_at)


def parse_tag_change(text: str) -> tuple[list[str], list[str]]:
    """ "vpn -printer +urgent-fix" → (["vpn", "urgent-fix"], ["printer"]): words to add, words after a ``-`` to
    remove; `FieldError` with a sentence for a word that cannot be a tag, or for nothing typed."""
    add: list[str] = []
    remove: list[str] = []
    for word in text.split():
        into, word = (remove, word[1:]) if word.startswith("-") else (add, word.removeprefix("+"))
        into.extend(tag for tag in parse_tags(word) if tag not in into)
    if not add and not remove:
        raise FieldError("Type tags to add, and -tag for one to remove.")
    return add, remove


def change_tags(add: Sequence[str], remove: Sequence[str]) -> QuickChange:
    said = [*(f"+{tag}" for tag in add), *(f"-{tag}" for tag in remove)]
    return QuickChange(f"Tags {' '.join(said)}", add_tags=tuple(add), remove_tags=tuple(remove))


def label(ticket: Ticket | TableRow | None, fallback: str = "the ticket") -> str:
    """How a ticket is named in a sentence: its number, or its title on a server without numbers."""
    if ticket is None:
        return fallback
    return f"#{ticket.number}" if ticket.number else f"“{safe_line(ticket.title)}”"


def refusal_sentence(refusal: Refusal, model: TableModel) -> str:
    """ "#1042 is locked by Bob Dubois." — or the server's own sentence for other refusals."""
    ref = refusal.ticket_id
    ticket = model.get(ref) if isinstance(ref, uuid.UUID) else None
    name = label(ticket, f"#{ref}" if isinstance(ref, int) else "A ticket")
    if refusal.code is ErrorCode.LOCKED and refusal.lock is not None:
        return f"{name} is locked by {safe_line(refusal.lock.user_name)}."
    return f"{name}: {safe_line(refusal.message)}"


def outcome(change: QuickChange, changed: Changed) -> str | None:
    """ "Closed #1042, #1043." (None when nothing changed)."""
    if not changed.tickets:
        return None
    names = [label(ticket) for ticket in changed.tickets]
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8:,} more" if len(names) > 8 else "")
    return f"{change.done}: {shown}."
