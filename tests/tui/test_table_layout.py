"""The table's narrow-terminal priorities as plain functions: which columns, how wide, in which form."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lesbillets_tui.table_layout import TITLE_MIN, header_label, initials, plan
from lesbillets_tui.table_model import SortColumn
from lesbillets_tui.timefmt import short_ago
from tests.tui.factory import T0

AT_80 = 80 - 2
"""What the table shows in an 80-column terminal: the scrollbar's gutter takes two cells."""


def shape(width: int, lock_in_view: int = 0, *, number: int = 5, **in_view: int) -> list[tuple[str, int]]:
    """The labels and widths at ``width``, the highest number "#1042" (5 cells) unless told."""
    widths = {SortColumn.LOCK: lock_in_view, SortColumn.NUMBER: number}
    widths |= {SortColumn(name): cells for name, cells in in_view.items()}
    return [(p.label, p.width) for p in plan(width, in_view=widths, sorted_by=SortColumn.UPDATED)]


def test_full_width_shows_every_column_in_full() -> None:
    """At 140 columns nothing is shortened: names in full; Due and Tags only when a row in view has one."""
    assert shape(140) == [
        ("#", 5), ("Lock", 18), ("Title", 53), ("Status", 8), ("Priority", 10), ("Assignee", 14), ("Updated", 10),
        ("Created by", 14),
    ]  # fmt: skip
    sorted_by_due = plan(140, in_view={}, sorted_by=SortColumn.DUE)
    assert [(p.label, p.width) for p in sorted_by_due if p.sort is SortColumn.DUE] == [("Due", 5)]


def test_due_and_tags_are_as_wide_as_the_rows_in_view_need() -> None:
    """Due fits "overdue 20m", Tags fits its words, up to their full widths."""
    widths = dict(shape(200, due=11, tags=40))
    assert (widths["Due"], widths["Tags"]) == (11, 16)


def test_the_sort_column_is_never_dropped_nor_hidden() -> None:
    """Sorted by tags at 80 columns, or with Tags hidden, the Tags column (and its mark) stays."""
    for hidden in ((), (SortColumn.TAGS,)):
        placed = plan(AT_80, in_view={SortColumn.TAGS: 8}, sorted_by=SortColumn.TAGS, hidden=hidden)
        assert SortColumn.TAGS in [p.sort for p in placed]


def test_hidden_columns_are_not_drawn() -> None:
    """The agent hid Due and Tags: the title gets their cells."""
    in_view = {SortColumn.DUE: 11, SortColumn.TAGS: 8}
    placed = plan(140, in_view=in_view, sorted_by=SortColumn.UPDATED, hidden={SortColumn.DUE, SortColumn.TAGS})
    assert [p.label for p in placed] == [
        "#",
        "Lock",
        "Title",
        "Status",
        "Priority",
        "Assignee",
        "Updated",
        "Created by",
    ]


@pytest.mark.parametrize(
    ("lock_in_view", "number", "expected"),
    [
        (0, 5, [("#", 5), ("Lock", 4), ("Title", 33), ("Status", 8), ("Priority", 10), ("To", 2), ("Upd", 6),
                ("By", 2)]),
        (9, 6, [("#", 6), ("Lock", 9), ("Title", 31), ("Status", 8), ("Prio", 6), ("To", 2), ("Upd", 6), ("By", 2)]),
        (10, 7, [("#", 6), ("Lock", 10), ("Title", 30), ("Status", 8), ("Prio", 6), ("To", 2), ("Upd", 6),
                 ("By", 2)]),
    ],
    ids=["no lock in view", "a lock and five-digit numbers", "your lock and six-digit numbers"],
)  # fmt: skip
def test_80_columns_keep_every_column_by_shortening(
    lock_in_view: int, number: int, expected: list[tuple[str, int]]
) -> None:
    """At 80 (78 cells beside the scrollbar) the Lock column fits the rows in view, names become initials and
    numbers lose their "#" before any column goes; the last column ends at the gutter."""
    assert shape(AT_80, lock_in_view, number=number) == expected
    assert sum(width + 1 for _, width in expected) == AT_80


def test_very_narrow_drops_columns_last_and_the_title_keeps_its_minimum() -> None:
    """Below what shortening can save, Created by, Assignee, then Updated go (not the sort column); the title never
    gets less."""
    assert [label for label, _ in shape(75, 9)] == ["#", "Lock", "Title", "Status", "Prio", "To", "Upd", "By"]
    assert [label for label, _ in shape(74, 9)] == ["#", "Lock", "Title", "Stat", "Prio", "To", "Upd", "By"]
    assert [label for label, _ in shape(73, 9)] == ["#", "Lock", "Title", "Stat", "Prio", "To", "Upd"]
    assert [label for label, _ in shape(70, 9)] == ["#", "Lock", "Title", "Stat", "Prio", "Upd"]
    assert [label for label, _ in shape(AT_80, 9, due=11)] == [
        "#", "Lock", "Title", "Stat", "Prio", "Due", "To", "Upd",
    ]  # fmt: skip
    assert [label for label, _ in shape(40, 9)] == ["#", "Lock", "Title", "Stat", "Prio", "Upd"]  # sorted by it
    placed = plan(40, in_view={SortColumn.LOCK: 9, SortColumn.NUMBER: 5}, sorted_by=SortColumn.TITLE)
    assert [(p.label, p.width) for p in placed] == [
        ("#", 4), ("Lock", 9), ("Title", TITLE_MIN), ("Stat", 7), ("Prio", 6),
    ]  # fmt: skip


