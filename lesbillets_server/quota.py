"""What each user may make the server do, per second: token buckets per user, sans-I/O.

`CreationQuota` counts tickets created (and changed by quick changes); `TimeBudget` counts seconds of server
time spent on a user's searches or reads.

Per user, not per connection, so opening more connections buys no more tickets. Creating is the one request that
grows the table for good (locks and updates change what exists), so it gets its own, lower limit on top of the
per-connection request rate. A quick change (`ChangeTickets`) may name 200 tickets in one request, each an event
for every connection: its tickets are counted in a second quota of the same kind.

Reading a long history or conversation is not free either: on SQLite the store reads on the event loop, so a
script looping `GetHistory` on a ticket with a thousand entries takes the loop from everyone else. Each user's
expensive reads draw on a `TimeBudget` of their own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lesbillets_server.errors import Rejected
from protocol.messages import ErrorCode


class CreationQuota:
    def __init__(self, *, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: dict[uuid.UUID, tuple[float, float]] = {}
        """User → (tokens, when they were counted)."""

    def take(self, user: uuid.UUID, now: float, cost: int = 1) -> float:
        """Count `cost` (one creation, or the tickets of a quick change): 0 when allowed, else the seconds until
        it would be (nothing is counted; never, for a cost above the burst)."""
        tokens, then = self._buckets.get(user, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate_per_s)
        if tokens >= cost:
            self._buckets[user] = (tokens - cost, now)
            return 0.0
        self._buckets[user] = (tokens, now)
        return (cost - tokens) / self.rate_per_s


class TimeBudget:
    """Seconds of server time per user, a token bucket counted in seconds.

    A search takes its longest possible cost (the timeout) before it starts, so a user's searches running at once
    cannot overdraw the bucket, and gives back what it did not use when it ends. A read, whose cost is not known
    before, starts while the balance is not negative (`take` of 0) and is charged what it took (`charge`).
    """

    def __init__(self, *, share: float, burst_s: float) -> None:
        self.share = share
        """Seconds a user earns each second."""
        self.burst_s = burst_s
        self._buckets: dict[uuid.UUID, tuple[float, float]] = {}
        """User → (seconds available, when they were counted)."""

    def _balance(self, user: uuid.UUID, now: float) -> float:
        seconds, then = self._buckets.get(user, (self.burst_s, now))
        return min(self.burst_s, seconds + (now - then) * self.share)

    def take(self, user: uuid.UUID, cost_s: float, now: float) -> float:
        """Reserve `cost_s`: 0 when granted, else the seconds until it would be (nothing reserved)."""
        balance = self._balance(user, now)
        if balance >= cost_s:
            self._buckets[user] = (balance - cost_s, now)
            return 0.0
        self._buckets[user] = (balance, now)
        return (cost_s - balance) / self.share

    def charge(self, user: uuid.UUID, spent_s: float, now: float) -> None:
        """Count `spent_s` (negative: give back what a reservation did not use); the balance may go below 0."""
        balance = min(self.burst_s, self._balance(user, now) - spent_s)
        if balance >= self.burst_s:
            self._buckets.pop(user, None)  # a full bucket is the default: users who stopped cost nothing
        else:
            self._buckets[user] = (balance, now)

    def give_back(self, user: uuid.UUID, unused_s: float, now: float) -> None:
        self.charge(user, -max(0.0, unused_s), now)


class ReadBudget:
    """Charges each of a user's expensive reads (`GetHistory`, `GetTicket`, `GetInbox`) the time it took."""

    def __init__(self, budget: TimeBudget, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self._clock = clock

    @contextmanager
    def spend(self, user: uuid.UUID) -> Iterator[None]:
        """Run one read, or refuse it (`rate_limited`, with a sentence) while the user's balance is spent."""
        started = self._clock()
        wait_s = self.budget.take(user, 0.0, started)
        if wait_s:
            raise Rejected(
                ErrorCode.RATE_LIMITED,
                f"Too many reads of histories, tickets and the inbox: each agent may use {self.budget.share:g} s "
                f"of server time a second on them. Try again in {max(wait_s, 0.1):.1f} s.",
            )
        try:
            yield
        finally:
            ended = self._clock()
            self.budget.charge(user, ended - started, ended)
