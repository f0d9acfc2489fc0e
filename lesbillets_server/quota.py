"""How fast each user may create tickets: a token bucket per user, sans-I/O.

Per user, not per connection, so opening more connections buys no more tickets. Creating is the one request that
grows the table for good (locks and updates change what exists), so it gets its own, lower limit on top of the
per-connection request rate. A quick change (`ChangeTickets`) may name 200 tickets in one request, each an event
for every connection: its tickets are counted in a second quota of the same kind.
"""

from __future__ import annotations

import uuid


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
