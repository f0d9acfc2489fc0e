"""The presence rules without a loop: entries, merging, expiry, coalesced notices and announcements."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from lesbillets_server.presence import Announcement, PresenceBoard, Seen
from lesbillets_server.presence_pg import PAYLOAD_MAX, announcement_from, payloads
from protocol.messages import Viewer

T1 = uuid.UUID(int=1)
T2 = uuid.UUID(int=2)
ALICE = uuid.UUID(int=0xA)
BOB = uuid.UUID(int=0xB)
NAMES = {ALICE: "Alice", BOB: "bob"}


def seen(ticket: uuid.UUID, user: uuid.UUID, *, editing: bool = False) -> Seen:
    return Seen(ticket, user, NAMES[user], editing)


def viewer(user: uuid.UUID, *, editing: bool = False) -> Viewer:
    return Viewer(user_id=user, name=NAMES[user], editing=editing)


Step = Callable[[PresenceBoard], set[uuid.UUID]]


@dataclass(frozen=True)
class Case:
    steps: list[tuple[Step, set[uuid.UUID]]]
    """Each operation with the tickets it must report changed."""
    viewers: dict[uuid.UUID, list[Viewer]]
    """The viewers of these tickets afterwards."""


CASES = {
    "a connection opens a ticket": Case(
        [(lambda b: b.put("c1", seen(T1, ALICE)), {T1})],
        {T1: [viewer(ALICE)], T2: []},
    ),
    "the same again changes nothing": Case(
        [(lambda b: b.put("c1", seen(T1, ALICE)), {T1}), (lambda b: b.put("c1", seen(T1, ALICE)), set())],
        {T1: [viewer(ALICE)]},
    ),
    "two connections of one user are one viewer, editing wins": Case(
        [
            (lambda b: b.put("c1", seen(T1, ALICE)), {T1}),
            (lambda b: b.put("c2", seen(T1, ALICE, editing=True)), {T1}),
            (lambda b: b.put("c3", seen(T1, ALICE)), set()),
        ],
        {T1: [viewer(ALICE, editing=True)]},
    ),
    "the editing connection closes: still viewing": Case(
        [
            (lambda b: b.put("c1", seen(T1, ALICE)), {T1}),
            (lambda b: b.put("c2", seen(T1, ALICE, editing=True)), {T1}),
            (lambda b: b.clear("c2"), {T1}),
        ],
        {T1: [viewer(ALICE)]},
    ),
    "moving to another ticket changes both": Case(
        [(lambda b: b.put("c1", seen(T1, ALICE)), {T1}), (lambda b: b.put("c1", seen(T2, ALICE)), {T1, T2})],
        {T1: [], T2: [viewer(ALICE)]},
    ),
    "closing the view empties the ticket": Case(
        [(lambda b: b.put("c1", seen(T1, ALICE)), {T1}), (lambda b: b.put("c1", None), {T1})],
        {T1: []},
    ),
    "clearing an unknown connection is nothing": Case([(lambda b: b.clear("nobody"), set())], {T1: []}),
    "viewers are sorted by name": Case(
        [(lambda b: b.put("c1", seen(T1, BOB)), {T1}), (lambda b: b.put("c2", seen(T1, ALICE)), {T1})],
        {T1: [viewer(ALICE), viewer(BOB)]},
    ),
    "another replica's entry merges with ours, editing wins": Case(
        [
            (lambda b: b.put("c1", seen(T1, ALICE)), {T1}),
            (lambda b: b.merge("r2", [seen(T1, ALICE, editing=True), seen(T1, BOB)], [], now=0), {T1}),
        ],
        {T1: [viewer(ALICE, editing=True), viewer(BOB)]},
    ),
    "an announced entry expires unless refreshed": Case(
        [
            (lambda b: b.merge("r2", [seen(T1, BOB)], [], now=0), {T1}),
            (lambda b: b.expire(3.9), set()),
            (lambda b: b.merge("r2", [seen(T1, BOB)], [], now=3), set()),  # the refresh
            (lambda b: b.expire(6.9), set()),
            (lambda b: b.expire(7.0), {T1}),
        ],
        {T1: []},
    ),
    "an expired entry of a user still here locally changes only editing": Case(
        [
            (lambda b: b.put("c1", seen(T1, BOB)), {T1}),
            (lambda b: b.merge("r2", [seen(T1, BOB, editing=True)], [], now=0), {T1}),
            (lambda b: b.expire(10), {T1}),
        ],
        {T1: [viewer(BOB)]},
    ),
    "gone removes one pair only": Case(
        [
            (lambda b: b.merge("r2", [seen(T1, BOB), seen(T2, BOB)], [], now=0), {T1, T2}),
            (lambda b: b.merge("r2", [], [(T1, BOB)], now=1), {T1}),
            (lambda b: b.merge("r3", [], [(T2, BOB)], now=1), set()),  # another replica's word is not r2's
        ],
        {T1: [], T2: [viewer(BOB)]},
    ),
    "a replica saying goodbye is forgotten at once": Case(
        [
            (lambda b: b.merge("r2", [seen(T1, BOB), seen(T2, ALICE)], [], now=0), {T1, T2}),
            (lambda b: b.merge("r3", [seen(T2, BOB)], [], now=0), {T2}),
            (lambda b: b.forget("r2"), {T1, T2}),
        ],
        {T1: [], T2: [viewer(BOB)]},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_presence_rules(case: Case) -> None:
    """Each operation reports exactly the tickets whose viewers changed, and the viewers end as expected."""
    board = PresenceBoard(ttl_s=4.0)
    for number, (step, changed) in enumerate(case.steps):
        assert step(board) == changed, f"step {number}"
    for ticket_id, viewers in case.viewers.items():
        assert board.viewers(ticket_id) == viewers
    assert [t.ticket_id for t in board.tickets()] == sorted(t for t, v in case.viewers.items() if v)


def test_a_flood_of_hops_between_two_flushes_costs_at_most_two_notices() -> None:
    """A connection hopping over 100 tickets between two flushes yields notices for where it was and where it is."""
    board = PresenceBoard()
    board.put("c1", seen(T1, ALICE))
    assert [n.ticket_id for n in board.changes()] == [T1]
    tickets = [uuid.UUID(int=100 + n) for n in range(100)]
    for ticket_id in tickets:
        board.put("c1", seen(ticket_id, ALICE))
    notices = board.changes()
    assert [(n.ticket_id, n.viewers) for n in notices] == [(T1, []), (tickets[-1], [viewer(ALICE)])]
    assert board.changes() == []


def test_there_and_back_again_sends_nothing() -> None:
    """Leaving a ticket and coming back before the flush is no change at all."""
    board = PresenceBoard()
    board.put("c1", seen(T1, ALICE))
    board.changes()
    board.put("c1", seen(T2, ALICE))
    board.put("c1", seen(T1, ALICE))
    assert board.changes() == []


def test_announcements_carry_changes_then_everything_on_refresh() -> None:
    """The delta names new and changed pairs and the pairs gone; a full one repeats every pair still here."""
    board = PresenceBoard()
    board.put("c1", seen(T1, ALICE))
    board.put("c2", seen(T1, ALICE, editing=True))
    board.put("c3", seen(T2, BOB))
    assert board.announcement() == ([seen(T1, ALICE, editing=True), seen(T2, BOB)], [])
    assert board.announcement() == ([], [])
    board.clear("c2")
    board.clear("c3")
    assert board.announcement() == ([seen(T1, ALICE)], [(T2, BOB)])
    assert board.announcement(full=True) == ([seen(T1, ALICE)], [])


def test_a_big_announcement_is_split_to_fit_a_notification() -> None:
    """Two thousand entries with long names go out in payloads under PostgreSQL's limit, none lost."""
    entries = [Seen(uuid.uuid4(), uuid.uuid4(), "é" * 100, n % 2 == 0) for n in range(2000)]
    gone = [(uuid.uuid4(), uuid.uuid4()) for _ in range(500)]
    parts = payloads(Announcement("r1", entries, gone))
    assert len(parts) > 1
    assert all(len(part.encode()) <= PAYLOAD_MAX for part in parts)
    decoded = [announcement_from(part) for part in parts]
    assert [s for a in decoded for s in a.seen] == entries
    assert [g for a in decoded for g in a.gone] == gone
    assert {a.replica for a in decoded} == {"r1"}
