"""The editor's lease on its lock, sans I/O: when it ends, when to renew it, when to warn.

The form renews on activity only (typing, moving between fields, scrolling, clicking), so an agent who walked
away loses the lock to the server's sweep; an agent reading or writing in the form never sees the lease end. The
server's ``expires_at`` is trusted unless the clocks disagree wildly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from protocol.messages import Ticket, UnlockReason

RENEW_EVERY_S = 30.0
"""Renew on activity at most this often (and at most every third of the lease, for short leases)."""
WARN_BEFORE_S = 90.0
"""Warn an idle agent this long before the lease ends (at most half the lease): time to come back and press ctrl+l."""
CLOCK_SKEW_S = 5.0
"""Beyond this disagreement between the server's ``expires_at`` and our clock plus the lease, trust the lease."""

LOST_REASONS = {
    UnlockReason.EXPIRED: "Your lock expired",
    UnlockReason.BROKEN: "An admin broke your lock",
    UnlockReason.DISCONNECTED: "Your lock was released after the connection dropped",
    UnlockReason.RELEASED: "Your lock was released",
}
"""How the banner begins when the server says the form's lock went away, by reason."""


def renew_every(ttl_s: float) -> float:
    return min(RENEW_EVERY_S, ttl_s / 3)


def warn_before(ttl_s: float) -> float:
    return min(WARN_BEFORE_S, ttl_s / 2)


def lease_deadline(ticket: Ticket | None, now: datetime, ttl_s: float) -> datetime:
    """When a lease taken or renewed ``now`` ends, as far as this terminal's clock is concerned."""
    ttl = timedelta(seconds=ttl_s)
    if (
        ticket is not None
        and ticket.lock is not None
        and abs((ticket.lock.expires_at - (now + ttl)).total_seconds()) < CLOCK_SKEW_S
    ):
        return ticket.lock.expires_at
    return now + ttl


def renewal_due(now: datetime, renewed_at: datetime | None, active_at: datetime | None, ttl_s: float) -> bool:
    """Whether the agent was active since the last renewal, and that renewal is old enough to repeat."""
    renewed_at = renewed_at or now
    active = active_at is not None and active_at > renewed_at
    return active and (now - renewed_at).total_seconds() >= renew_every(ttl_s)
