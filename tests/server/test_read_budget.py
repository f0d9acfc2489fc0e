"""What one user's expensive reads (`GetHistory`, `GetTicket`, `GetInbox`) may take of the server's time."""

from __future__ import annotations

import pytest

from protocol.client import connect
from protocol.errors import RateLimited
from protocol.messages import AllTickets, Error, ErrorCode, GetHistory, GetInbox, GetTicket, GetTickets, History
from tests.conftest import ServerFactory
from tests.server.wire import wire
from tests.support import ALICE, BOB

REFUSAL = r"Too many reads of histories, tickets and the inbox: .* Try again in \d+\.\d s\."

# a bank of a nanosecond that would take hours to earn back: the first read spends it, the next is refused
STARVED = {"read_share": 1e-6, "read_burst_s": 1e-9}

READS = {
    "history": lambda rid, tid: GetHistory(rid=rid, ticket_id=tid),
    "ticket": lambda rid, tid: GetTicket(rid=rid, ticket_id=tid),
    "inbox": lambda rid, tid: GetInbox(rid=rid),
}


@pytest.mark.parametrize("first", list(READS))
@pytest.mark.parametrize("then", list(READS))
async def test_past_the_budget_a_read_is_refused_and_nothing_else_is(
    server_factory: ServerFactory, first: str, then: str
) -> None:
    """The reads share one bank: past it each gets rate_limited with a sentence; the connection and others go on."""
    server = await server_factory(**STARVED)
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        async with connect(server.url) as client:
            await client.login(ALICE.email, ALICE.password)
            tid = (await client.create_ticket("Printer jams")).id
        assert not isinstance(await alice.request(READS[first](alice.rid(), tid)), Error)
        refused = await alice.request(READS[then](alice.rid(), tid))
        assert isinstance(refused, Error) and refused.code is ErrorCode.RATE_LIMITED, refused
        assert refused.message.startswith("Too many reads of histories, tickets and the inbox")
        await alice.expect(GetTickets(rid=alice.rid()), AllTickets)  # the table is not a budgeted read
        await bob.expect(GetHistory(rid=bob.rid(), ticket_id=tid), History)  # Bob has a bank of his own


async def test_the_budget_is_the_users_across_connections(server_factory: ServerFactory) -> None:
    """A second connection of the same user buys no more reads: the typed client raises RateLimited."""
    server = await server_factory(**STARVED)
    async with connect(server.url) as first, connect(server.url) as second:
        await first.login(ALICE.email, ALICE.password)
        await second.login(ALICE.email, ALICE.password)
        tid = (await first.create_ticket("VPN drops")).id
        await first.get_history(tid)
        with pytest.raises(RateLimited, match=REFUSAL):
            await second.get_ticket(tid)


async def test_an_agent_reading_as_people_do_is_never_refused(server_factory: ServerFactory) -> None:
    """With the default budget, opening tickets one after another (ticket, history, inbox) is never refused."""
    server = await server_factory()
    async with connect(server.url) as client:
        await client.login(ALICE.email, ALICE.password)
        tids = [(await client.create_ticket(f"Ticket {n}", "words " * 200)).id for n in range(20)]
        for tid in tids * 3:
            await client.get_ticket(tid)
            await client.get_history(tid)
        await client.get_inbox()
