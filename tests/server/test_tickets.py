"""Every ticket message over a real websocket, and the broadcast that follows each change."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from protocol.codec import JSON, MSGPACK, Codec
from protocol.messages import (
    Ack,
    AllTickets,
    CreateTicket,
    GetTickets,
    GetUsers,
    LockTicket,
    Priority,
    RenewLock,
    Status,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    TicketUpdated,
    UnlockReason,
    UnlockTicket,
    UpdateTicket,
    Users,
)
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, ServerHarness


async def create(peer: Wire, title: str = "Printer jam", **fields: object) -> uuid.UUID:
    ack = await peer.expect(CreateTicket(rid=peer.rid(), title=title, **fields), Ack)  # type: ignore[arg-type]
    assert ack.ticket is not None
    return ack.ticket.id


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
async def test_full_cycle_reaches_the_other_agent(server: ServerHarness, codec: Codec) -> None:
    """Create, lock, update, unlock by Alice arrive at Bob as events in seq order, in either encoding."""
    async with wire(server.url, codec=codec, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        created = await alice.expect(
            CreateTicket(rid=alice.rid(), title="VPN drops", description="every 20 min", priority=Priority.HIGH),
            Ack,
        )
        assert created.ticket is not None and created.ticket.version == 1
        tid = created.ticket.id
        locked = await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        assert locked.ticket is not None and locked.ticket.lock is not None
        updated = await alice.expect(
            UpdateTicket(rid=alice.rid(), ticket_id=tid, version=1, status=Status.BLOCKED, assignee=None), Ack
        )
        assert updated.ticket is not None and (updated.ticket.version, updated.ticket.status) == (2, Status.BLOCKED)
        await alice.expect(UnlockTicket(rid=alice.rid(), ticket_id=tid), Ack)

        seen = [await bob.next_event() for _ in range(4)]
        assert [type(e) for e in seen] == [TicketCreated, TicketLocked, TicketUpdated, TicketUnlocked]
        assert [e.seq for e in seen] == [1, 2, 3, 4]
        assert isinstance(seen[2], TicketUpdated) and seen[2].ticket == updated.ticket
        assert isinstance(seen[3], TicketUnlocked) and seen[3].reason is UnlockReason.RELEASED
        # the originator receives the same events, each before its reply
        assert [e.seq for e in alice.events] == [1, 2, 3, 4]


async def test_snapshot_reflects_changes_and_seq(server: ServerHarness) -> None:
    """AllTickets holds every ticket as it stands and the seq of the last event in it."""
    async with wire(server.url, login=ALICE) as alice:
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        snapshot = await alice.expect(GetTickets(rid=alice.rid()), AllTickets)
        assert snapshot.seq == 2
        [ticket] = snapshot.tickets
        assert ticket.id == tid and ticket.lock is not None and ticket.lock.user_name == ALICE.name


async def test_every_client_gets_every_event_in_order(server: ServerHarness) -> None:
    """Ten agents creating at once: all of them see all events, gap-free and in the same order."""
    async with contextlib.AsyncExitStack() as stack:
        peers = [await stack.enter_async_context(wire(server.url, login=(ALICE, BOB)[i % 2])) for i in range(10)]
        await asyncio.gather(*(create(p, f"ticket {i}") for i, p in enumerate(peers)))
        orders = []
        for peer in peers:
            events = [await peer.next_event() for _ in range(10)]
            assert [e.seq for e in events] == list(range(1, 11))
            orders.append([e.ticket.id for e in events if isinstance(e, TicketCreated)])
        assert all(order == orders[0] for order in orders)


async def test_renew_moves_expiry_and_broadcasts(server: ServerHarness) -> None:
    """RenewLock returns a later expiry and tells everyone with TicketLocked."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        tid = await create(alice)
        first = await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        renewed = await alice.expect(RenewLock(rid=alice.rid(), ticket_id=tid), Ack)
        assert first.ticket and first.ticket.lock and renewed.ticket and renewed.ticket.lock
        assert renewed.ticket.lock.expires_at >= first.ticket.lock.expires_at
        events = [await bob.next_event() for _ in range(3)]
        assert isinstance(events[2], TicketLocked) and events[2].lock == renewed.ticket.lock


async def test_get_users_lists_active_users(server: ServerHarness) -> None:
    """GetUsers names every user so clients can show assignees."""
    async with wire(server.url, login=ALICE) as alice:
        users = await alice.expect(GetUsers(rid=alice.rid()), Users)
        assert {u.email for u in users.users} == {"alice@example.com", "bob@example.com", "admin@example.com"}


async def test_create_with_assignee(server: ServerHarness) -> None:
    """A ticket can be created assigned to an existing user; an unknown one is bad_request on $.assignee."""
    async with wire(server.url, login=ALICE) as alice:
        users = await alice.expect(GetUsers(rid=alice.rid()), Users)
        bob_id = next(u.id for u in users.users if u.email == BOB.email)
        ack = await alice.expect(CreateTicket(rid=alice.rid(), title="x", assignee=bob_id), Ack)
        assert ack.ticket is not None and ack.ticket.assignee == bob_id
        error = await alice.request(CreateTicket(rid=alice.rid(), title="x", assignee=uuid.uuid4()))
        assert getattr(error, "detail", None) == "$.assignee"
