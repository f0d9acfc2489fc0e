"""Leased locks over the wire: races, expiry, renewal, disconnects, resumes and admin breaks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from protocol.messages import (
    Ack,
    AllTickets,
    Error,
    ErrorCode,
    GetTickets,
    LockTicket,
    RenewLock,
    Resume,
    TicketLocked,
    TicketUnlocked,
    UnlockReason,
    UnlockTicket,
    UpdateTicket,
    Welcome,
)
from tests.conftest import ServerFactory
from tests.server.test_tickets import create
from tests.server.wire import wire
from tests.support import ADMIN, ALICE, BOB, ManualClock, ServerHarness


async def test_two_agents_race_for_one_lock(server: ServerHarness) -> None:
    """Of two simultaneous LockTickets exactly one wins; the other gets `locked` naming the winner."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        tid = await create(alice)
        replies = await asyncio.gather(
            alice.request(LockTicket(rid=alice.rid(), ticket_id=tid)),
            bob.request(LockTicket(rid=bob.rid(), ticket_id=tid)),
        )
        winners = [r for r in replies if isinstance(r, Ack)]
        losers = [r for r in replies if isinstance(r, Error)]
        assert len(winners) == 1 and len(losers) == 1
        assert losers[0].code is ErrorCode.LOCKED
        assert winners[0].ticket is not None and losers[0].lock == winners[0].ticket.lock


async def test_lease_expires_and_is_swept(server_factory: ServerFactory) -> None:
    """An unrenewed lock is released by the sweeper with reason `expired`; then another agent can take it."""
    clock = ManualClock()
    server = await server_factory(clock=clock, lock_ttl_s=60, sweep_interval_s=0.02)
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        clock.advance(61)
        events = [await bob.next_event() for _ in range(3)]
        assert isinstance(events[2], TicketUnlocked) and events[2].reason is UnlockReason.EXPIRED
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=tid), Ack)


async def test_renewal_keeps_the_lease(server_factory: ServerFactory) -> None:
    """Renewing before expiry keeps the lock: no `expired` while the holder renews."""
    clock = ManualClock()
    server = await server_factory(clock=clock, lock_ttl_s=60)
    async with wire(server.url, login=ALICE) as alice:
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        for _ in range(3):  # 3 x 40 s: well past the first lease, never past a renewed one
            clock.advance(40)
            renewed = await alice.expect(RenewLock(rid=alice.rid(), ticket_id=tid), Ack)
            assert renewed.ticket is not None and renewed.ticket.lock is not None
            assert renewed.ticket.lock.expires_at == clock.now + timedelta(seconds=60)
        snapshot = await alice.expect(GetTickets(rid=alice.rid()), AllTickets)
        assert snapshot.tickets[0].lock is not None
        assert not any(isinstance(e, TicketUnlocked) for e in alice.events)
        clock.advance(61)  # now the sweeper (every second) releases it
        event = await alice.next_event()
        while not isinstance(event, TicketUnlocked):
            event = await alice.next_event()
        assert event.reason is UnlockReason.EXPIRED
        snapshot = await alice.expect(GetTickets(rid=alice.rid()), AllTickets)
        assert snapshot.tickets[0].lock is None


async def test_disconnect_releases_after_grace(server_factory: ServerFactory) -> None:
    """When the holder's connection drops and does not come back, its locks go with `disconnected`."""
    server = await server_factory(lock_grace_s=0.2)
    async with wire(server.url, login=BOB) as bob:
        async with wire(server.url, login=ALICE) as alice:
            tid = await create(alice)
            await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        events = [await bob.next_event() for _ in range(3)]
        assert isinstance(events[2], TicketUnlocked)
        assert (events[2].ticket_id, events[2].reason) == (tid, UnlockReason.DISCONNECTED)


