"""The table's model: snapshot, sort, filter, and single-ticket events moving one index entry."""

from __future__ import annotations

import random
from datetime import timedelta

import msgspec
import pytest

from lesbillets_tui.table_model import Sort, SortColumn, TableModel
from protocol.messages import (
    Lock,
    Priority,
    Status,
    Ticket,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    TicketUpdated,
    UnlockReason,
)
from protocol.rows import TableRow
from tests.tui.factory import BOB, ME, T0, USERS, make_ticket, many_tickets


def titles(model: TableModel) -> list[str]:
    return [ticket.title for ticket in model.rows(0, len(model))]


def model_with(*tickets: Ticket, sort: Sort | None = None, numbers: tuple[int, ...] = ()) -> TableModel:
    """A model loaded with ``tickets``, numbered ``numbers`` when given (the factory's otherwise)."""
    if numbers:
        tickets = tuple(msgspec.structs.replace(t, number=n) for t, n in zip(tickets, numbers, strict=True))
    model = TableModel(me=ME.id, users=USERS, sort=sort)
    model.load(tickets)
    return model


def test_default_sort_is_most_recently_updated_first() -> None:
    """A fresh table shows the latest activity on top."""
    model = model_with(make_ticket(1), make_ticket(3), make_ticket(2))
    assert titles(model) == ["Ticket 3", "Ticket 2", "Ticket 1"]
    assert model.total == len(model) == 3


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (Sort(SortColumn.TITLE, descending=False), ["apple", "Banana", "cherry"]),
        (Sort(SortColumn.TITLE, descending=True), ["cherry", "Banana", "apple"]),
        (Sort(SortColumn.PRIORITY, descending=True), ["cherry", "apple", "Banana"]),
        (Sort(SortColumn.STATUS, descending=False), ["Banana", "apple", "cherry"]),
        (Sort(SortColumn.ASSIGNEE, descending=False), ["cherry", "apple", "Banana"]),
        (Sort(SortColumn.LOCK, descending=True), ["Banana", "cherry", "apple"]),
        (Sort(SortColumn.UPDATED, descending=False), ["apple", "Banana", "cherry"]),
        (Sort(SortColumn.NUMBER, descending=True), ["apple", "cherry", "Banana"]),
        (Sort(SortColumn.NUMBER, descending=False), ["Banana", "cherry", "apple"]),
    ],
)
def test_sorts_by_each_column(sort: Sort, expected: list[str]) -> None:
    """Every column sorts, case-insensitively for text, by rank for status and priority."""
    lock = Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0)
    model = model_with(
        make_ticket(1, title="apple", status=Status.BLOCKED, priority=Priority.HIGH, assignee=BOB.id),
        make_ticket(2, title="Banana", status=Status.OPEN, priority=Priority.LOW, lock=lock),
        make_ticket(3, title="cherry", status=Status.CLOSED, priority=Priority.URGENT, assignee=ME.id),
        numbers=(1044, 17, 982),  # not in the order they were updated
    )
    model.set_sort(sort)
    assert titles(model) == expected


def test_next_column_cycles_through_every_column_in_its_natural_direction() -> None:
    """`s` visits each column once and comes back; updated starts newest first, title A→Z."""
    sort = Sort()
    seen = []
    for _ in SortColumn:
        sort = sort.next_column()
        seen.append(sort.column)
    assert seen[-1] is SortColumn.UPDATED and set(seen) == set(SortColumn)
    assert Sort(SortColumn.LOCK).next_column() == Sort(SortColumn.TITLE, descending=False)
    assert Sort(SortColumn.CREATED_BY).next_column() == Sort(SortColumn.NUMBER, descending=True)  # newest first
    assert Sort().reversed() == Sort(SortColumn.UPDATED, descending=False)


