"""The client on `Rows`: `get_rows`, the pages in `events()`, seq bookkeeping from the last page, and a reconnect
or a resync that loads rows again when the table was loaded as rows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from lesbillets_server.row_encoding import HEAD_ROWS, PAGE_ROWS
from protocol.client import Client, ConnectionChanged, ConnectionState, connect
from protocol.codec import JSON
from protocol.messages import (
    AllTickets,
    GetRows,
    Login,
    Priority,
    Role,
    Row,
    Rows,
    Status,
    TicketCreated,
    TicketLocked,
    TicketUpdated,
    User,
    Welcome,
)
from protocol.rows import RowsLoad, TableRow, expand
from tests.protocol.test_client import TIMEOUT, login, next_item, next_of
from tests.support import ALICE, BOB, PausableProxy, ServerHarness, with_tickets

BIG = HEAD_ROWS + 2 * PAGE_ROWS + 7


async def _table(client: Client, load: RowsLoad, stream: object) -> dict[object, TableRow]:
    """Read pages from `stream` until a load is complete; the table they make (a new load starts it again)."""
    table: dict[object, TableRow] = {}
    while not load.complete:
        page = await next_of(stream, Rows)  # type: ignore[arg-type]
        if load.take(page):
            table = {}
        table.update((row.id, row) for row in expand(page))
    return table


async def test_get_rows_then_every_page_then_the_events(server: ServerHarness) -> None:
    """`get_rows` returns the newest page; `events()` yields every page in order, then the events after them."""
    tickets = await with_tickets(server, BIG)
    async with connect(server.url) as alice, connect(server.url, encoding="msgpack") as bob:
        await login(alice, ALICE)
        await login(bob, BOB)
        first = await bob.get_rows(first=25)
        newest = sorted(tickets, key=lambda ticket: ticket.updated_at, reverse=True)[:25]
        assert [row.id for row in first.rows] == [ticket.id for ticket in newest] and first.more
        stream = bob.events()
        assert await next_of(stream, Rows) == first
        load = RowsLoad()
        load.take(first)
        table = {row.id: row for row in expand(first)} | await _table(bob, load, stream)
        assert set(table) == {ticket.id for ticket in tickets}
        assert bob.last_seq == first.seq == BIG

        created = await alice.create_ticket("after the table")
        event = await next_of(stream, TicketCreated)
        assert event.ticket == created and event.seq == BIG + 1 and bob.last_seq == BIG + 1


async def test_events_before_the_first_page_are_skipped(server: ServerHarness) -> None:
    """Unread events that came before the first page are reflected in it: not yielded, not applied twice."""
    async with connect(server.url) as alice, connect(server.url) as bob:
        await login(alice, ALICE)
        await login(bob, BOB)
        stream = bob.events()
        created = await alice.create_ticket("before the rows")
        await bob.get_users()  # its reply comes after the event, so the event has arrived
        page = await bob.get_rows()
        assert await next_item(stream) == page and not page.more
        assert [row.id for row in expand(page)] == [created.id]
        locked = await alice.lock(created.id)
        assert (await next_of(stream, TicketLocked)).seq == page.seq + 1
        assert locked.lock is not None and bob.last_seq == page.seq + 1


async def test_a_gap_resyncs_with_rows(server: ServerHarness) -> None:
    """Past `event_buffer`, dropped events make the reader load the table again as rows, not as `AllTickets`."""
    async with connect(server.url) as alice, connect(server.url) as bob:
        await login(alice, ALICE)
        await login(bob, BOB)
        bob.event_buffer = 2
        stream = bob.events()
        load = RowsLoad()
        load.take(await bob.get_rows())
        page = await next_of(stream, Rows)
        assert not page.more
        titles = [f"Burst {i}" for i in range(3)]
        for title in titles:
            await alice.create_ticket(title)
        await bob.get_users()  # its reply comes after the three events, so all of them have arrived

        fresh = await next_of(stream, Rows)
        assert load.take(fresh) and load.complete and fresh.seq == page.seq + 3
        assert set(titles) <= {row.title for row in expand(fresh)}
        assert bob.last_seq == fresh.seq


async def test_a_load_cut_short_by_a_reconnect_loads_again(server: ServerHarness) -> None:
    """The connection drops while the pages stream: after the reconnect the client loads the rows again (a page
    of a new request), never resumes from a half table, and the table it ends with is whole and current."""
    tickets = await with_tickets(server, BIG)
    async with contextlib.AsyncExitStack() as stack:
        network = await stack.enter_async_context(PausableProxy(server.config.port))
        bob = await stack.enter_async_context(connect(network.url))
        await login(bob, BOB)
        stream = bob.events()
        first = await bob.get_rows(first=10)
        network.pause()  # the server has sent the head by now, not the pages it has yet to encode
        for connection in server.running.server.connections:
            connection.transport.abort()  # as a network fault would
        alice = await stack.enter_async_context(connect(server.url))
        await login(alice, ALICE)
        created = await alice.create_ticket("while Bob was away")
        network.resume()

        load = RowsLoad()
        rids = set()
        table: dict[object, TableRow] = {}
        states = []
        while not (load.complete and ConnectionState.CONNECTED in states):
            item = await next_item(stream)
            if isinstance(item, ConnectionChanged):
                states.append(item.state)
                continue
            assert isinstance(item, Rows), f"only pages and connection changes, got {item!r}"
            rids.add(item.rid)
            if load.take(item):
                table = {}
            table.update((row.id, row) for row in expand(item))
        assert states[0] is ConnectionState.RECONNECTING
        assert len(rids) == 2 and first.rid in rids, "the rows were not loaded again"
        assert set(table) == {ticket.id for ticket in tickets} | {created.id}
        assert bob.last_seq == BIG + 1

        await alice.update_ticket((await alice.lock(created.id)).id, created.version, title="renamed")
        async with asyncio.timeout(TIMEOUT):
            while not isinstance(item := await next_item(stream), TicketUpdated):
                pass
        assert item.seq == BIG + 3


async def test_get_tickets_after_rows_switches_back(server: ServerHarness) -> None:
    """Asking for `AllTickets` again makes later snapshots `AllTickets` (the last kind asked for wins)."""
    async with connect(server.url) as alice, connect(server.url) as bob:
        await login(alice, ALICE)
        await login(bob, BOB)
        bob.event_buffer = 1
        stream = bob.events()
        await bob.get_rows()
        await next_of(stream, Rows)
        await bob.get_tickets()
        await next_of(stream, AllTickets)
        for n in range(2):
            await alice.create_ticket(f"Burst {n}")
        await bob.get_users()
        assert len((await next_of(stream, AllTickets)).tickets) == 2


@pytest.mark.parametrize("rows", [2, 5_000], ids=["small page", "page past BIG_FRAME"])
async def test_a_later_page_that_cannot_be_read_loads_the_rows_again(
    caplog: pytest.LogCaptureFixture, rows: int
) -> None:
    """A server whose second page has a readable head and an unreadable row: the client logs it once, loads the
    rows again, and yields the whole second load; nothing raises out of events() (the load used to hang)."""
    user = User(id=uuid.UUID(int=1), email="alice@example.com", name="Alice", role=Role.AGENT)
    row = Row(
        id=uuid.UUID(int=7), number=1, title="Printer jams", status=Status.OPEN, priority=Priority.HIGH,
        assignee=None, created_by=0, updated_at=1_700_000_000, version=1,
    )  # fmt: skip
    loads: list[int] = []

    def page(rid: int, more: bool, rows: int) -> bytes:
        return JSON.encode(Rows(rid=rid, seq=5, users=[user.id], rows=[row] * rows, more=more))

    async def handler(ws: ServerConnection) -> None:
        async for frame in ws:
            request = JSON.decode_client(frame)
            if isinstance(request, Login):
                welcome = Welcome(rid=request.rid, user=user, token="t", lock_ttl_s=180, server_version="test")
                await ws.send(JSON.encode(welcome).decode())
            elif isinstance(request, GetRows):
                loads.append(request.rid)
                await ws.send(page(request.rid, True, 1).decode())
                later = page(request.rid, False, rows)
                if len(loads) == 1:
                    later = later.replace(b'"open"', b'"opened"', 1)  # a status the protocol does not know
                await ws.send(later.decode())

    caplog.set_level(logging.WARNING, logger="protocol.client")
    async with serve(handler, "127.0.0.1", 0, compression=None, subprotocols=[Subprotocol(JSON.subprotocol)]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as client:
            await client.login(user.email, "secret")
            stream = client.events()
            await client.get_rows(first=1)
            pages = [await next_of(stream, Rows) for _ in range(3)]
    assert [(p.rid, p.more) for p in pages] == [(loads[0], True), (loads[1], True), (loads[1], False)]
    assert len(loads) == 2 and len(pages[2].rows) == rows
    assert [r.getMessage() for r in caplog.records].count(
        next(r.getMessage() for r in caplog.records if "unreadable page" in r.getMessage())
    ) == 1