async def test_resume_within_grace_keeps_locks(server_factory: ServerFactory) -> None:
    """A session that resumes on a new connection keeps its lock past the grace period and can still update."""
    server = await server_factory(lock_grace_s=0.3)
    async with wire(server.url, login=ADMIN) as observer:
        async with wire(server.url) as alice:
            welcome = await alice.login(ALICE)
            kept = await create(alice, "kept")
            await alice.expect(LockTicket(rid=alice.rid(), ticket_id=kept), Ack)
        async with wire(server.url) as again:
            await again.expect(Resume(rid=again.rid(), token=welcome.token), Welcome)
            # Bob drops after Alice did: once his lock goes, Alice's grace period is over too
            async with wire(server.url, login=BOB) as bob:
                dropped = await create(bob, "dropped")
                await bob.expect(LockTicket(rid=bob.rid(), ticket_id=dropped), Ack)
            while not isinstance(event := await observer.next_event(), TicketUnlocked):
                pass
            assert (event.ticket_id, event.reason) == (dropped, UnlockReason.DISCONNECTED)
            ack = await again.expect(UpdateTicket(rid=again.rid(), ticket_id=kept, version=1, title="still mine"), Ack)
            assert ack.ticket is not None and ack.ticket.lock is not None


async def test_admin_breaks_a_lock(server: ServerHarness) -> None:
    """An admin's forced unlock releases with reason `broken`; an agent's is `forbidden`."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        refused = await bob.request(UnlockTicket(rid=bob.rid(), ticket_id=tid, force=True))
        assert isinstance(refused, Error) and refused.code is ErrorCode.FORBIDDEN
        async with wire(server.url, login=ADMIN) as admin:
            await admin.expect(UnlockTicket(rid=admin.rid(), ticket_id=tid, force=True), Ack)
        events = [await bob.next_event() for _ in range(3)]
        assert isinstance(events[2], TicketUnlocked) and events[2].reason is UnlockReason.BROKEN
        stale = await alice.request(UpdateTicket(rid=alice.rid(), ticket_id=tid, version=1, title="too late"))
        assert isinstance(stale, Error) and stale.code is ErrorCode.NOT_LOCK_HOLDER


async def test_version_conflict(server: ServerHarness) -> None:
    """An update at a stale version gets `conflict` and changes nothing."""
    async with wire(server.url, login=ALICE) as alice:
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        await alice.expect(UpdateTicket(rid=alice.rid(), ticket_id=tid, version=1, title="first"), Ack)
        stale = await alice.request(UpdateTicket(rid=alice.rid(), ticket_id=tid, version=1, title="second"))
        assert isinstance(stale, Error) and stale.code is ErrorCode.CONFLICT
        snapshot = await alice.expect(GetTickets(rid=alice.rid()), AllTickets)
        assert [t.title for t in snapshot.tickets if t.id == tid] == ["first"]


async def test_max_locks_over_the_wire(server_factory: ServerFactory) -> None:
    """The (max_locks + 1)th lock of one user is `forbidden`."""
    server = await server_factory(max_locks=2)
    async with wire(server.url, login=ALICE) as alice:
        ids = [await create(alice, f"t{i}") for i in range(3)]
        for tid in ids[:2]:
            await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        error = await alice.request(LockTicket(rid=alice.rid(), ticket_id=ids[2]))
        assert isinstance(error, Error) and error.code is ErrorCode.FORBIDDEN


async def test_locks_survive_restart_and_resume(server_factory: ServerFactory) -> None:
    """After a restart on the same database the ticket, its lock and the session are all still there."""
    server = await server_factory(lock_grace_s=30)
    async with wire(server.url) as alice:
        welcome = await alice.login(ALICE)
        tid = await create(alice, "persist me")
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        await alice.expect(UpdateTicket(rid=alice.rid(), ticket_id=tid, version=1, description="kept"), Ack)
    await server.restart()
    async with wire(server.url) as again:
        await again.expect(Resume(rid=again.rid(), token=welcome.token), Welcome)
        snapshot = await again.expect(GetTickets(rid=again.rid()), AllTickets)
        [ticket] = snapshot.tickets
        assert (ticket.title, ticket.description, ticket.version) == ("persist me", "kept", 2)
        assert ticket.lock is not None and ticket.lock.user_name == ALICE.name
        assert snapshot.seq == 3
        await again.expect(UnlockTicket(rid=again.rid(), ticket_id=tid), Ack)
        event = await again.next_event()
        assert isinstance(event, TicketUnlocked) and event.seq == 4


async def test_lock_is_broadcast_to_every_agent(server: ServerHarness) -> None:
    """TicketLocked carries the holder's name and expiry to the other agents."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        await bob.next_event()
        locked = await bob.next_event()
        assert isinstance(locked, TicketLocked) and locked.lock.user_name == ALICE.name
