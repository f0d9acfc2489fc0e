"""The palette is the one place colours by meaning are chosen; the table's CSS is made from it."""

from __future__ import annotations

import pytest

from lesbillets_tui.palette import PRIORITY_STYLE, STATUS_STYLE, css
from lesbillets_tui.widgets.ticket_table import CELL_STYLES, TicketTable
from protocol.messages import Priority, Status


@pytest.mark.parametrize(
    ("style", "declarations"),
    [
        ("$text-success", "color: $text-success;"),
        ("$text-error bold", "color: $text-error; text-style: bold;"),
        ("bold italic", "text-style: bold italic;"),
        ("", ""),
    ],
)
def test_a_style_string_becomes_css(style: str, declarations: str) -> None:
    """A palette string turns into the same colour and text style as CSS declarations."""
    assert css(style) == declarations


def test_the_table_colours_cells_from_the_palette() -> None:
    """Each status and priority cell's component class gets its colour from the palette and exists on the table."""
    for status in Status:
        name = f"status-{status.value}"
        assert CELL_STYLES[name] == STATUS_STYLE[status]
        assert f"TicketTable > .ticket-table--{name} {{ {css(STATUS_STYLE[status])} }}" in TicketTable.DEFAULT_CSS
    for priority in Priority:
        assert CELL_STYLES[f"priority-{priority.value}"] == PRIORITY_STYLE[priority]
    assert {f"ticket-table--{name}" for name in CELL_STYLES} <= TicketTable.COMPONENT_CLASSES
