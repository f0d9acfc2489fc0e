"""The client's sans-I/O bookkeeping and error mapping, without an event loop."""

from __future__ import annotations

import pytest

from protocol.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InternalServerError,
    LesBilletsError,
    Locked,
    NotFound,
    NotLockHolder,
    ProtocolViolation,
    RateLimited,
    ServerError,
    Unauthorized,
    Unavailable,
    error_from_reply,
)
from protocol.messages import RID_MAX, Ack, AllTickets, Error, ErrorCode, Users
from protocol.session import Backoff, EventAction, RidCounter, SeqTracker, expect
from tests.protocol.test_codec import LOCK

EXPECTED_CLASS = {
    ErrorCode.BAD_REQUEST: BadRequest,
    ErrorCode.UNAUTHORIZED: Unauthorized,
    ErrorCode.FORBIDDEN: Forbidden,
    ErrorCode.NOT_FOUND: NotFound,
    ErrorCode.LOCKED: Locked,
    ErrorCode.NOT_LOCK_HOLDER: NotLockHolder,
    ErrorCode.CONFLICT: Conflict,
    ErrorCode.RATE_LIMITED: RateLimited,
    ErrorCode.UNAVAILABLE: Unavailable,
    ErrorCode.INTERNAL: InternalServerError,
}


def test_every_error_code_has_its_own_class() -> None:
    """The table above covers every ErrorCode, each with a distinct ServerError subclass."""
    assert set(EXPECTED_CLASS) == set(ErrorCode)
    assert len(set(EXPECTED_CLASS.values())) == len(ErrorCode)


@pytest.mark.parametrize(("code", "cls"), EXPECTED_CLASS.items())
def test_error_from_reply_maps_each_code(code: ErrorCode, cls: type[ServerError]) -> None:
    """An Error reply becomes its typed exception carrying every field; str() is the server's sentence."""
    exc = error_from_reply(Error(rid=7, code=code, message="Something went wrong.", detail="$.x", lock=LOCK))
    assert type(exc) is cls
    assert isinstance(exc, ServerError) and isinstance(exc, LesBilletsError)
    assert (exc.code, exc.message, exc.detail, exc.lock, exc.rid) == (code, "Something went wrong.", "$.x", LOCK, 7)
    assert str(exc) == "Something went wrong."


def test_expect_returns_raises_or_flags() -> None:
    """expect() returns the right reply, raises the typed error, and flags an unexpected type."""
    ack = Ack(rid=1)
    assert expect(ack, Ack) is ack
    with pytest.raises(Locked) as caught:
        expect(Error(rid=1, code=ErrorCode.LOCKED, message="Locked.", lock=LOCK), Ack)
    assert caught.value.lock == LOCK
    with pytest.raises(ProtocolViolation, match="Users where AllTickets"):
        expect(Users(rid=1, users=[]), AllTickets)


def test_rids_increase_and_wrap_within_bounds() -> None:
    """Request ids count up from 1 and wrap to 1 after the largest allowed value."""
    rids = RidCounter()
    assert [rids.next() for _ in range(3)] == [1, 2, 3]
    near_end = RidCounter(start=RID_MAX)
    assert [near_end.next(), near_end.next()] == [RID_MAX, 1]


@pytest.mark.parametrize(
    ("snapshot", "seqs", "actions", "last"),
    [
        pytest.param(None, [5, 3, 9], ["deliver"] * 3, 9, id="no-snapshot-anything-goes"),
        pytest.param(10, [11, 12, 13], ["deliver"] * 3, 13, id="in-order"),
        pytest.param(10, [9, 10, 11], ["drop", "drop", "deliver"], 11, id="already-reflected"),
        pytest.param(10, [12], ["resync"], 10, id="gap"),
        pytest.param(10, [11, 11, 13, 12], ["deliver", "drop", "resync", "deliver"], 12, id="duplicate-then-gap"),
    ],
)
def test_seq_tracker(snapshot: int | None, seqs: list[int], actions: list[str], last: int) -> None:
    """Events are delivered, dropped or trigger a resync according to the last reflected seq."""
    tracker = SeqTracker()
    if snapshot is not None:
        tracker.snapshot(snapshot)
    assert [tracker.check(seq).value for seq in seqs] == actions
    assert tracker.last_seq == last


def test_snapshot_may_move_seq_backwards() -> None:
    """A snapshot is the truth even when its seq is lower (a server that lost its numbering)."""
    tracker = SeqTracker()
    tracker.snapshot(50)
    tracker.snapshot(3)
    assert tracker.check(4) is EventAction.DELIVER


def test_backoff_doubles_to_a_ceiling_with_jitter() -> None:
    """Delays double from the initial value up to the maximum, each shrunk by the jitter, and reset."""
    high = Backoff(initial=0.05, maximum=5.0, rand=lambda: 1.0)
    assert [round(high.next_delay(), 4) for _ in range(9)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    low = Backoff(initial=0.05, maximum=5.0, rand=lambda: 0.0)
    assert [round(low.next_delay(), 4) for _ in range(2)] == [0.025, 0.05]
    high.reset()
    assert high.next_delay() == pytest.approx(0.05)
