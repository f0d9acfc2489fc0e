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


class LoginThrottle:
    """Failed logins per email: after `limit` failures within `window_s`, refuse that email until they age out.

    Keyed by email rather than connection so that opening new connections does not buy new guesses.
    """

    def __init__(self, *, limit: int = 5, window_s: float = 60.0) -> None:
        self._limit = limit
        self._window_s = window_s
        self._failures: dict[str, list[float]] = {}

    def retry_after(self, email: str, now: float) -> float:
        """Seconds until this email may try again; 0 when it may try now."""
        recent = [t for t in self._failures.get(email.casefold(), []) if now - t < self._window_s]
        if recent:
            self._failures[email.casefold()] = recent
        else:
            self._failures.pop(email.casefold(), None)
        if len(recent) < self._limit:
            return 0.0
        return self._window_s - (now - recent[0])

    def failed(self, email: str, now: float) -> None:
        self._failures.setdefault(email.casefold(), []).append(now)

    def succeeded(self, email: str) -> None:
        self._failures.pop(email.casefold(), None)
