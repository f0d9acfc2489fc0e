"""Per-connection flood control: a token bucket, sans-I/O."""

from __future__ import annotations

import enum


class Verdict(enum.Enum):
    ALLOW = "allow"
    REFUSE = "refuse"
    """Answer `rate_limited` and keep the connection."""
    CLOSE = "close"
    """The client kept flooding after being refused: close with 1008."""


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int, now: float) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now
        self._refused = 0
        self._refusals_allowed = burst

    def take(self, now: float) -> Verdict:
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self._refused = 0
            return Verdict.ALLOW
        self._refused += 1
        return Verdict.CLOSE if self._refused > self._refusals_allowed else Verdict.REFUSE
