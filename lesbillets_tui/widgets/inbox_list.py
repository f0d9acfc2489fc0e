"""The inbox's items, one a line: unread mark, what happened, the ticket, who, when."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from lesbillets_tui.inbox import KIND_LABEL
from lesbillets_tui.palette import MUTED
from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.timefmt import ago
from protocol.messages import InboxItem, InboxKind

KIND_STYLE: dict[InboxKind, str] = {
    InboxKind.ASSIGNED: "$text-success",
    InboxKind.MENTIONED: "$text-accent",
    InboxKind.LOCK_BROKEN: "$text-warning",
}
_KIND_WIDTH = max(cell_len(label) for label in KIND_LABEL.values())
_AGO_WIDTH = len("2025-03-14")
_ACTOR_WIDTH = 18


def item_line(item: InboxItem, now: datetime, title: str | None = None) -> Content:
    """``● assigned      35m ago  Bob Dubois        #1042 Printer jams``: who and when before the title, which is
    the part cut when the line is too long (the dot only while unread). ``title`` is the ticket's title now, when
    the table has it (the item keeps the one it had when it happened)."""
    weight = "" if item.read else " bold"
    return Content.assemble(
        ("  " if item.read else "● ", "$text-accent bold"),
        (KIND_LABEL[item.kind].ljust(_KIND_WIDTH + 2), KIND_STYLE[item.kind] + weight),
        (ago(item.at, now).rjust(_AGO_WIDTH) + "  ", MUTED),
        (_fit(safe_line(item.actor_name) or "somebody", _ACTOR_WIDTH) + "  ", ""),
        (f"#{item.number} ", MUTED),
        (safe_line(title if title is not None else item.title), weight.strip()),
    )


def _fit(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


class InboxList(OptionList):
    """Items newest first; an option's id is its item's ``seq``, and the highlight stays on its item."""

    DEFAULT_CSS = """
    InboxList, InboxList:focus {
        height: 1fr;
        border: none;
        background: $surface;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        & > .option-list--option { padding: 0 1; }
    }
    """

    def show(
        self, items: Sequence[InboxItem], now: datetime, title_of: Callable[[InboxItem], str | None] = lambda _: None
    ) -> None:
        seq = self.highlighted_seq
        index = self.highlighted
        self.set_options(Option(item_line(item, now, title_of(item)), id=str(item.seq)) for item in items)
        if not items:
            return
        kept = next((n for n, item in enumerate(items) if item.seq == seq), None)
        self.highlighted = kept if kept is not None else min(index or 0, len(items) - 1)

    @property
    def highlighted_seq(self) -> int | None:
        option = self.highlighted_option
        return int(option.id) if option is not None and option.id is not None else None
