"""Presence across replicas on one PostgreSQL database (LISTEN/NOTIFY): seen everywhere, gone within 5 s."""

from __future__ import annotations

import asyncio

from protocol.messages import PresenceChanged
from tests.conftest import Replicas
from tests.server.test_cluster_kill import Replica
from tests.server.test_presence import presence, set_presence, viewers
from tests.server.test_tickets import create
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB

WITHIN_S = 5.0
"""The promise: an agent who drops off disappears within this, on every replica."""


async def until_empty(peer: Wire, within_s: float = WITHIN_S) -> PresenceChanged:
    """The next notice saying a ticket has nobody on it (notices on the way are skipped)."""
    async with asyncio.timeout(within_s):
        while (notice := await peer.next_presence(within_s)).viewers:
            pass
    return notice


async def test_presence_set_on_one_replica_is_seen_on_another(replicas: Replicas) -> None:
    """Alice opens a ticket on A: Bob on B is told and GetPresence on B shows her; she closes it: gone on B."""
    a, b = await replicas(2)
    async with wire(a.url, login=ALICE) as alice, wire(b.url, login=BOB) as bob:
        ticket_id = await create(alice)
        await set_presence(alice, ticket_id, editing=True)
        notice = await bob.next_presence()
        assert (notice.ticket_id, viewers(notice)) == (ticket_id, [(ALICE.name, True)])
        [shown] = await presence(bob)
        assert (shown.ticket_id, [v.name for v in shown.viewers]) == (ticket_id, [ALICE.name])

        await set_presence(alice, None)
        assert (await until_empty(bob)).ticket_id == ticket_id
        assert await presence(bob) == []


async def test_one_user_on_two_replicas_is_one_viewer(replicas: Replicas) -> None:
    """Alice views on A and edits on B: Bob sees one Alice, editing; her editor on B closes: viewing again."""
    a, b = await replicas(2)
    async with (
        wire(a.url, login=ALICE) as viewing,
        wire(b.url, login=ALICE) as editing,
        wire(b.url, login=BOB) as bob,
    ):
        ticket_id = await create(viewing)
        await set_presence(viewing, ticket_id)
        assert viewers(await bob.next_presence()) == [(ALICE.name, False)]
        await set_presence(editing, ticket_id, editing=True)
        assert viewers(await bob.next_presence()) == [(ALICE.name, True)]
        await set_presence(editing, None)
        assert viewers(await bob.next_presence()) == [(ALICE.name, False)]


async def test_a_dropped_connection_vanishes_on_the_other_replica(replicas: Replicas) -> None:
    """Alice's connection to A drops without a close: Bob on B is told she left within 5 s."""
    a, b = await replicas(2)
    async with wire(b.url, login=BOB) as bob:
        async with wire(a.url, login=ALICE) as alice:
            ticket_id = await create(alice)
            await set_presence(alice, ticket_id)
            await bob.next_presence()
            alice.ws.transport.abort()
        assert (await until_empty(bob)).ticket_id == ticket_id


async def test_a_replica_started_later_learns_who_is_where(replicas: Replicas) -> None:
    """B starts after Alice opened a ticket on A: B learns of her (it asks at start; the refresh would tell it
    within 1.5 s anyway), and Bob on B sees her."""
    [a] = await replicas(1)
    async with wire(a.url, login=ALICE) as alice:
        ticket_id = await create(alice)
        await set_presence(alice, ticket_id)
        [b] = await replicas(1)
        async with wire(b.url, login=BOB) as bob:
            shown = await presence(bob)
            if not shown:  # A's answer came after Bob's request: it comes as a notice
                await bob.next_presence()
                shown = await presence(bob)
            assert [(t.ticket_id, [v.name for v in t.viewers]) for t in shown] == [(ticket_id, [ALICE.name])]


async def test_a_replica_that_stops_takes_its_presence_with_it(replicas: Replicas) -> None:
    """A shuts down cleanly: Bob on B is told Alice is gone at once, without waiting for expiry."""
    a, b = await replicas(2)
    async with wire(b.url, login=BOB) as bob, wire(a.url, login=ALICE) as alice:
        ticket_id = await create(alice)
        await set_presence(alice, ticket_id)
        await bob.next_presence()
        await a.stop()
        assert (await until_empty(bob, within_s=2.0)).ticket_id == ticket_id


async def test_a_killed_replica_s_presence_expires_within_five_seconds(replicas: Replicas, pg_url: str) -> None:
    """A replica killed with SIGKILL says nothing: its agents' presence expires on the others within 5 s."""
    [b] = await replicas(1)
    a = await Replica.start(pg_url)
    try:
        async with wire(b.url, login=BOB) as bob, wire(a.url, login=ALICE) as alice:
            ticket_id = await create(alice)
            await set_presence(alice, ticket_id, editing=True)
            assert viewers(await bob.next_presence()) == [(ALICE.name, True)]
            a.kill()
            assert (await until_empty(bob)).ticket_id == ticket_id
    finally:
        a.kill()
        await a.stop()
