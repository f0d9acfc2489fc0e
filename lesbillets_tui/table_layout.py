"""Which columns the ticket table shows at a given width, and how wide: the narrow-terminal priorities, sans I/O.

At full width every column shows names in full; Due and Tags are as wide as the rows in view need (not there at
all when no row in view has one, unless the table is sorted by it), and the agent may hide either. The # column
comes first and is as wide as the highest number loaded ("#1042"), so it does not shift while scrolling; a number
is never cut and the column never goes (it is what agents quote). As the terminal narrows, the table gives things
up in this order, one at a time, until the title has `TITLE_MIN` cells:

1. the Lock column fits what the rows in view hold (nothing: just its header) and lock holders become initials;
2. Created by shows initials ("AM", two cells) instead of names; the Tags column goes; Assignee shows initials;
3. Due and Updated show short forms ("-20m", "5h"), Priority's header becomes "Prio"; the # column drops its "#"
   ("1042" under the header "#"); Status's header becomes "Stat" and the column "blocked" wide;
4. whole columns go: Created by, then Assignee, then Updated, then Due.

The width is what the table shows, beside its scrollbar's gutter (78 cells in an 80-column terminal). So at 80
columns every column but Tags is still there with numbers up to five digits, and the title keeps 30 cells or more.
Every width leaves room for the sort mark after the header's label (`header_label`), so the mark always shows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

from lesbillets_tui.table_model import SortColumn

TITLE_MIN = 30
"""The title's cells the table gives other columns up for (titles are what agents scan)."""
SORT_MARK_CELLS = 2
"""A space and ▲ or ▼."""


@dataclass(frozen=True)
class Column:
    sort: SortColumn
    label: str
    width: int
    """Cells at full width; 0 for the title, which takes what is left."""
    short_label: str
    short_width: int
    fits_view: bool = False
    """As wide as the rows in view need (at most `width`; left out when they need nothing), at any width."""
    measured: bool = False
    """As wide as the caller measured (``in_view``; its short form one cell less), never cut, never left out."""


# The table's columns, left to right.
COLUMNS: tuple[Column, ...] = (
    Column(SortColumn.NUMBER, "#", 6, "#", 5, measured=True),
    Column(SortColumn.LOCK, "Lock", 18, "Lock", 10),
    Column(SortColumn.TITLE, "Title", 0, "Title", 0),
    Column(SortColumn.STATUS, "Status", 8, "Stat", 7),
    Column(SortColumn.PRIORITY, "Priority", 10, "Prio", 6),
    Column(SortColumn.DUE, "Due", 12, "Due", 5, fits_view=True),  # "overdue 120d"
    Column(SortColumn.ASSIGNEE, "Assignee", 14, "To", 2),  # initials, "me"
    Column(SortColumn.UPDATED, "Updated", 10, "Upd", 6),
    Column(SortColumn.CREATED_BY, "Created by", 14, "By", 2),
    Column(SortColumn.TAGS, "Tags", 16, "Tags", 16, fits_view=True),
)
HIDEABLE = frozenset({SortColumn.DUE, SortColumn.TAGS})
"""The columns the agent may hide (the palette's Show/hide commands)."""
_SHORT, _DROPPED = "short", "dropped"
_STEPS: tuple[tuple[str, SortColumn], ...] = (
    (_SHORT, SortColumn.LOCK),
    (_SHORT, SortColumn.CREATED_BY),
    (_DROPPED, SortColumn.TAGS),
    (_SHORT, SortColumn.ASSIGNEE),
    (_SHORT, SortColumn.DUE),
    (_SHORT, SortColumn.UPDATED),
    (_SHORT, SortColumn.PRIORITY),
    (_SHORT, SortColumn.NUMBER),
    (_SHORT, SortColumn.STATUS),
    (_DROPPED, SortColumn.CREATED_BY),
    (_DROPPED, SortColumn.ASSIGNEE),
    (_DROPPED, SortColumn.UPDATED),
    (_DROPPED, SortColumn.DUE),
)


