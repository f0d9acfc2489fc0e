"""The status bar's count and sort under the table: worded to fit 80 columns with the arrow, and honest while the
first load is still arriving."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from lesbillets_tui.table_model import SortColumn
from lesbillets_tui.widgets.status_bar import StatusBar, count_texts
from protocol.client import ConnectionState
from tests.support import ServerHarness, with_tickets
from tests.tui.helpers import running_app, terminal_output, until


def bar_on_screen(app: App[None]) -> str:
    bar = app.screen.query_one(StatusBar)
    text, _ = terminal_output(app)  # type: ignore[arg-type]
    return text.splitlines()[bar.region.y]


@pytest.mark.parametrize(
    ("shown", "total", "arriving", "partial", "longest", "shortest"),
    [
        (20233, 20233, False, False, ("Showing 20,233 of 20,233", "by created by ▲"),
         "20,233 of 20,233 · created by ▲"),
        (200, 200, True, True, ("200 loaded so far…", "by updated ▼"), "200 so far… · updated ▼"),
        (12, 200, True, True, ("Showing 12 of 200 loaded so far…", "by updated ▼"), "12 of 200 so far… · updated ▼"),
        (0, 0, True, True, ("Loading…", "by updated ▼"), "Loading… · updated ▼"),
        (20233, 20233, True, False, ("Showing 20,233 of 20,233 · loading…", "by updated ▼"),
         "20,233 of 20,233 · loading… · updated ▼"),
    ],
    ids=["loaded", "first load", "first load, filtered", "nothing yet", "a reload"],
)  # fmt: skip
def test_count_wordings_keep_the_arrow(
    shown: int, total: int, arriving: bool, partial: bool, longest: tuple[str, str], shortest: str
) -> None:
    """Every wording has the sort's arrow; a first load says "so far", a reload counts the table shown."""
    sort = "by created by ▲" if longest[1] == "by created by ▲" else "by updated ▼"
    choices = count_texts(shown, total, sort, arriving=arriving, partial=partial)
    assert choices[0] == longest and choices[-1] == (shortest, "")
    assert all("▲" in count + shown_sort or "▼" in count + shown_sort for count, shown_sort in choices)


def test_marked_tickets_are_counted_in_every_wording() -> None:
    """The marks lead the count, long or short."""
    choices = count_texts(3, 3, "by updated ▼", marked=2)
    assert [count for count, _ in choices] == [
        "2 marked · Showing 3 of 3",
        "2 marked · 3 of 3",
        "2 marked · 3 of 3 · updated ▼",
    ]


async def test_at_80_columns_the_bar_keeps_the_count_and_the_sort_arrow(server: ServerHarness) -> None:
    """80x24, 10,500 tickets sorted by Created by: the bar says both counts and "created by ▲", nothing cut."""
    await with_tickets(server, 10_500)
    async with running_app(server, size=(80, 24)) as (app, pilot, _):
        status = app.screen.query_one(StatusBar)
        await until(pilot, lambda: not status.arriving and status.unread is not None, "the load and the inbox")
        await pilot.press("s")
        await until(pilot, lambda: app.desk.model.sort.column is SortColumn.CREATED_BY, "sorted by created by")
        await pilot.pause()
        line = bar_on_screen(app)
        assert "10,500 of 10,500" in line and line.rstrip().endswith("created by ▲"), line
        await pilot.resize_terminal(140, 24)
        await until(pilot, lambda: "Showing 10,500 of 10,500" in bar_on_screen(app), "the long wording when wide")
        assert bar_on_screen(app).rstrip().endswith("by created by ▲")


class BarApp(App[None]):
    """Just the status bar."""

    def compose(self) -> ComposeResult:
        yield StatusBar()


async def test_a_first_load_counts_what_came_so_far_and_a_reload_the_table_shown() -> None:
    """While the first load streams, "200 loaded so far…" (not "Showing 200 of 200"); a reload keeps its counts."""
    app = BarApp()
    async with app.run_test(size=(100, 3)) as pilot:
        bar = app.query_one(StatusBar)
        bar.show(user="Alice Martin", shown=200, total=200, sort="by updated ▼", loading=True, partial=True)
        await pilot.pause()
        assert "200 loaded so far…" in bar_on_screen(app) and "Showing" not in bar_on_screen(app)
        bar.show(shown=20233, total=20233, loading=False, partial=False)
        await pilot.pause()
        assert "Showing 20,233 of 20,233" in bar_on_screen(app) and "so far" not in bar_on_screen(app)
        bar.show(loading=True)
        await pilot.pause()
        assert "Showing 20,233 of 20,233 · loading…" in bar_on_screen(app)


async def test_a_long_name_and_marks_give_way_to_the_count_and_the_arrow() -> None:
    """80 columns, reconnecting, tickets marked, a long name: the name is cut, the count and the arrow stay whole."""
    app = BarApp()
    async with app.run_test(size=(80, 3)) as pilot:
        bar = app.query_one(StatusBar)
        name = "Marie-Christine de La Fontaine-Dubois"
        bar.show(state=ConnectionState.RECONNECTING, user=name, shown=20233, total=20233, sort="by created by ▲")
        bar.show(unread=12, marked=3, note="rows may be stale")
        await pilot.pause()
        line = bar_on_screen(app)
        assert line.rstrip().endswith("3 marked · 20,233 of 20,233 · created by ▲"), line
        assert " M… " in line and name not in line and "◌ reconnecting…" in line and "✉ 12 unread" in line
