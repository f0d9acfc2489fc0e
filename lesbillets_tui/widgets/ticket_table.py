"""A virtualised ticket table: renders only the rows in view, straight from a `TableModel`.

Textual's DataTable builds every row up front (seconds for 100k tickets); this widget is a `ScrollView` whose
virtual height is the model's row count, and `render_line` asks the model for the one ticket on that line.
The cursor belongs to a ticket id, not a row number, so live events that move rows never move it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.table_model import SortColumn, TableModel
from lesbillets_tui.timefmt import Clock, ago, time_left, utc_now
from protocol.messages import Ticket

LOCK_ICON = "●"
LOCK_WIDTH = 18


@dataclass(frozen=True)
class _Column:
    sort: SortColumn
    label: str
    width: int
    """Cells; 0 for the one column that takes what is left."""


# The table's columns, left to right; the title takes the remaining width.
COLUMNS: tuple[_Column, ...] = (
    _Column(SortColumn.LOCK, "Lock", LOCK_WIDTH),
    _Column(SortColumn.TITLE, "Title", 0),
    _Column(SortColumn.STATUS, "Status", 8),
    _Column(SortColumn.PRIORITY, "Priority", 9),
    _Column(SortColumn.ASSIGNEE, "Assignee", 14),
    _Column(SortColumn.UPDATED, "Updated", 10),
    _Column(SortColumn.CREATED_BY, "Created by", 14),
)
# Dropped first when the terminal is narrow, so the title keeps at least TITLE_MIN cells.
_DROP_ORDER = (SortColumn.CREATED_BY, SortColumn.ASSIGNEE, SortColumn.UPDATED)
TITLE_MIN = 20

Cells = tuple[tuple[str, str], ...]
"""Each cell's text and the component class that colours it ("" for the row's own style)."""


class TicketTable(ScrollView, can_focus=True):
    """The live ticket table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False),
        Binding("k,up", "cursor_up", "Up", show=False),
        Binding("g,home", "first", "First", show=False),
        Binding("G,end", "last", "Last", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("enter", "open", "View", tooltip="View the selected ticket"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ticket-table--header",
        "ticket-table--header-sorted",
        "ticket-table--cursor",
        "ticket-table--cursor-blurred",
        "ticket-table--stale",
        "ticket-table--empty",
        "ticket-table--lock-mine",
        "ticket-table--lock-other",
        "ticket-table--status-open",
        "ticket-table--status-blocked",
        "ticket-table--status-closed",
        "ticket-table--priority-low",
        "ticket-table--priority-normal",
        "ticket-table--priority-high",
        "ticket-table--priority-urgent",
        "ticket-table--muted",
    }

    DEFAULT_CSS = """
    TicketTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;
        & > .ticket-table--header { background: $panel; color: $foreground; text-style: bold; }
        & > .ticket-table--header-sorted { background: $panel; color: $accent; text-style: bold; }
        & > .ticket-table--cursor {
            background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
        }
        & > .ticket-table--cursor-blurred {
            background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
        }
        & > .ticket-table--stale { color: $text-disabled; }
        & > .ticket-table--empty { color: $text-muted; text-style: italic; }
        & > .ticket-table--lock-mine { color: $text-accent; text-style: bold; }
        & > .ticket-table--lock-other { color: $text-warning; }
        & > .ticket-table--status-open { color: $text-success; }
        & > .ticket-table--status-blocked { color: $text-warning; }
        & > .ticket-table--status-closed { color: $text-muted; }
        & > .ticket-table--priority-low { color: $text-muted; }
        & > .ticket-table--priority-normal { color: $foreground; }
        & > .ticket-table--priority-high { color: $text-warning; text-style: bold; }
        & > .ticket-table--priority-urgent { color: $text-error; text-style: bold; }
        & > .ticket-table--muted { color: $text-muted; }
    }
    """

    stale: reactive[bool] = reactive(False)
    """Set while the connection is down: the rows may be out of date."""

    class Highlighted(Message):
        """The ticket under the cursor changed (another ticket, or the same ticket's content)."""

        def __init__(self, table: TicketTable, ticket: Ticket | None) -> None:
            super().__init__()
            self.table = table
            self.ticket = ticket

        @property
        def control(self) -> TicketTable:
            return self.table

    class Opened(Message):
        """The agent asked to view a ticket (enter or double click)."""

        def __init__(self, table: TicketTable, ticket: Ticket) -> None:
            super().__init__()
            self.table = table
            self.ticket = ticket

        @property
        def control(self) -> TicketTable:
            return self.table

    def __init__(
        self,
        model: TableModel,
        *,
        now: Clock = utc_now,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model = model
        self.now = now
        self.cursor_id: uuid.UUID | None = None
        self.cursor_row = 0
        self._highlighted: Ticket | None = None
        self._line_cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)

    def on_mount(self) -> None:
        # Lock countdowns and "3m ago" age by the second; a refresh repaints only the lines in view, and the
        # line cache makes the rows whose text did not change cost a dictionary lookup.
        self.set_interval(1.0, self.refresh)

    # --- public API ---------------------------------------------------------------

    @property
    def cursor_ticket(self) -> Ticket | None:
        return self.model.get(self.cursor_id) if self.cursor_id is not None else None

    def model_changed(self) -> None:
        """Re-read the model after it changed (event, snapshot, filter, sort) keeping the cursor on its ticket."""
        model = self.model
        old_row, old_scroll = self.cursor_row, round(self.scroll_y)
        new_row = model.position_of(self.cursor_id) if self.cursor_id is not None else None
        if new_row is None:  # first load, or the cursor's ticket was filtered out: stay at the same height
            new_row = min(old_row, len(model) - 1) if len(model) else 0
            self.cursor_id = model.row(new_row).id if len(model) else None
        self.cursor_row = new_row
        self.virtual_size = Size(self.size.width, len(model) + 1)
        if new_row != old_row and old_scroll > 0:
            # Scrolled into the backlog: keep the cursor's ticket on the same screen line while rows move.
            self._set_scroll(old_scroll + new_row - old_row)
        else:
            self._scroll_cursor_into_view()
        self.refresh()
        self._post_highlighted()

    def select_ticket(self, ticket_id: uuid.UUID) -> bool:
        """Move the cursor to a ticket if it is shown."""
        row = self.model.position_of(ticket_id)
        if row is None:
            return False
        self._move_cursor(row)
        return True

    def refresh_ticket(self, ticket_id: uuid.UUID) -> None:
        """Repaint one ticket's line if it is in view."""
        row = self.model.position_of(ticket_id)
        if row is not None:
            self.refresh_line(row + 1)

    # --- cursor ---------------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.size.height - 2)

    def _move_cursor(self, row: int) -> None:
        count = len(self.model)
        if not count:
            return
        row = max(0, min(row, count - 1))
        old = self.cursor_row
        self.cursor_row = row
        self.cursor_id = self.model.row(row).id
        self.refresh_line(old + 1)
        self.refresh_line(row + 1)
        self._scroll_cursor_into_view()
        self._post_highlighted()

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        rows_in_view = max(1, self.size.height - 1)
        if self.cursor_row < top:
            self._set_scroll(self.cursor_row)
        elif self.cursor_row >= top + rows_in_view:
            self._set_scroll(self.cursor_row - rows_in_view + 1)

    def _set_scroll(self, y: int) -> None:
        max_y = max(0, len(self.model) + 1 - self.size.height)
        self.scroll_to(y=max(0, min(y, max_y)), animate=False, force=True)

    def _post_highlighted(self) -> None:
        ticket = self.cursor_ticket
        if ticket is not self._highlighted:
            self._highlighted = ticket
            self.post_message(self.Highlighted(self, ticket))

    def action_cursor_down(self) -> None:
        self._move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self._move_cursor(self.cursor_row - 1)

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_last(self) -> None:
        self._move_cursor(len(self.model) - 1)

    def action_page_down(self) -> None:
        self._move_cursor(self.cursor_row + self._page)

    def action_page_up(self) -> None:
        self._move_cursor(self.cursor_row - self._page)

    def action_open(self) -> None:
        ticket = self.cursor_ticket
        if ticket is not None:
            self.post_message(self.Opened(self, ticket))

    async def _on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        self._move_cursor(round(self.scroll_y) + event.y - 1)
        if event.chain >= 2:
            self.action_open()

    def _on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.model) + 1)
        self._line_cache.clear()

    def _on_focus(self, event: events.Focus) -> None:
        self.refresh_line(self.cursor_row + 1)

    def _on_blur(self, event: events.Blur) -> None:
        self.refresh_line(self.cursor_row + 1)

    def watch_stale(self) -> None:
        self.refresh()

    # --- rendering ------------------------------------------------------------------

    def _layout(self, width: int) -> list[tuple[_Column, int]]:
        columns = list(COLUMNS)
        for drop in _DROP_ORDER:
            fixed = sum(column.width + 1 for column in columns) + 1
            if width - fixed >= TITLE_MIN:
                break
            columns = [column for column in columns if column.sort is not drop]
        fixed = sum(column.width + 1 for column in columns) + 1
        title_width = max(TITLE_MIN, width - fixed)
        return [(column, column.width or title_width) for column in columns]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._render_header(width)
        row = round(self.scroll_y) + y - 1
        model = self.model
        if row >= len(model):
            if row == 0:
                return self._render_empty(width)
            return Strip.blank(width, self.rich_style)
        ticket = model.row(row)
        cells = self._cells(ticket)
        if row == self.cursor_row:
            state = "cursor" if self.has_focus else "cursor-blurred"
        else:
            state = "stale" if self.stale else ""
        key = (cells, state, width)
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self._render_cells(cells, state, width)
            self._line_cache[key] = strip
        return strip

    def _cells(self, ticket: Ticket) -> Cells:
        model = self.model
        now = self.now()
        lock = ticket.lock
        if lock is None:
            lock_cell = ("", "")
        elif lock.user_id == model.me:
            lock_cell = (f"{LOCK_ICON} you {time_left(lock.expires_at, now)}", "lock-mine")
        else:
            left = time_left(lock.expires_at, now)
            name = _fit(lock.user_name, max(1, LOCK_WIDTH - 3 - len(left))).rstrip()
            lock_cell = (f"{LOCK_ICON} {name} {left}", "lock-other")
        assignee = "me" if ticket.assignee is not None and ticket.assignee == model.me else ""
        return (
            lock_cell,
            (ticket.title, ""),
            (ticket.status.value, f"status-{ticket.status.value}"),
            (ticket.priority.value, f"priority-{ticket.priority.value}"),
            (assignee or model.user_name(ticket.assignee), ""),
            (ago(ticket.updated_at, now), "muted"),
            (model.user_name(ticket.created_by), "muted"),
        )

    def _render_cells(self, cells: Cells, state: str, width: int) -> Strip:
        get = self.get_component_rich_style
        base = self.rich_style
        row_style = base + get(f"ticket-table--{state}") if state else base
        by_column = dict(zip((column.sort for column in COLUMNS), cells, strict=True))
        segments = [Segment(" ", row_style)]
        for column, column_width in self._layout(width):
            text, style_name = by_column[column.sort]
            style = row_style
            if style_name and state != "stale":
                cell_style = get(f"ticket-table--{style_name}")
                # Keep the row's background (cursor) but the cell's colour.
                style = row_style + Style(color=cell_style.color, bold=cell_style.bold, italic=cell_style.italic)
            segments.append(Segment(_fit(text, column_width), style))
            segments.append(Segment(" ", row_style))
        return Strip(segments).adjust_cell_length(width, row_style).simplify()

    def _render_header(self, width: int) -> Strip:
        get = self.get_component_rich_style
        header = get("ticket-table--header")
        sorted_style = get("ticket-table--header-sorted")
        sort = self.model.sort
        segments = [Segment(" ", header)]
        for column, column_width in self._layout(width):
            label = column.label
            style = header
            if column.sort is sort.column:
                label = f"{label} {'▼' if sort.descending else '▲'}"
                style = sorted_style
            segments.append(Segment(_fit(label, column_width), style))
            segments.append(Segment(" ", header))
        if self.stale:
            note = " stale: reconnecting… "
            segments = [*Strip(segments).crop(0, max(0, width - len(note))), Segment(note, sorted_style)]
        return Strip(segments).adjust_cell_length(width, header)

    def _render_empty(self, width: int) -> Strip:
        text = " No tickets match the filter." if self.model.total else " No tickets yet: press n to create one."
        style = self.get_component_rich_style("ticket-table--empty")
        return Strip([Segment(text, style)]).adjust_cell_length(width, self.rich_style)


def _fit(text: str, width: int) -> str:
    """Exactly ``width`` cells: padded, or cut with an ellipsis; control characters drawn as symbols."""
    text = safe_line(text)
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, max(0, width - 1)) + "…"
