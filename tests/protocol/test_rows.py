"""`protocol.rows`, sans-I/O: pages expanded to rows with user ids and datetimes, full tickets as rows, which pages
make one table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from protocol.errors import ProtocolViolation
from protocol.messages import Lock, Priority, Row, Rows, Status, Ticket
from protocol.rows import RowsLoad, TableRow, expand

ALICE = uuid.UUID(int=1)
BOB = uuid.UUID(int=2)
AT = datetime(2026, 11, 24, 9, 15, 30, tzinfo=UTC)
LOCK = Lock(user_id=BOB, user_name="Bob", expires_at=AT)


def _row(n: int, *, assignee: int | None = 1, created_by: int = 0) -> Row:
    return Row(
        id=uuid.UUID(int=100 + n),
        number=n,
        title=f"Ticket {n}",
        status=Status.BLOCKED,
        priority=Priority.HIGH,
        assignee=assignee,
        created_by=created_by,
        updated_at=int(AT.timestamp()) + n,
        version=3,
        lock=LOCK if n == 1 else None,
        due_at=int(AT.timestamp()) if n == 2 else None,
        tags=["vpn"] if n == 2 else [],
    )


def _page(rows: list[Row], *, rid: int = 4, more: bool = True) -> Rows:
    return Rows(rid=rid, seq=9, users=[ALICE, BOB], rows=rows, more=more)


def test_expand_resolves_users_and_times() -> None:
    """Indexes become the page's user ids, Unix seconds become UTC datetimes, the rest is as sent."""
    first, second, third = expand(_page([_row(0, assignee=None), _row(1, created_by=1), _row(2, assignee=0)]))
    assert (first.assignee, first.created_by) == (None, ALICE)
    assert (second.assignee, second.created_by, second.lock) == (BOB, BOB, LOCK)
    assert (third.assignee, third.due_at, third.tags) == (ALICE, AT, ("vpn",))
    assert first.updated_at == AT and first.updated_at.tzinfo is UTC and first.due_at is None
    assert (first.id, first.number, first.title, first.status, first.priority, first.version) == (
        uuid.UUID(int=100),
        0,
        "Ticket 0",
        Status.BLOCKED,
        Priority.HIGH,
        3,
    )


@pytest.mark.parametrize(
    ("assignee", "created_by"),
    [(2, 0), (None, 2), (-1, 0), (0, -1), (None, 99)],
    ids=["assignee-past-end", "creator-past-end", "assignee-negative", "creator-negative", "creator-far"],
)
def test_expand_refuses_a_user_the_page_does_not_list(assignee: int | None, created_by: int) -> None:
    """A row indexing outside its page's users is a `ProtocolViolation` with a sentence, not a wrong name."""
    with pytest.raises(ProtocolViolation, match="naming a user its page does not list"):
        expand(_page([_row(0, assignee=assignee, created_by=created_by)]))


def test_a_ticket_and_its_row_agree() -> None:
    """`TableRow.of` keeps every field a row has, so rows from pages and from events mix in one table."""
    ticket = Ticket(
        id=uuid.UUID(int=100),
        title="Ticket 0",
        description="not in the row",
        status=Status.BLOCKED,
        priority=Priority.HIGH,
        assignee=None,
        created_at=AT,
        created_by=ALICE,
        updated_at=AT,
        updated_by=BOB,
        version=3,
        number=0,
    )
    [from_page] = expand(_page([_row(0, assignee=None)]))
    assert TableRow.of(ticket) == from_page


def test_rows_load_tells_a_new_table_from_the_next_page() -> None:
    """The first page of a request starts a table, its others add to it, its last completes it; a page of
    another request (a reload after a reconnect) starts again, even mid-load."""
    load = RowsLoad()
    assert load.take(_page([], rid=4)) and not load.complete
    assert not load.take(_page([], rid=4)) and not load.complete
    assert load.take(_page([], rid=7)) and not load.complete  # the load of rid 4 was cut short
    assert not load.take(_page([], rid=7, more=False)) and load.complete
    assert load.take(_page([], rid=8, more=False)) and load.complete  # one page is a whole table
