"""Flood control, sans-I/O: a token bucket per connection, and the allowances of failed logins."""

from __future__ import annotations

import enum
import ipaddress
from collections import OrderedDict
from dataclasses import dataclass


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


# --- failed logins ------------------------------------------------------------------


def address_key(remote_address: object) -> str:
    """The key a client's failed logins are counted under: its IPv4 address, or its IPv6 /64.

    One IPv6 host usually holds a whole /64, so counting single addresses would give it 2**64 allowances.
    `remote_address` is what websockets reports (a (host, port, …) tuple, or None for a Unix socket).
    """
    host = remote_address[0] if isinstance(remote_address, tuple) and remote_address else None
    if not isinstance(host, str):
        return "local"
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Allowances:
    """Token buckets by key, in a bounded table: `burst` at once, refilling at `per_s`.

    A key absent from the table has a full bucket, so the least recently used keys can be forgotten
    when the table is full: memory stays bounded however many addresses or emails an attacker invents,
    and what is forgotten is only ever an allowance handed back.
    """

    def __init__(self, *, burst: int, per_s: float, max_keys: int) -> None:
        self._burst = float(burst)
        self._per_s = per_s
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        """Key → (tokens, when they were counted)."""

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, key: str, now: float) -> float:
        entry = self._buckets.get(key)
        if entry is None:
            return self._burst
        tokens, since = entry
        return min(self._burst, tokens + max(0.0, now - since) * self._per_s)

    def wait(self, key: str, now: float) -> float:
        """Seconds until `key` has one allowance; 0 when it has one now."""
        missing = 1.0 - self._tokens(key, now)
        return 0.0 if missing <= 0 else missing / self._per_s

    def take(self, key: str, now: float) -> None:
        self._store(key, self._tokens(key, now) - 1.0, now)

    def give_back(self, key: str, now: float) -> None:
        if key in self._buckets:
            self._store(key, self._tokens(key, now) + 1.0, now)

    def _store(self, key: str, tokens: float, now: float) -> None:
        if tokens >= self._burst:
            self._buckets.pop(key, None)  # a full bucket is the same as none
            return
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)


class LoginScope(enum.Enum):
    ADDRESS = "address"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class LoginRefused:
    scope: LoginScope
    retry_after_s: float


@dataclass(frozen=True, slots=True)
class LoginSlot:
    """One password check that may go ahead; hand it back with `succeeded` or `cancel`."""

    account: str
    address: str
    trusted: bool
    """The address has logged in to this account before: only the pair's own allowance applies."""


class LoginThrottle:
    """How many password checks a login may cost, counted BEFORE the check runs.

    Every `Login` takes an allowance up front (`reserve`), so 200 parallel guesses cost no more checks than
    200 sequential ones; a success hands it back, so only failures count in the end. Three allowances:

    * per address (IPv4, or IPv6 /64): `address_burst` failures, refilling at that many a minute, across
      every email. This one carries the weight: one machine cannot guess at more than that rate.
    * per account, from addresses that have never logged in to it: `account_burst` failures, refilling at
      that many an hour. It bounds a guesser spread over many addresses.
    * per account and address, for an address that logged in to that account within `trust_s`: 5 failures,
      refilling at 5 a minute, and neither of the two above. So however hard others hammer an account,
      its owner still gets in from where they usually log in.

    Sans-I/O: the caller passes the time (`time.monotonic()`); every table is bounded by `max_keys`.
    """

    PAIR_BURST = 5

    def __init__(
        self,
        *,
        address_burst: int = 10,
        account_burst: int = 20,
        trust_s: float = 30 * 24 * 3600.0,
        max_keys: int = 10_000,
    ) -> None:
        self._addresses = Allowances(burst=address_burst, per_s=address_burst / 60, max_keys=max_keys)
        self._accounts = Allowances(burst=account_burst, per_s=account_burst / 3600, max_keys=max_keys)
        self._pairs = Allowances(burst=self.PAIR_BURST, per_s=self.PAIR_BURST / 60, max_keys=max_keys)
        self._trust_s = trust_s
        self._max_keys = max_keys
        self._trusted: OrderedDict[str, float] = OrderedDict()
        """Account and address → until when that address counts as the account's own."""

    def reserve(self, email: str, address: str, now: float) -> LoginSlot | LoginRefused:
        account = email.casefold()
        pair = _pair(account, address)
        trusted_until = self._trusted.get(pair)
        if trusted_until is not None and trusted_until > now:
            wait = self._pairs.wait(pair, now)
            if wait > 0:
                return LoginRefused(LoginScope.ACCOUNT, wait)
            self._pairs.take(pair, now)
            return LoginSlot(account=account, address=address, trusted=True)
        by_address = self._addresses.wait(address, now)
        if by_address > 0:
            return LoginRefused(LoginScope.ADDRESS, by_address)
        by_account = self._accounts.wait(account, now)
        if by_account > 0:
            return LoginRefused(LoginScope.ACCOUNT, by_account)
        self._addresses.take(address, now)
        self._accounts.take(account, now)
        return LoginSlot(account=account, address=address, trusted=False)

    def succeeded(self, slot: LoginSlot, now: float) -> None:
        """The password was right: the check costs nothing, and this address becomes the account's own."""
        self.cancel(slot, now)
        pair = _pair(slot.account, slot.address)
        self._trusted[pair] = now + self._trust_s
        self._trusted.move_to_end(pair)
        while len(self._trusted) > self._max_keys:
            self._trusted.popitem(last=False)

    def cancel(self, slot: LoginSlot, now: float) -> None:
        """The check did not run (the server was too busy): hand the allowance back."""
        if slot.trusted:
            self._pairs.give_back(_pair(slot.account, slot.address), now)
        else:
            self._addresses.give_back(slot.address, now)
            self._accounts.give_back(slot.account, now)

    def __len__(self) -> int:
        """Entries held in all tables (each bounded by `max_keys`)."""
        return len(self._addresses) + len(self._accounts) + len(self._pairs) + len(self._trusted)


def _pair(account: str, address: str) -> str:
    return f"{account}\n{address}"
