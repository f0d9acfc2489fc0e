"""Several servers on one PostgreSQL database: one truth, one seq order, shared leases and liveness."""

from __future__ import annotations

import asyncio
import contextlib

from typer.testing import CliRunner

from lesbillets_server.cli import app as cli
from protocol.messages import (
    Ack,
    AllTickets,
    CreateTicket,
    Error,
    ErrorCode,
    GetTickets,
    LockTicket,
    Login,
    Resume,
    SessionEndReason,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    UnlockReason,
    UpdateTicket,
    Welcome,
)
from tests.conftest import Replicas
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, ManualClock


async def create(peer: Wire, title: str) -> Ack:
    return await peer.expect(CreateTicket(rid=peer.rid(), title=title), Ack)


async def test_a_lock_taken_on_one_replica_is_refused_on_another(replicas: Replicas) -> None:
    """Bob on replica B sees Alice's lock from replica A live, and LockTicket on B names her."""
    a, b = await replicas(2)
    async with wire(a.url, login=ALICE) as alice, wire(b.url, login=BOB) as bob:
        ticket = (await create(alice, "Printer")).ticket
        assert ticket is not None
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        assert isinstance(await bob.next_event(), TicketCreated)
        assert isinstance(await bob.next_event(), TicketLocked)
        refused = await bob.request(LockTicket(rid=bob.rid(), ticket_id=ticket.id))
        assert isinstance(refused, Error) and refused.code is ErrorCode.LOCKED
        assert refused.lock is not None and refused.lock.user_name == ALICE.name


async def test_racing_replicas_grant_one_lock(replicas: Replicas) -> None:
    """Alice on A and Bob on B lock one ticket at the same instant: one wins, the other hears who."""
    a, b = await replicas(2)
    async with wire(a.url, login=ALICE) as alice, wire(b.url, login=BOB) as bob:
        ticket = (await create(alice, "Contended")).ticket
        assert ticket is not None
        await bob.next_event()
        replies = await asyncio.gather(
            alice.request(LockTicket(rid=alice.rid(), ticket_id=ticket.id)),
            bob.request(LockTicket(rid=bob.rid(), ticket_id=ticket.id)),
        )
        assert sorted(type(r).__name__ for r in replies) == ["Ack", "Error"]
        error = next(r for r in replies if isinstance(r, Error))
        assert error.code is ErrorCode.LOCKED


async def test_changes_from_both_replicas_arrive_in_one_seq_order(replicas: Replicas) -> None:
    """Twenty creations on A and twenty on B, interleaved: every client sees seq 1..40 with no gap, alike."""
    a, b = await replicas(2)
    async with wire(a.url, login=ALICE) as alice, wire(b.url, login=BOB) as bob:

        async def twenty(peer: Wire, prefix: str) -> None:
            for n in range(20):
                await create(peer, f"{prefix}{n}")

        await asyncio.gather(twenty(alice, "a"), twenty(bob, "b"))
        seen_a = [await alice.next_event() for _ in range(40)]
        seen_b = [await bob.next_event() for _ in range(40)]
        assert [e.seq for e in seen_a] == [e.seq for e in seen_b] == list(range(1, 41))
        assert seen_a == seen_b


async def test_a_client_fails_over_and_resumes_on_another_replica(replicas: Replicas) -> None:
    """Bob leaves replica A, misses changes, resumes on B with his last seq: exactly the missed events follow."""
    a, b = await replicas(2)
    async with wire(a.url) as bob:
        welcome = await bob.login(BOB)
        snapshot = await bob.expect(GetTickets(rid=bob.rid()), AllTickets)
    async with wire(a.url, login=ALICE) as alice:
        for n in range(3):
            await create(alice, f"missed {n}")
    async with wire(b.url) as again:
        reply = await again.expect(
            Resume(rid=again.rid(), token=welcome.token, last_seq=snapshot.seq, epoch=welcome.epoch), Welcome
        )
        assert reply.resumed and reply.epoch == welcome.epoch
        events = [await again.next_event() for _ in range(3)]
        assert [e.seq for e in events] == [snapshot.seq + 1, snapshot.seq + 2, snapshot.seq + 3]


