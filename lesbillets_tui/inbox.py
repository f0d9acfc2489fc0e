"""The agent's inbox as the app holds it, sans I/O: items newest first, the unread count, what a notice changes.

The server is the authority on the unread count (it counts items this copy never loaded); items are kept to
the newest `KEEP`, so a long-running session cannot grow without bound.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from lesbillets_tui.safe_text import safe_line
from protocol.messages import Inbox, InboxChanged, InboxItem, InboxKind

KEEP = 500
"""Items kept in memory (the server's `GetInbox` answers at most 500 too)."""

KIND_LABEL: dict[InboxKind, str] = {
    InboxKind.ASSIGNED: "assigned",
    InboxKind.MENTIONED: "mentioned",
    InboxKind.LOCK_BROKEN: "lock broken",
}


class InboxModel:
    def __init__(self) -> None:
        self.items: list[InboxItem] = []
        """Newest first (by ``seq``)."""
        self.unread = 0
        self.loaded = False
        """The server answered `GetInbox` at least once (an older server does not: the app then shows no inbox)."""

    def load(self, inbox: Inbox) -> None:
        """Replace everything with the server's answer."""
        self.items = sorted(inbox.items, key=lambda item: item.seq, reverse=True)[:KEEP]
        self.unread = inbox.unread
        self.loaded = True

    def clear(self) -> None:
        self.items = []
        self.unread = 0
        self.loaded = False

    def apply(self, notice: InboxChanged) -> InboxItem | None:
        """Take a live notice in; returns its item when it is new to this copy (to announce it), else None."""
        self.unread = notice.unread
        item = notice.item
        if item is None or any(known.seq == item.seq for known in self.items):
            return None
        position = next((n for n, known in enumerate(self.items) if known.seq < item.seq), len(self.items))
        self.items.insert(position, item)
        del self.items[KEEP:]
        return item

    def mark_read(self, seqs: Iterable[int]) -> list[int]:
        """Mark items read here (the app tells the server); returns the seqs that were unread."""
        wanted = set(seqs)
        changed: list[int] = []
        for n, item in enumerate(self.items):
            if item.seq in wanted and not item.read:
                self.items[n] = msgspec.structs.replace(item, read=True)
                changed.append(item.seq)
        self.unread = max(0, self.unread - len(changed))
        return changed

    def mark_all_read(self) -> int | None:
        """Mark every item read here; returns the newest seq to send as ``up_to`` (None: nothing to mark)."""
        if not self.items:
            return None
        self.items = [item if item.read else msgspec.structs.replace(item, read=True) for item in self.items]
        self.unread = 0
        return self.items[0].seq

    def get(self, seq: int) -> InboxItem | None:
        return next((item for item in self.items if item.seq == seq), None)


def headline(item: InboxItem) -> str:
    """One sentence for a notification: "Bob Dubois assigned #1042 “Printer jams” to you."."""
    who = safe_line(item.actor_name) or "Somebody"
    ticket = f"#{item.number} “{safe_line(item.title)}”"
    if item.kind is InboxKind.ASSIGNED:
        return f"{who} assigned {ticket} to you."
    if item.kind is InboxKind.MENTIONED:
        return f"{who} mentioned you on {ticket}."
    return f"{who} broke your lock on {ticket}."
