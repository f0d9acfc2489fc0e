"""The quick change rule, due times, tags and numbers on the board, without an event loop or a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from lesbillets_server.board import Actor, Board
from lesbillets_server.errors import Rejected
from lesbillets_server.storage.records import EventKind, Guard, with_fence
from lesbillets_server.ticket_fields import QuickChange, due_time, normal_tags
from protocol.messages import (
    TAGS_MAX,
    ChangeTickets,
    CreateTicket,
    ErrorCode,
    Priority,
    Status,
    UpdateTicket,
)
from tests.server.test_board import ALICE, ALICE_ELSEWHERE, BOB, T0, TTL, board_with_ticket, locked


def quick(**fields: Any) -> QuickChange:
    return QuickChange.of(ChangeTickets(rid=1, ticket_ids=[1], **fields))


def numbered(board: Board, tid: uuid.UUID, number: int) -> None:
    """The board hears the ticket as the database numbered it."""
    board.apply(msgspec.structs.replace(board.get(tid), number=number), None)


# --- numbers -----------------------------------------------------------------------------------------------------


def test_a_ticket_is_found_by_its_number() -> None:
    """Once the board has heard a ticket's number, the number resolves to its id; an unknown one is not_found."""
    board, tid = board_with_ticket()
    assert board.get(tid).number == 0  # the database gives it
    numbered(board, tid, 1042)
    assert board.resolve(1042) == tid and board.resolve(tid) == tid
    with pytest.raises(Rejected) as caught:
        board.resolve(1043)
    assert caught.value.code is ErrorCode.NOT_FOUND and "#1043" in caught.value.message


def test_an_update_names_the_ticket_by_number() -> None:
    """UpdateTicket resolves a number like an id."""
    board, tid = board_with_ticket()
    numbered(board, tid, 7)
    locked(board, tid, ALICE)
    change = board.update(UpdateTicket(rid=1, ticket_id=7, version=1, title="renamed"), ALICE, T0)
    assert (change.ticket.id, change.ticket.title, change.ticket.number) == (tid, "renamed", 7)


# --- due times and tags ------------------------------------------------------------------------------------------


def test_tags_are_deduplicated_in_order() -> None:
    """A tag given twice is kept once, where it first came."""
    assert normal_tags(["vpn", "wifi", "vpn", "a", "wifi"]) == ["vpn", "wifi", "a"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (datetime(2026, 11, 24, 18, 0, tzinfo=timezone(timedelta(hours=1))), datetime(2026, 11, 24, 17, 0, tzinfo=UTC)),
        (datetime(2026, 11, 24, 17, 0, tzinfo=UTC), datetime(2026, 11, 24, 17, 0, tzinfo=UTC)),
        (None, None),
    ],
)
def test_a_due_time_is_kept_in_utc(given: datetime | None, kept: datetime | None) -> None:
    """A due time with any offset is kept as the same instant in UTC."""
    assert due_time(given) == kept
    assert kept is None or due_time(given).tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (datetime(2026, 11, 24, 17, 0), "time zone"),
        (datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))), "between"),
        (datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=5))), "between"),
        (datetime(1969, 12, 31, 23, 59, tzinfo=UTC), "between"),
    ],
    ids=["no zone", "past 9999 in UTC", "before year 1 in UTC", "before 1970"],
)
def test_a_bad_due_time_is_refused(given: datetime, words: str) -> None:
    """A due time without a zone, or outside 1970-9999 once in UTC, is bad_request on $.due_at."""
    with pytest.raises(Rejected) as caught:
        due_time(given)
    assert (caught.value.code, caught.value.detail) == (ErrorCode.BAD_REQUEST, "$.due_at")
    assert words in caught.value.message


def test_create_and_update_carry_due_time_and_tags() -> None:
    """CreateTicket and UpdateTicket set the due time (in UTC) and the tags (deduplicated)."""
    board = Board([], {}, lock_ttl=TTL, max_locks=5)
    due = datetime(2026, 11, 24, 18, 0, tzinfo=timezone(timedelta(hours=1)))
    ticket = board.create(CreateTicket(rid=1, title="VPN", due_at=due, tags=["vpn", "vpn", "home"]), ALICE, T0)
    assert (ticket.due_at, ticket.tags) == (due.astimezone(UTC), ["vpn", "home"])
    board.apply(ticket, None)
    locked(board, ticket.id, ALICE)
    update = UpdateTicket(rid=2, ticket_id=ticket.id, version=1, due_at=None, tags=["b", "a", "b"])
    changed = board.update(update, ALICE, T0).ticket
    assert (changed.due_at, changed.tags, changed.version) == (None, ["b", "a"], 2)


# --- the quick change ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({}, None),
        ({"add_tags": ["vpn"], "remove_tags": ["vpn"]}, "$.remove_tags"),
        ({"due_at": datetime(2026, 1, 1)}, "$.due_at"),
    ],
    ids=["no field", "tag added and removed", "due time without a zone"],
)
def test_a_quick_change_that_cannot_mean_anything_is_refused(fields: dict[str, Any], detail: str | None) -> None:
    """No field, a tag both added and removed, or a bad due time: bad_request for the whole request."""
    with pytest.raises(Rejected) as caught:
        quick(**fields)
    assert (caught.value.code, caught.value.detail) == (ErrorCode.BAD_REQUEST, detail)


