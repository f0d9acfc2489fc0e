"""The per-user budgets of search and read time, as plain arithmetic on a clock the test sets."""

from __future__ import annotations

import uuid

import pytest

from lesbillets_server.quota import TimeBudget

ALICE = uuid.UUID(int=1)
BOB = uuid.UUID(int=2)


def test_cheap_searches_cost_what_they_used() -> None:
    """A search reserves the timeout and gives back what it did not use: many cheap searches fit in a second."""
    budget = TimeBudget(share=0.25, burst_s=2.0)
    for step in range(100):
        now = step * 0.01
        assert budget.take(ALICE, 1.0, now) == 0.0
        budget.give_back(ALICE, 1.0 - 0.005, now + 0.005)


def test_expensive_searches_wait_for_the_budget() -> None:
    """Two full-length searches use a 2 s bank; the next waits until a second of it has come back."""
    budget = TimeBudget(share=0.25, burst_s=2.0)
    assert budget.take(ALICE, 1.0, 0.0) == 0.0
    assert budget.take(ALICE, 1.0, 0.0) == 0.0  # both running at once: the bank covers both
    assert budget.take(ALICE, 1.0, 0.0) == pytest.approx(4.0)
    budget.give_back(ALICE, 0.0, 1.0)
    budget.give_back(ALICE, 0.0, 1.0)
    assert budget.take(ALICE, 1.0, 1.0) == pytest.approx(3.0)  # 0.25 s came back in that second
    assert budget.take(ALICE, 1.0, 4.0) == 0.0
    assert budget.take(BOB, 1.0, 4.0) == 0.0  # each user has their own


def test_the_bank_holds_at_most_the_burst() -> None:
    """Time not spent is not saved beyond the burst, and what is given back never exceeds it."""
    budget = TimeBudget(share=1.0, burst_s=2.0)
    assert budget.take(ALICE, 2.0, 0.0) == 0.0
    budget.give_back(ALICE, 2.0, 0.0)
    assert budget.take(ALICE, 2.0, 1000.0) == 0.0
    assert budget.take(ALICE, 0.5, 1000.0) == pytest.approx(0.5)


def test_a_refusal_takes_nothing() -> None:
    """Asking again and again while refused does not push the next grant further away."""
    budget = TimeBudget(share=0.5, burst_s=1.0)
    assert budget.take(ALICE, 1.0, 0.0) == 0.0
    for _ in range(10):
        assert budget.take(ALICE, 1.0, 0.0) == pytest.approx(2.0)
    assert budget.take(ALICE, 1.0, 2.0) == 0.0


def test_a_read_is_charged_after_and_may_overdraw() -> None:
    """A read starts while the balance is not negative and pays what it took; the next waits until it is repaid."""
    budget = TimeBudget(share=0.25, burst_s=0.5)
    assert budget.take(ALICE, 0.0, 0.0) == 0.0
    budget.charge(ALICE, 1.0, 0.0)  # one long read takes more than the bank holds
    assert budget.take(ALICE, 0.0, 0.0) == pytest.approx(2.0)  # -0.5 s, earned back at 0.25 s a second
    assert budget.take(ALICE, 0.0, 1.0) == pytest.approx(1.0)
    assert budget.take(ALICE, 0.0, 2.0) == 0.0
    assert budget.take(BOB, 0.0, 0.0) == 0.0


def test_a_user_back_to_a_full_bank_is_forgotten() -> None:
    """Once a user's bank is full again the budget holds nothing for them: idle users cost no memory."""
    budget = TimeBudget(share=1.0, burst_s=1.0)
    budget.charge(ALICE, 0.5, 0.0)
    assert budget._buckets
    budget.charge(ALICE, 0.0, 10.0)
    assert not budget._buckets