@pytest.mark.parametrize("column", [SortColumn.ASSIGNEE, SortColumn.CREATED_BY])
def test_initials_columns_are_two_cells_and_keep_room_for_the_mark(column: SortColumn) -> None:
    """Initials ("AM", "me") need two cells, as does the header "To" or "By"; sorted on, "By ▲" needs four."""
    in_view = {SortColumn.LOCK: 10, SortColumn.NUMBER: 7}
    unsorted = next(p for p in plan(AT_80, in_view=in_view, sorted_by=SortColumn.UPDATED) if p.sort is column)
    placed = next(p for p in plan(AT_80, in_view=in_view, sorted_by=column) if p.sort is column)
    assert (unsorted.short, unsorted.width, placed.short, placed.width) == (True, 2, True, 4)
    assert header_label(placed.label, placed.width, "▲") == f"{placed.label} ▲"


def test_a_sorted_lock_column_keeps_room_for_its_mark() -> None:
    """An empty Lock column sorted on shrinks to its label and the mark, no further."""
    lock = plan(AT_80, in_view={}, sorted_by=SortColumn.LOCK)[1]
    assert (lock.label, lock.width) == ("Lock", 6)
    assert header_label(lock.label, lock.width, "▼") == "Lock ▼"


@pytest.mark.parametrize(
    ("label", "width", "mark", "expected"),
    [
        ("Priority", 10, "▼", "Priority ▼"),
        ("Priority", 9, "▲", "Priori… ▲"),
        ("Created by", 14, "▼", "Created by ▼  "),
        ("Status", 8, None, "Status  "),
        ("Assignee", 4, None, "Ass…"),
    ],
)
def test_header_label_never_cuts_the_sort_mark(label: str, width: int, mark: str | None, expected: str) -> None:
    """The label is cut to make room; the mark stays."""
    assert header_label(label, width, mark) == expected


@pytest.mark.parametrize(
    ("name", "expected"), [("Alice Martin", "AM"), ("bob", "B"), ("Jean Paul Sartre", "JP"), ("", "")]
)
def test_initials(name: str, expected: str) -> None:
    """The first letters of the first two words, upper case."""
    assert initials(name) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(5, "now"), (125, "2m"), (3 * 3600 + 5, "3h"), (4 * 86400, "4d"), (40 * 86400, "Feb 02")],
)
def test_short_ago_fits_six_cells(seconds: int, expected: str) -> None:
    """The Updated column's short form."""
    assert short_ago(T0 - timedelta(seconds=seconds), T0) == expected


@pytest.mark.parametrize(
    ("width", "number", "expected"),
    [
        (140, 5, ("#", 5, False)),  # "#1042"
        (140, 8, ("#", 8, False)),  # "#1234567": never cut
        (76, 6, ("#", 5, True)),  # "10042" under "#": every other column kept
        (40, 17, ("#", 16, True)),  # too narrow for anything else: still there, whole
        (140, 0, ("#", 1, False)),  # nothing loaded: just the header
    ],
)
def test_the_number_column_comes_first_whole_and_never_goes(
    width: int, number: int, expected: tuple[str, int, bool]
) -> None:
    """The # column is as wide as the highest number (a cell less without its "#" when narrow), at every width."""
    first = plan(width, in_view={SortColumn.LOCK: 9, SortColumn.NUMBER: number}, sorted_by=SortColumn.UPDATED)[0]
    assert (first.label, first.width, first.short) == expected


def test_sorted_by_number_the_header_keeps_its_mark() -> None:
    """Numbers up to #9 are two cells, but the header "# ▼" needs three."""
    first = plan(AT_80, in_view={SortColumn.NUMBER: 2}, sorted_by=SortColumn.NUMBER)[0]
    assert header_label(first.label, first.width, "▼") == "# ▼"


def test_a_short_due_column_fits_its_short_form() -> None:
    """At 80 with your lock and an overdue ticket in view, Due is "-20m" wide (not "overdue 20m" cut to five), which
    keeps the assignee's column."""
    in_view = {SortColumn.LOCK: 10, SortColumn.NUMBER: 5, SortColumn.DUE: len("overdue 20m")}
    placed = plan(AT_80, in_view=in_view, sorted_by=SortColumn.UPDATED, short_in_view={SortColumn.DUE: len("-20m")})
    assert [(p.label, p.width) for p in placed if p.sort in (SortColumn.DUE, SortColumn.ASSIGNEE)] == [
        ("Due", 4),
        ("To", 2),
    ]
