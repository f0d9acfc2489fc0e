"""The token bucket and the login throttle, with a hand-driven clock (sans-I/O)."""

from __future__ import annotations

import pytest

from lesbillets_server.ratelimit import (
    LoginRefused,
    LoginScope,
    LoginSlot,
    LoginThrottle,
    TokenBucket,
    Verdict,
    address_key,
)


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


def reserve(throttle: LoginThrottle, email: str, address: str, now: float) -> LoginSlot:
    slot = throttle.reserve(email, address, now)
    assert isinstance(slot, LoginSlot), f"{email} from {address} at {now}: {slot}"
    return slot


def refused(throttle: LoginThrottle, email: str, address: str, now: float) -> LoginRefused:
    refusal = throttle.reserve(email, address, now)
    assert isinstance(refusal, LoginRefused), f"{email} from {address} at {now} was let through"
    return refusal


def test_parallel_attempts_are_counted_before_the_check() -> None:
    """Reservations not yet finished count: the 11th parallel login from one address is refused before any check."""
    throttle = LoginThrottle(address_burst=10, account_burst=100)
    for _ in range(10):
        reserve(throttle, "bob@example.com", "203.0.113.7", 0.0)
    refusal = refused(throttle, "bob@example.com", "203.0.113.7", 0.0)
    assert refusal == LoginRefused(LoginScope.ADDRESS, 6.0)  # 10 a minute: the next one in 6 s


def test_address_limit_spans_emails_and_refills() -> None:
    """One address gets `address_burst` failures whatever the emails, then that many a minute."""
    throttle = LoginThrottle(address_burst=10, account_burst=100)
    for n in range(10):
        reserve(throttle, f"user{n}@example.com", "203.0.113.7", 0.0)
    refused(throttle, "someone-else@example.com", "203.0.113.7", 1.0)
    reserve(throttle, "bob@example.com", "198.51.100.1", 1.0)  # another address is not affected
    reserve(throttle, "someone-else@example.com", "203.0.113.7", 6.0)
    refused(throttle, "someone-else@example.com", "203.0.113.7", 6.0)


@pytest.mark.parametrize("finish", ["succeeded", "cancel"])
def test_success_or_cancel_hands_the_allowance_back(finish: str) -> None:
    """Only failures use up allowances: a right password, or a check that never ran, costs nothing."""
    throttle = LoginThrottle(address_burst=2, account_burst=2)
    for n in range(50):
        slot = reserve(throttle, "bob@example.com", "203.0.113.7", float(n))
        getattr(throttle, finish)(slot, float(n))


def test_account_limit_spans_addresses() -> None:
    """Failures on one account from many addresses hit the per-account limit (that many an hour)."""
    throttle = LoginThrottle(address_burst=10, account_burst=20)
    for n in range(20):
        reserve(throttle, "Bob@Example.com", f"203.0.113.{n}", 0.0)
    refusal = refused(throttle, "bob@example.com", "198.51.100.1", 0.0)
    assert refusal == LoginRefused(LoginScope.ACCOUNT, 180.0)  # 20 an hour: the next one in 3 min
    reserve(throttle, "alice@example.com", "198.51.100.1", 0.0)  # other accounts are not affected


def test_the_owner_gets_in_from_their_usual_address_during_an_attack() -> None:
    """An address that logged in to the account before skips the limits others exhausted; it has its own."""
    throttle = LoginThrottle(address_burst=10, account_burst=20, trust_s=3600)
    throttle.succeeded(reserve(throttle, "bob@example.com", "198.51.100.1", 0.0), 0.0)
    for n in range(40):  # an attacker on many addresses, then on the owner's own address too
        throttle.reserve("bob@example.com", f"203.0.113.{n}", 1.0)
    for _ in range(10):
        throttle.reserve(f"other{_}@example.com", "198.51.100.1", 1.0)
    refused(throttle, "bob@example.com", "192.0.2.1", 1.0)  # a new address is refused
    for _ in range(LoginThrottle.PAIR_BURST):  # the owner's address still has its own few tries
        reserve(throttle, "bob@example.com", "198.51.100.1", 1.0)
    assert refused(throttle, "bob@example.com", "198.51.100.1", 1.0).scope is LoginScope.ACCOUNT


def test_trust_lasts_trust_s_after_the_last_success() -> None:
    """An address stops counting as the account's own `trust_s` after its last successful login."""
    throttle = LoginThrottle(address_burst=10, account_burst=20, trust_s=3600)
    throttle.succeeded(reserve(throttle, "bob@example.com", "198.51.100.1", 0.0), 0.0)
    for n in range(20):
        reserve(throttle, "bob@example.com", f"203.0.113.{n}", 3599.0)
    assert reserve(throttle, "bob@example.com", "198.51.100.1", 3599.5).trusted
    assert refused(throttle, "bob@example.com", "198.51.100.1", 3600.0).scope is LoginScope.ACCOUNT


def test_tables_stay_bounded() -> None:
    """Millions of invented emails and addresses cannot grow the throttle past its bound."""
    throttle = LoginThrottle(address_burst=1000, account_burst=1000, max_keys=100)
    for n in range(5_000):
        slot = throttle.reserve(f"user{n}@example.com", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", n / 1000)
        if isinstance(slot, LoginSlot) and n % 2:
            throttle.succeeded(slot, n / 1000)
    assert len(throttle) <= 4 * 100


@pytest.mark.parametrize(
    ("remote", "key"),
    [
        (("203.0.113.7", 50000), "203.0.113.7"),
        (("2001:db8:1:2:aaaa::1", 50000, 0, 0), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:bbbb::9", 50001, 0, 0), "2001:db8:1:2::/64"),
        (("::ffff:203.0.113.7", 50000, 0, 0), "203.0.113.7"),
        (("fe80::1%eth0", 50000, 0, 2), "fe80::/64"),
        (None, "local"),
        ("/run/lesbillets.sock", "local"),
    ],
    ids=["ipv4", "ipv6 host", "same ipv6 /64", "ipv4-mapped", "scoped ipv6", "unknown", "unix socket"],
)
def test_address_key(remote: object, key: str) -> None:
    """Failures count per IPv4 address and per IPv6 /64 (one host usually holds a whole /64)."""
    assert address_key(remote) == key
