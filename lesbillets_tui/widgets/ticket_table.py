"""A virtualised ticket table: renders only the rows in view, straight from a `TableModel`.

Textual's DataTable builds every row up front (seconds for 100k tickets); this widget is a `ScrollView` whose
virtual height is the model's row count, and `render_line` asks the model for the one ticket on that line.
The cursor belongs to a ticket id, not a row number, so live events that move rows never move it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import ClassVar

from rich.cells import cell_len
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

from lesbillets_tui.palette import LOCK_MINE, LOCK_OTHER, MUTED, OVERDUE, PRESENCE, PRIORITY_STYLE, STATUS_STYLE, css
from lesbillets_tui.presence import PresenceBoard, viewers_marker, viewers_suffix
from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.table_layout import COLUMNS, HIDEABLE, Placed, fit, header_label, initials, plan
from lesbillets_tui.table_model import SortColumn, TableModel
from lesbillets_tui.timefmt import Clock, ago, due_text, short_ago, time_left, utc_now
from protocol.rows import TableRow

LOCK_ICON = "●"
MARK_ICON = "✓"
LOCK_WIDTH = next(column.width for column in COLUMNS if column.sort is SortColumn.LOCK)
"""The Lock column's cells at full width (names in full)."""


CELL_STYLES: dict[str, str] = {
    "lock-mine": LOCK_MINE,
    "lock-other": LOCK_OTHER,
    "muted": MUTED,
    "mark": LOCK_MINE,
    "overdue": OVERDUE,
    "presence": PRESENCE,
    **{f"status-{status.value}": style for status, style in STATUS_STYLE.items()},
    **{f"priority-{priority.value}": style for priority, style in PRIORITY_STYLE.items()},
}
"""The cells' component classes (``ticket-table--<name>``) and their colours, from the palette."""

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
        "ticket-table--overdue",
        "ticket-table--mark",
        "ticket-table--presence",
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
    }
    """ + "\n".join(f"TicketTable > .ticket-table--{name} {{ {css(style)} }}" for name, style in CELL_STYLES.items())

    stale: reactive[bool] = reactive(False)
    """Set while the connection is down: the rows may be out of date."""

    class Highlighted(Message):
        """The ticket under the cursor changed (another ticket, or the same ticket's content)."""

        def __init__(self, table: TicketTable, ticket: TableRow | None) -> None:
            super().__init__()
            self.table = table
            self.ticket = ticket

        @property
        def control(self) -> TicketTable:
            return self.table

    class Opened(Message):
        """The agent asked to view a ticket (enter or double click)."""

        def __init__(self, table: TicketTable, ticket: TableRow) -> None:
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
        presence: PresenceBoard | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model = model
        self.now = now
        self.presence = presence
        """Who has which ticket open: shown in the lock column (○ and who; after the holder when it is locked)."""
        self.cursor_id: uuid.UUID | None = None
        self.cursor_row = 0
        self._highlighted: TableRow | None = None
        self.hidden: frozenset[SortColumn] = frozenset()
        """Columns the agent hid (Due, Tags)."""
        self._generation = 0
        """Counts model changes: the column plan depends on the rows in view."""
        self._plan: tuple[tuple[object, ...], tuple[Placed, ...]] | None = None
        self.marked: frozenset[uuid.UUID] = frozenset()
        """Tickets the agent marked (space) for a quick change; a mark shows in the row's first cell."""
        self._line_cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)

    def on_mount(self) -> None:
        # Lock countdowns and "3m ago" age by the second; a refresh repaints only the lines in view, and the
        # line cache makes the rows whose text did not change cost a dictionary lookup.
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        self._generation += 1  # a due time that turned overdue needs a wider Due column
        self.refresh()

    # --- public API ---------------------------------------------------------------

    @property
    def cursor_ticket(self) -> TableRow | None:
        return self.model.get(self.cursor_id) if self.cursor_id is not None else None

    def model_changed(self) -> None:
        """Re-read the model after it changed (event, snapshot, filter, sort) keeping the cursor on its ticket."""
        model = self.model
        self._generation += 1
        old_row, old_scroll = self.cursor_row, round(self.scroll_y)
        new_row = model.position_of(self.cursor_id) if self.cursor_id is not None else None
        if new_row is None:  # first load, or the cursor's ticket was filtered out: stay at the same height
            new_row = min(old_row, len(model) - 1) if len(model) else 0
            self.cursor_id = model.row(new_row).id if len(model) else None
        self.cursor_row = new_row
        self.virtual_size = Size(self._width, len(model) + 1)
        if new_row != old_row and old_scroll > 0:
            # Scrolled into the backlog: keep the cursor's ticket on the same screen line while rows move.
            self._set_scroll(old_scroll + new_row - old_row)
        else:
            self._scroll_cursor_into_view()
        self.refresh()
        self._post_highlighted()

    def presence_changed(self) -> None:
        """Who has which ticket open changed: redraw (the Lock column may want another width)."""
        self._generation += 1
        self.refresh()

    def toggle_column(self, column: SortColumn) -> bool:
        """Hide a shown column or show a hidden one (Due and Tags only); True when it is now shown."""
        if column not in HIDEABLE:
            return True
        self.hidden = self.hidden ^ {column}
        self._line_cache.clear()
        self.refresh()
        return column not in self.hidden

    def select_ticket(self, ticket_id: uuid.UUID) -> bool:
        """Move the cursor to a ticket if it is shown."""
        row = self.model.position_of(ticket_id)
        if row is None:
            return False
        self._move_cursor(row)
        return True

    def set_marked(self, ticket_ids: Iterable[uuid.UUID]) -> None:
        self.marked = frozenset(ticket_ids)
        self.refresh()

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
        self.virtual_size = Size(self._width, len(self.model) + 1)
        self._line_cache.clear()
        # Fewer lines may leave the cursor's row below the view (G at 250x60, then 80x24): bring it back once
        # the new size has reached the scroll bounds.
        self.call_after_refresh(self._scroll_cursor_into_view)

    def _on_focus(self, event: events.Focus) -> None:
        self.refresh_line(self.cursor_row + 1)

    def _on_blur(self, event: events.Blur) -> None:
        self.refresh_line(self.cursor_row + 1)

    def watch_stale(self) -> None:
        self.refresh()

    # --- rendering ------------------------------------------------------------------

    @property
    def _width(self) -> int:
        """The cells a line shows: the gutter kept for the scrollbar (`scrollbar-gutter: stable`) would crop
        the last column, and with it a sort mark or a tag's ellipsis, if lines were laid out for the whole width."""
        return self.scrollable_content_region.width

    def _columns(self, width: int) -> tuple[Placed, ...]:
        """The columns for this width and the rows now in view (the same for every line of one paint)."""
        top = round(self.scroll_y)
        key = (width, top, self.size.height, self.model.sort, self._generation, self.hidden)
        if self._plan is not None and self._plan[0] == key:
            return self._plan[1]
        now = self.now()
        # The # column fits the highest number loaded, not the rows in view: it keeps its width while scrolling.
        widths = {
            SortColumn.NUMBER: len(number_text(self.model.max_number)),
            SortColumn.LOCK: 0,
            SortColumn.DUE: 0,
            SortColumn.TAGS: 0,
        }
        short_due = 0
        for ticket in self.model.rows(top, top + max(0, self.size.height - 1)):
            widths[SortColumn.LOCK] = max(widths[SortColumn.LOCK], cell_len(self._lock_cell(ticket, short=True)[0]))
            if ticket.due_at is not None:
                widths[SortColumn.DUE] = max(widths[SortColumn.DUE], len(due_text(ticket.due_at, now, rounded=True)))
                short_due = max(short_due, len(due_text(ticket.due_at, now, short=True)))
            if ticket.tags:
                widths[SortColumn.TAGS] = max(widths[SortColumn.TAGS], cell_len(" ".join(ticket.tags)))
        columns = plan(
            width,
            in_view=widths,
            sorted_by=self.model.sort.column,
            hidden=self.hidden,
            short_in_view={SortColumn.DUE: short_due},
        )
        self._plan = (key, columns)
        return columns

    def render_line(self, y: int) -> Strip:
        width = self._width
        if y == 0:
            return self._render_header(width)
        row = round(self.scroll_y) + y - 1
        model = self.model
        if row >= len(model):
            if row == 0:
                return self._render_empty(width)
            return Strip.blank(width, self.rich_style)
        ticket = model.row(row)
        columns = self._columns(width)
        cells = self._cells(ticket, columns)
        if row == self.cursor_row:
            state = "cursor" if self.has_focus else "cursor-blurred"
        else:
            state = "stale" if self.stale else ""
        marked = ticket.id in self.marked
        key = (cells, columns, state, width, marked)
        strip = self._line_cache.get(key)
        if strip is None:
            strip = self._render_cells(cells, columns, state, width, marked)
            self._line_cache[key] = strip
        return strip

    def _lock_cell(self, ticket: TableRow, *, short: bool) -> tuple[str, str]:
        """Who holds the lock and for how long, then who else has the ticket open (○): a name, initials or a count."""
        lock = ticket.lock
        viewers = self.presence.others(ticket.id, self.model.me) if self.presence is not None else []
        if lock is None:
            marker = viewers_marker(viewers, LOCK_WIDTH, short=short)
            return (marker, "presence" if marker else "")
        left = time_left(lock.expires_at, self.now())
        extra = viewers_suffix([viewer for viewer in viewers if viewer.user_id != lock.user_id])
        if lock.user_id == self.model.me:
            return (f"{LOCK_ICON} you {left}{extra}", "lock-mine")
        if short:
            return (f"{LOCK_ICON} {initials(lock.user_name)} {left}{extra}", "lock-other")
        name = _fit(lock.user_name, max(1, LOCK_WIDTH - 3 - len(left) - len(extra))).rstrip()
        return (f"{LOCK_ICON} {name} {left}{extra}", "lock-other")

    def _cells(self, ticket: TableRow, columns: tuple[Placed, ...]) -> Cells:
        """The text and colour of each column drawn, in ``columns``' order (short forms where they are short)."""
        model = self.model
        now = self.now()
        cells: list[tuple[str, str]] = []
        for placed in columns:
            sort, short = placed.sort, placed.short
            if sort is SortColumn.NUMBER:
                # Right-aligned so the digits line up; the short form drops the "#" (the header has it).
                cells.append((number_text(ticket.number, short=short).rjust(placed.width), "muted"))
            elif sort is SortColumn.LOCK:
                cells.append(self._lock_cell(ticket, short=short))
            elif sort is SortColumn.TITLE:
                cells.append((ticket.title, ""))
            elif sort is SortColumn.STATUS:
                cells.append((ticket.status.value, f"status-{ticket.status.value}"))
            elif sort is SortColumn.PRIORITY:
                cells.append((ticket.priority.value, f"priority-{ticket.priority.value}"))
            elif sort is SortColumn.ASSIGNEE:
                mine = ticket.assignee is not None and ticket.assignee == model.me
                name = "me" if mine else model.user_name(ticket.assignee)
                cells.append((initials(name) if short and not mine else name, ""))
            elif sort is SortColumn.UPDATED:
                cells.append((short_ago(ticket.updated_at, now) if short else ago(ticket.updated_at, now), "muted"))
            elif sort is SortColumn.CREATED_BY:
                name = model.user_name(ticket.created_by)
                cells.append((initials(name) if short else name, "muted"))
            elif sort is SortColumn.DUE:
                due = ticket.due_at
                # One unit in the cell, to scan down a column; the preview has the minutes.
                text = "" if due is None else due_text(due, now, short=short, rounded=True)
                cells.append((text, "overdue" if due is not None and due <= now else ""))
            elif sort is SortColumn.TAGS:
                cells.append((" ".join(ticket.tags), "muted"))
        return tuple(cells)

    def _render_cells(
        self, cells: Cells, columns: tuple[Placed, ...], state: str, width: int, marked: bool = False
    ) -> Strip:
        get = self.get_component_rich_style
        base = self.rich_style
        row_style = base + get(f"ticket-table--{state}") if state else base
        mark = get("ticket-table--mark")
        segments = [
            Segment(MARK_ICON, row_style + Style(color=mark.color, bold=True)) if marked else Segment(" ", row_style)
        ]
        for placed, (text, style_name) in zip(columns, cells, strict=True):
            style = row_style
            if style_name and state != "stale":
                cell_style = get(f"ticket-table--{style_name}")
                # Keep the row's background (cursor) but the cell's colour.
                style = row_style + Style(color=cell_style.color, bold=cell_style.bold, italic=cell_style.italic)
            segments.append(Segment(_fit(text, placed.width), style))
            segments.append(Segment(" ", row_style))
        return Strip(segments).adjust_cell_length(width, row_style).simplify()

    def _render_header(self, width: int) -> Strip:
        get = self.get_component_rich_style
        header = get("ticket-table--header")
        sorted_style = get("ticket-table--header-sorted")
        sort = self.model.sort
        segments = [Segment(" ", header)]
        for placed in self._columns(width):
            is_sorted = placed.sort is sort.column
            mark = ("▼" if sort.descending else "▲") if is_sorted else None
            segments.append(
                Segment(header_label(placed.label, placed.width, mark), sorted_style if is_sorted else header)
            )
            segments.append(Segment(" ", header))
        return Strip(segments).adjust_cell_length(width, header)

    def _render_empty(self, width: int) -> Strip:
        if self.model.total:
            text = " No tickets match the filter."
        elif self.model.loaded:
            text = " No tickets yet: press n to create one."
        else:
            text = " Loading the tickets…"
        style = self.get_component_rich_style("ticket-table--empty")
        return Strip([Segment(text, style)]).adjust_cell_length(width, self.rich_style)


def number_text(number: int, *, short: bool = False) -> str:
    """A ticket's number as the table shows it: "#1042" ("1042" short); "" for a ticket without one (0)."""
    if not number:
        return ""
    return str(number) if short else f"#{number}"


def _fit(text: str, width: int) -> str:
    """Exactly ``width`` cells: padded, or cut with an ellipsis; control characters drawn as symbols."""
    return fit(safe_line(text), width)