@pytest.mark.parametrize(
    "sort", [Sort(), Sort(SortColumn.PRIORITY), Sort(SortColumn.LOCK), Sort(SortColumn.TITLE), Sort(SortColumn.NUMBER)]
)
def test_events_move_one_row_and_keep_the_order(sort: Sort) -> None:
    """Created, updated, locked and unlocked tickets land where a full re-sort would put them."""
    tickets = many_tickets(500)
    model = model_with(*tickets, sort=sort)
    rng = random.Random(3)
    later = T0 + timedelta(days=30)
    for step in range(300):
        kind = rng.randrange(4)
        target = rng.choice(tickets)
        current = model.get(target.id)
        assert current is not None
        if kind == 0:
            model.apply(TicketCreated(seq=step, ticket=make_ticket(1000 + step, updated_at=later)))
        elif kind == 1:
            changed = msgspec.structs.replace(
                current, version=current.version + 1, priority=rng.choice(list(Priority)), updated_at=later
            )
            model.apply(TicketUpdated(seq=step, ticket=changed))
        elif kind == 2:
            model.apply(
                TicketLocked(seq=step, ticket_id=target.id, lock=Lock(user_id=ME.id, user_name="A", expires_at=later))
            )
        else:
            model.apply(TicketUnlocked(seq=step, ticket_id=target.id, reason=UnlockReason.RELEASED))
        later += timedelta(seconds=1)
    # the incremental order, never rebuilt since the snapshot, against a full sort of the same tickets
    assert titles(model) == titles(model_with(*model.tickets.values(), sort=sort))


def test_older_version_never_replaces_a_newer_one() -> None:
    """A late event carrying an older version is ignored."""
    model = model_with(make_ticket(1, title="new", version=3))
    model.apply(TicketUpdated(seq=1, ticket=make_ticket(1, title="old", version=2)))
    assert titles(model) == ["new"]


def test_lock_events_set_and_clear_the_lock() -> None:
    """TicketLocked puts the lock on the row, TicketUnlocked takes it off; unknown ids are ignored."""
    ticket = make_ticket(1)
    model = model_with(ticket)
    lock = Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0)
    assert model.apply(TicketLocked(seq=1, ticket_id=ticket.id, lock=lock)) is not None
    assert model.row(0).lock == lock
    model.apply(TicketUnlocked(seq=2, ticket_id=ticket.id, reason=UnlockReason.EXPIRED))
    assert model.row(0).lock is None
    assert model.apply(TicketUnlocked(seq=3, ticket_id=make_ticket(9).id, reason=UnlockReason.EXPIRED)) is None


def test_filter_follows_live_changes() -> None:
    """A ticket enters or leaves the filtered rows when an event changes whether it matches."""
    model = model_with(make_ticket(1, title="printer"), make_ticket(2, title="vpn"))
    assert model.set_query("printer status:open") == ()
    assert titles(model) == ["printer"]
    closed = msgspec.structs.replace(model.tickets[make_ticket(1).id], status=Status.CLOSED, version=2)
    model.apply(TicketUpdated(seq=1, ticket=closed))
    assert titles(model) == [] and model.total == 2
    renamed = msgspec.structs.replace(model.tickets[make_ticket(2).id], title="printer too", version=2)
    model.apply(TicketUpdated(seq=2, ticket=renamed))
    assert titles(model) == ["printer too"]


def test_locked_filter_and_assignee_me() -> None:
    """`locked` and `assignee:me` narrow by lock and by the logged-in agent."""
    lock = Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0)
    model = model_with(make_ticket(1, lock=lock), make_ticket(2, assignee=ME.id), make_ticket(3))
    model.set_query("locked")
    assert titles(model) == ["Ticket 1"]
    model.set_query("assignee:me")
    assert titles(model) == ["Ticket 2"]
    assert model.set_query("assignee:nobody-here") == ("No agent matches “nobody-here”.",)
    assert len(model) == 3


def test_position_of_follows_the_ticket() -> None:
    """position_of finds a row in either direction, and None for a filtered-out ticket."""
    model = model_with(*(make_ticket(n) for n in range(10)))
    target = make_ticket(4).id
    assert model.position_of(target) == 5
    model.set_sort(Sort().reversed())
    assert model.position_of(target) == 4
    model.set_query("Ticket 7")
    assert model.position_of(target) is None


def test_user_names() -> None:
    """Known users by name, unknown ones by a short id, nobody as empty."""
    model = model_with()
    assert model.user_name(BOB.id) == "Bob Dubois"
    assert model.user_name(None) == ""
    assert model.user_name(make_ticket(5).id) == str(make_ticket(5).id)[:8]