async def test_an_expired_lease_is_released_once_by_all_replicas(replicas: Replicas) -> None:
    """Three replicas sweep the same expired lease: every client gets one TicketUnlocked(expired)."""
    clock = ManualClock()
    a, b, c = await replicas(3, clock=clock, lock_ttl_s=60, sweep_interval_s=0.02)
    async with wire(a.url, login=ALICE) as alice, wire(c.url, login=BOB) as bob:
        ticket = (await create(alice, "Lease")).ticket
        assert ticket is not None
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        clock.advance(61)
        for peer in (alice, bob):
            events = [await peer.next_event() for _ in range(3)]
            unlocked = [e for e in events if isinstance(e, TicketUnlocked)]
            assert [e.reason for e in unlocked] == [UnlockReason.EXPIRED]
        await create(alice, "after")  # a marker: anything between the unlock and it would be a second release
        for peer in (alice, bob):
            assert isinstance(await peer.next_event(), TicketCreated)
    assert b.url


async def test_a_session_alive_on_another_replica_keeps_its_locks(replicas: Replicas) -> None:
    """Alice drops from A but stays on B: past the grace her lock holds; once she leaves B too, it goes."""
    clock = ManualClock()
    a, b = await replicas(2, clock=clock, lock_grace_s=3, sweep_interval_s=0.02)
    async with wire(b.url, login=BOB) as bob:
        async with wire(a.url) as alice_a:
            welcome = await alice_a.login(ALICE)
            ticket = (await create(alice_a, "Held")).ticket
            assert ticket is not None
            await alice_a.expect(LockTicket(rid=alice_a.rid(), ticket_id=ticket.id), Ack)
            async with wire(b.url) as alice_b:
                await alice_b.expect(Resume(rid=alice_b.rid(), token=welcome.token), Welcome)
                await alice_a.ws.close()
                clock.advance(10)  # well past the grace: B still has her
                await bob.next_event()
                await bob.next_event()
                kept = await alice_b.expect(
                    UpdateTicket(rid=alice_b.rid(), ticket_id=ticket.id, version=1, title="still mine"), Ack
                )
                assert kept.ticket is not None and kept.ticket.lock is not None
        # B notices her last connection close on its own time: move the clock on until the release comes
        unlocked = None
        for _ in range(10):
            clock.advance(10)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    while not isinstance(unlocked, TicketUnlocked):
                        unlocked = await bob.next_event()
                break
        assert isinstance(unlocked, TicketUnlocked) and unlocked.reason is UnlockReason.DISCONNECTED


async def test_a_disabled_user_is_cut_off_on_every_replica(replicas: Replicas, pg_url: str) -> None:
    """`user disable` from the CLI ends Bob's session on both replicas he is connected to, and frees his lock."""
    a, b = await replicas(2)
    async with wire(a.url) as bob_a, wire(b.url) as bob_b, wire(a.url, login=ALICE) as alice:
        welcome = await bob_a.login(BOB)
        await bob_b.expect(Resume(rid=bob_b.rid(), token=welcome.token), Welcome)
        ticket = (await create(bob_a, "Bob's")).ticket
        assert ticket is not None
        await bob_a.expect(LockTicket(rid=bob_a.rid(), ticket_id=ticket.id), Ack)
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["user", "disable", BOB.email, "--db", pg_url])
        assert result.exit_code == 0, result.output
        for peer in (bob_a, bob_b):
            notice = await peer.next_notice()
            assert notice.reason is SessionEndReason.DISABLED
            refused = await peer.request(GetTickets(rid=peer.rid()))
            assert isinstance(refused, Error) and refused.code is ErrorCode.UNAUTHORIZED
        event = await alice.next_event()
        while not isinstance(event, TicketUnlocked):
            event = await alice.next_event()
        assert event.ticket_id == ticket.id


async def test_replicas_share_the_login_throttle(replicas: Replicas) -> None:
    """Wrong passwords sent to two replicas at once cost no more checks than to one: the allowance is shared."""
    a, b = await replicas(2)

    async def guess(url: str) -> Error:
        async with wire(url) as peer:
            reply = await peer.request(Login(rid=peer.rid(), email=BOB.email, password="not bob's"))
            assert isinstance(reply, Error)
            return reply

    replies: list[Error] = []
    for _ in range(6):  # waves small enough that no replica's check pool is ever full
        replies += await asyncio.gather(*(guess(url) for url in (a.url, a.url, b.url, b.url)))
    checked = [r for r in replies if r.code is ErrorCode.UNAUTHORIZED]
    assert len(checked) <= 10  # the per-address allowance (--login-address-limit), for both replicas together
    assert {r.code for r in replies} == {ErrorCode.UNAUTHORIZED, ErrorCode.RATE_LIMITED}
