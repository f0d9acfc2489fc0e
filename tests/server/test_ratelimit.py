"""The token bucket, with a hand-driven clock."""

from __future__ import annotations

from lesbillets_server.ratelimit import LoginThrottle, TokenBucket, Verdict


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


def test_login_throttle_per_email() -> None:
    """Five failures lock that email (in any case) for the window; others are unaffected; time frees it."""
    throttle = LoginThrottle(limit=5, window_s=60)
    for n in range(5):
        assert throttle.retry_after("Ana@example.com", float(n)) == 0
        throttle.failed("Ana@example.com", float(n))
    assert throttle.retry_after("ana@EXAMPLE.com", 10.0) == 50.0
    assert throttle.retry_after("bob@example.com", 10.0) == 0
    assert throttle.retry_after("ana@example.com", 60.5) == 0  # the first failure has aged out


def test_login_success_clears_failures() -> None:
    """A successful login forgets earlier failures."""
    throttle = LoginThrottle(limit=2, window_s=60)
    throttle.failed("a@example.com", 0.0)
    throttle.succeeded("a@example.com")
    throttle.failed("a@example.com", 1.0)
    assert throttle.retry_after("a@example.com", 1.0) == 0