def test_a_hundred_thousand_tickets_stay_sorted_under_events() -> None:
    """At a real backlog's size, repeated events move one row to its sorted place (speed is measured in bench/)."""
    tickets = many_tickets(100_000)
    model = TableModel(me=ME.id, users=USERS)
    model.load(tickets)
    target = tickets[50_000]
    for n in range(100):
        model.apply(
            TicketUpdated(
                seq=n,
                ticket=msgspec.structs.replace(target, version=n + 2, updated_at=T0 + timedelta(days=400, seconds=n)),
            )
        )
    assert model.row(0).id == target.id
    assert model.row(0).version == 101


# --- loading from pages of rows ------------------------------------------------------------------------------


def _rows(tickets: list[Ticket]) -> list[TableRow]:
    return [TableRow.of(ticket) for ticket in tickets]


@pytest.mark.parametrize("sort", [Sort(), Sort(SortColumn.TITLE, descending=False), Sort(SortColumn.PRIORITY)])
def test_a_first_load_shows_each_page_and_ends_as_one_snapshot_would(sort: Sort) -> None:
    """Page by page, the table shows what came so far; once whole it is exactly the table one snapshot makes."""
    tickets = many_tickets(3000)
    newest = sorted(tickets, key=lambda t: t.updated_at, reverse=True)
    pages = [newest[:100], newest[100:1000], newest[1000:2500], newest[2500:]]
    model = TableModel(me=ME.id, users=USERS, sort=sort)
    assert not model.loaded
    for index, page in enumerate(pages):
        complete = index == len(pages) - 1
        assert model.receive(_rows(page), fresh=index == 0, complete=complete)
        assert model.total == sum(map(len, pages[: index + 1])) and model.loaded is complete
        if index == 0 and sort == Sort():
            assert [row.id for row in model.rows(0, 100)] == [t.id for t in newest[:100]]  # the first screen
    assert titles(model) == titles(model_with(*tickets, sort=sort))


def test_a_reload_keeps_the_table_shown_until_its_last_page() -> None:
    """After a reconnect or a resync the old table stays (the cursor keeps its ticket) until the new one is whole;
    a reload cut short by another starts again."""
    old = [make_ticket(n) for n in range(5)]
    model = model_with(*old)
    fresh = [make_ticket(n, title=f"Fresh {n}", version=2) for n in range(6)]
    assert not model.receive(_rows(fresh[:2]), fresh=True, complete=False)
    assert model.reloading and model.loaded and titles(model) == titles(model_with(*old))
    assert not model.receive(_rows(fresh[:1]), fresh=True, complete=False)  # another load: the first is dropped
    assert not model.receive(_rows(fresh[1:4]), fresh=False, complete=False)
    assert model.receive(_rows(fresh[4:]), fresh=False, complete=True)
    assert not model.reloading and titles(model) == [f"Fresh {n}" for n in reversed(range(6))]


def test_a_row_and_its_ticket_sort_alike_and_ties_go_to_the_newest_number() -> None:
    """Rows have their times to the second; tickets updated in one second sort by number, newest first."""
    same_second = [
        msgspec.structs.replace(make_ticket(1, title=f"n{n}"), id=make_ticket(10 - n).id, number=n) for n in (3, 1, 2)
    ]
    model = model_with(*same_second)
    assert titles(model) == ["n3", "n2", "n1"]
    model.apply(TicketUpdated(seq=1, ticket=msgspec.structs.replace(same_second[1], version=2)))
    assert titles(model) == ["n3", "n2", "n1"]  # the event's ticket is the same row again


def test_the_highest_number_and_a_ticket_by_number_follow_loads_pages_and_events() -> None:
    """`max_number` (the # column's width) and `with_number` (the filter's #1042) see every way a row arrives."""
    model = model_with(make_ticket(1), make_ticket(2))
    assert model.max_number == 1002
    assert model.with_number(1001) == model.get(make_ticket(1).id)
    assert model.with_number(1003) is None and model.with_number(0) is None and model.with_number(-1) is None
    model.add([TableRow.of(make_ticket(40))], complete=True)
    model.apply(TicketCreated(seq=1, ticket=make_ticket(9)))
    assert model.max_number == 1040
    assert model.with_number(1009) == model.get(make_ticket(9).id)
    model.set_query("#1001")
    assert model.with_number(1040) is not None  # filtered out of the table, still known
    model.load([make_ticket(3)])
    assert model.max_number == 1003 and model.with_number(1040) is None
