"""The filter's #numbers as plain functions: when enter jumps, and what is said about a number that shows nothing."""

from __future__ import annotations

import pytest

from lesbillets_tui.number_filter import jump_number, number_notes
from lesbillets_tui.table_model import TableModel
from protocol.messages import Status
from tests.tui.factory import ME, USERS, make_ticket


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("#1042", 1042),
        ("  #7 ", 7),
        ("#1042 #1043", None),  # a filter of two tickets
        ("status:open #1042", None),
        ("#1042 printer", None),
        ("#0", None),  # not a number (a word)
        ("#12345678901234567", None),  # longer than any number
        ("#abc", None),
        ("1042", None),
        ("", None),
    ],
)
def test_only_a_lone_number_is_a_jump(query: str, expected: int | None) -> None:
    """Enter jumps only when the filter is one #n and nothing else."""
    assert jump_number(query) == expected


def model(query: str, *, loaded: bool = True) -> TableModel:
    tickets = [make_ticket(1), make_ticket(2, status=Status.CLOSED), make_ticket(3)]  # #1001, #1002, #1003
    result = TableModel(me=ME.id, users=USERS)
    result.load(tickets, complete=loaded)
    result.set_query(query)
    return result


@pytest.mark.parametrize(
    ("query", "loaded", "notes"),
    [
        ("#1001", True, ()),
        ("printer", True, ()),
        ("#1001 #1003", True, ()),
        ("#4242", True, ("No ticket has the number #4242.",)),
        ("#4242", False, ("No ticket numbered #4242 has loaded yet.",)),
        ("#1001 #1000", True, ("No ticket has the number #1000.",)),  # below the highest: looked for, not found
        ("status:closed #1001 #1002", True, ("#1001 does not match the rest of the filter.",)),
        ("#9 #8", True, ("No ticket has the number #8.", "No ticket has the number #9.")),
    ],
)
def test_a_number_that_shows_no_ticket_is_said(query: str, loaded: bool, notes: tuple[str, ...]) -> None:
    """Each number in the filter with no row in the table gets a sentence saying why."""
    assert number_notes(model(query, loaded=loaded)) == notes
