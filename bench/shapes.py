"""The sizes of the project's frames in a lock/update/unlock cycle, so the baseline sends the same bytes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from msgspec import structs

from bench import seed
from protocol.codec import JSON
from protocol.messages import (
    Ack,
    Lock,
    LockTicket,
    TicketLocked,
    TicketUnlocked,
    TicketUpdated,
    UnlockReason,
    UnlockTicket,
    UpdateTicket,
    Welcome,
)

SEQ_SAMPLE = 123_456


@dataclass(frozen=True, slots=True)
class CycleSizes:
    welcome: int
    events: tuple[int, int, int]
    """TicketLocked, TicketUpdated, TicketUnlocked."""
    replies: tuple[int, int, int]
    """The `Ack` of LockTicket, UpdateTicket, UnlockTicket."""


def bench_title() -> str:
    """An update's title: the send time, so any client can tell the event's age."""
    return f"bench {time.time_ns()}"


def cycle_requests(rid: int, ticket_index: int, version: int) -> tuple[bytes, bytes, bytes]:
    """LockTicket, UpdateTicket (the title carries the send time), UnlockTicket for one ticket."""
    ticket_id = seed.ticket_id(ticket_index)
    return (
        JSON.encode(LockTicket(rid=rid, ticket_id=ticket_id)),
        JSON.encode(UpdateTicket(rid=rid + 1, ticket_id=ticket_id, version=version, title=bench_title())),
        JSON.encode(UnlockTicket(rid=rid + 2, ticket_id=ticket_id)),
    )


def cycle_sizes(users: int) -> CycleSizes:
    now = datetime.now(UTC)
    agent = seed.user(0)
    ticket = seed.ticket(0, users)
    lock = Lock(user_id=agent.id, user_name=agent.name, expires_at=now + timedelta(hours=1))
    locked = structs.replace(ticket, lock=lock)
    updated = structs.replace(locked, title=bench_title(), version=2, updated_at=now, updated_by=agent.id)
    welcome = Welcome(rid=1, user=agent, token=seed.token(0), lock_ttl_s=3600.0, server_version="0.1.0")
    sizes = [
        len(JSON.encode(message))
        for message in (
            TicketLocked(seq=SEQ_SAMPLE, ticket_id=ticket.id, lock=lock),
            TicketUpdated(seq=SEQ_SAMPLE, ticket=updated),
            TicketUnlocked(seq=SEQ_SAMPLE, ticket_id=ticket.id, reason=UnlockReason.RELEASED),
            Ack(rid=SEQ_SAMPLE, ticket=locked),
            Ack(rid=SEQ_SAMPLE, ticket=updated),
            Ack(rid=SEQ_SAMPLE),
        )
    ]
    return CycleSizes(
        welcome=len(JSON.encode(welcome)),
        events=(sizes[0], sizes[1], sizes[2]),
        replies=(sizes[3], sizes[4], sizes[5]),
    )


def baseline_options(sizes: CycleSizes) -> list[str]:
    """`bench.launch baseline` options that make it answer with frames of these sizes."""
    return [
        "--welcome-size",
        str(sizes.welcome),
        "--event-sizes",
        ",".join(map(str, sizes.events)),
        "--reply-sizes",
        ",".join(map(str, sizes.replies)),
    ]
