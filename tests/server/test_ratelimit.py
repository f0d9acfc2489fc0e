"""The token bucket, with a hand-driven clock."""

from __future__ import annotations

from lesbillets_server.ratelimit import TokenBucket, Verdict


def test_burst_then_refuse_then_close() -> None:
    """A burst passes, the next requests are refused, and a client that keeps going is closed."""
    bucket = TokenBucket(rate_per_s=10, burst=3, now=0.0)
    verdicts = [bucket.take(0.0) for _ in range(7)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.REFUSE] * 3 + [Verdict.CLOSE]


def test_refill_over_time() -> None:
    """Tokens come back at the sustained rate and reset the refusal count."""
    bucket = TokenBucket(rate_per_s=10, burst=1, now=0.0)
    assert bucket.take(0.0) is Verdict.ALLOW
    assert bucket.take(0.0) is Verdict.REFUSE
    assert bucket.take(0.1) is Verdict.ALLOW
    assert bucket.take(0.1) is Verdict.REFUSE