def test_a_free_ticket_changes_in_one_write_without_a_lock() -> None:
    """Nobody holds it: the change applies under a free-lock guard at its version, and leaves it unlocked."""
    board, tid = board_with_ticket()
    change = board.quick_change(tid, quick(status=Status.CLOSED, priority=Priority.HIGH), BOB, T0 + TTL)
    assert change is not None
    assert change.guard == Guard(version=1, free=True)
    assert (change.kind, change.holder, change.actor) == (EventKind.UPDATED, None, BOB.user.id)
    ticket = change.ticket
    assert (ticket.status, ticket.priority, ticket.version, ticket.lock) == (Status.CLOSED, Priority.HIGH, 2, None)
    assert (ticket.updated_by, ticket.updated_at) == (BOB.user.id, T0 + TTL)


def test_a_lock_this_session_holds_is_used_and_kept() -> None:
    """The session holding the lock: the change is guarded by its grant and the lock stays."""
    board, tid = board_with_ticket()
    grant = board.lock(tid, ALICE, T0)
    board.apply(with_fence(grant.ticket, 3), grant.holder)
    change = board.quick_change(tid, quick(assignee=ALICE.user.id), ALICE, T0)
    assert change is not None
    assert change.guard == Guard(version=1, holder=ALICE.session_id, fence=3)
    assert change.holder == ALICE.session_id and change.ticket.lock == board.get(tid).lock
    assert (change.ticket.assignee, change.ticket.version) == (ALICE.user.id, 2)


@pytest.mark.parametrize(("contender", "words"), [(BOB, "alice"), (ALICE_ELSEWHERE, "you, in another session")])
def test_a_lock_held_elsewhere_refuses_the_change(contender: Actor, words: str) -> None:
    """Another session holds the lock: `locked`, naming the holder, with the lock."""
    board, tid = board_with_ticket()
    locked(board, tid, ALICE)
    with pytest.raises(Rejected) as caught:
        board.quick_change(tid, quick(status=Status.CLOSED), contender, T0)
    assert caught.value.code is ErrorCode.LOCKED and words in caught.value.message
    assert caught.value.lock == board.get(tid).lock


def test_a_lapsed_lease_does_not_stop_the_change_and_goes() -> None:
    """Another session's lease has run out: the change applies and clears the stale lock."""
    board, tid = board_with_ticket()
    locked(board, tid, ALICE)
    change = board.quick_change(tid, quick(status=Status.BLOCKED), BOB, T0 + TTL)
    assert change is not None and change.guard.free and change.ticket.lock is None and change.holder is None


def test_a_change_that_changes_nothing_writes_nothing() -> None:
    """The ticket already is as asked: None (no write, no event)."""
    board, tid = board_with_ticket()
    assert board.quick_change(tid, quick(status=Status.OPEN, remove_tags=["absent"]), ALICE, T0) is None


@pytest.mark.parametrize(
    ("before", "add", "remove", "after"),
    [
        ([], ["vpn"], [], ["vpn"]),
        (["vpn", "home"], ["home", "wifi"], [], ["vpn", "home", "wifi"]),
        (["vpn", "home"], [], ["vpn"], ["home"]),
        (["vpn", "home"], ["a", "a"], ["home", "absent"], ["vpn", "a"]),
    ],
)
def test_tags_are_added_to_and_removed_from_the_current_ones(
    before: list[str], add: list[str], remove: list[str], after: list[str]
) -> None:
    """add_tags joins the ticket's tags (in order, once each); remove_tags takes them out."""
    board, tid = board_with_ticket()
    board.apply(msgspec.structs.replace(board.get(tid), tags=before), None)
    change = board.quick_change(tid, quick(add_tags=add, remove_tags=remove), ALICE, T0)
    assert change is not None and change.ticket.tags == after


def test_too_many_tags_refuse_that_ticket() -> None:
    """Adding past the most tags a ticket may have is bad_request for that ticket."""
    board, tid = board_with_ticket()
    board.apply(msgspec.structs.replace(board.get(tid), tags=[f"t{i}" for i in range(TAGS_MAX)]), None)
    with pytest.raises(Rejected) as caught:
        board.quick_change(tid, quick(add_tags=["one-more"]), ALICE, T0)
    assert (caught.value.code, caught.value.detail) == (ErrorCode.BAD_REQUEST, "$.add_tags")


def test_an_unknown_ticket_is_not_found() -> None:
    """A quick change on an id the board does not know is not_found."""
    board, _ = board_with_ticket()
    with pytest.raises(Rejected) as caught:
        board.quick_change(uuid.uuid4(), quick(status=Status.CLOSED), ALICE, T0)
    assert caught.value.code is ErrorCode.NOT_FOUND