@dataclass(frozen=True)
class Placed:
    """A column as drawn: its width and whether it uses the short form (initials, short age, short header)."""

    column: Column
    width: int
    short: bool

    @property
    def sort(self) -> SortColumn:
        return self.column.sort

    @property
    def label(self) -> str:
        return self.column.short_label if self.short else self.column.label


def plan(
    width: int,
    *,
    in_view: Mapping[SortColumn, int],
    sorted_by: SortColumn,
    hidden: Collection[SortColumn] = (),
    short_in_view: Mapping[SortColumn, int] | None = None,
) -> tuple[Placed, ...]:
    """The columns to draw in ``width`` cells (a leading space, then the columns with a space between them).

    ``in_view`` holds, for the Lock, Due and Tags columns, the widest cell among the rows in view (in the short form
    for Lock), and for the # column the widest "#n" among all the tickets loaded; a missing column counts as
    empty. ``short_in_view`` holds the widest short form of a column whose short form is narrower (Due: "-20m"
    beside "overdue 20m"); without it the short form fits ``in_view``. ``hidden`` columns are not drawn.
    """
    # The sort column always shows (its mark says what the order is), even one the agent hid.
    short: set[SortColumn] = set()
    dropped: set[SortColumn] = {column for column in hidden if column in HIDEABLE and column is not sorted_by}
    for step in (None, *_STEPS):
        if step is not None:
            kind, column = step
            if kind == _SHORT:
                short.add(column)
            elif column is not sorted_by:
                dropped.add(column)
        placed, title_width = _place(width, short, dropped, in_view, short_in_view or {}, sorted_by)
        if title_width >= TITLE_MIN:
            break
    return placed


def _place(
    width: int,
    short: set[SortColumn],
    dropped: set[SortColumn],
    in_view: Mapping[SortColumn, int],
    short_in_view: Mapping[SortColumn, int],
    sorted_by: SortColumn,
) -> tuple[tuple[Placed, ...], int]:
    """The columns, and the cells left for the title (drawn at least `TITLE_MIN` wide, cut at the screen's edge)."""
    placed: list[Placed] = []
    for column in COLUMNS:
        if column.sort in dropped:
            continue
        if column.fits_view and not in_view.get(column.sort, 0) and sorted_by is not column.sort:
            continue  # no row in view has a due time (tags): a header alone would say nothing
        is_short = column.sort in short
        cells = column.short_width if is_short else column.width
        if column.measured:
            label = column.short_label if is_short else column.label
            header = len(label) + (SORT_MARK_CELLS if sorted_by is column.sort else 0)
            cells = max(header, in_view.get(column.sort, 0) - (1 if is_short else 0))
        elif column.fits_view or (column.sort is SortColumn.LOCK and is_short):
            label = column.short_label if is_short else column.label
            header = len(label) + (SORT_MARK_CELLS if sorted_by is column.sort else 0)
            measure = short_in_view if is_short and column.sort in short_in_view else in_view
            cells = min(cells, max(header, measure.get(column.sort, 0)))
        elif is_short and sorted_by is column.sort:
            cells = max(cells, len(column.short_label) + SORT_MARK_CELLS)  # "To ▲" over initials
        placed.append(Placed(column, cells, is_short))
    # A cell before each column (the first one's holds the mark ✓), none after the last: the scrollbar's gutter
    # follows it.
    title_width = width - sum(p.width + 1 for p in placed)
    drawn = max(TITLE_MIN, title_width)
    return tuple(Placed(p.column, drawn, p.short) if p.sort is SortColumn.TITLE else p for p in placed), title_width


def header_label(label: str, width: int, mark: str | None) -> str:
    """A header cell of exactly ``width`` cells; the sort mark, when there is one, is never the part cut off."""
    if mark is None:
        return fit(label, width)
    return set_cell_size(fit(label, max(0, width - SORT_MARK_CELLS)).rstrip() + f" {mark}", width)


def fit(text: str, width: int) -> str:
    """Exactly ``width`` cells: padded, or cut with an ellipsis."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, max(0, width - 1)) + "…"


def initials(name: str) -> str:
    """ "Alice Martin" → "AM", "bob" → "B": for a name in a narrow column (the preview has it in full)."""
    words = name.split()
    return "".join(word[0] for word in words[:2]).upper()
