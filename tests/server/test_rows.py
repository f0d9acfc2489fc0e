"""`GetRows`: the table as `Rows` pages, the newest first, every ticket once, one seq, events after the last page,
and no more held for a client than a snapshot costs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection
from websockets.server import ServerProtocol

from lesbillets_server.outbox import BATCH_BYTES
from lesbillets_server.row_encoding import HEAD_ROWS, PAGE_ROWS, SLICE_ROWS, RowTable, UserIndex, envelope, to_row
from lesbillets_server.row_snapshots import RowsStream, SharedRows
from protocol.codec import JSON, MSGPACK, Codec
from protocol.messages import (
    AllTickets,
    Error,
    ErrorCode,
    GetRows,
    GetTickets,
    Row,
    Rows,
    ServerMessage,
    Ticket,
    TicketCreated,
)
from protocol.rows import expand
from tests.conftest import ServerFactory
from tests.server.test_hostile_memory import WRITE_LIMIT, _non_reader, _server_side, _streaming, _until
from tests.server.test_tickets import create
from tests.server.wire import Wire, wire
from tests.support import ADMIN, ALICE, BOB, ServerHarness, add_test_users, seed_tickets, tickets_for_rows, with_tickets

BIG = HEAD_ROWS + 2 * PAGE_ROWS + 7
"""A table with a head, two full pages and a short one."""


Seeded = Callable[[int], Awaitable[tuple[ServerHarness, list[Ticket]]]]


@pytest.fixture(params=["sqlite", "postgresql"])
async def seeded(
    request: pytest.FixtureRequest, tmp_path: Path, server_factory: ServerFactory
) -> AsyncIterator[Seeded]:
    """A server of each engine over a database holding `count` tickets, and those tickets."""
    servers: list[ServerHarness] = []

    async def start(count: int) -> tuple[ServerHarness, list[Ticket]]:
        if request.param == "sqlite":
            server = await server_factory()
            return server, await with_tickets(server, count)
        pg_url = str(request.getfixturevalue("pg_url"))
        await add_test_users(pg_url)
        tickets = await seed_tickets(pg_url, count)
        server = ServerHarness(None, tmp_path, db=pg_url)
        await server.start()
        servers.append(server)
        return server, tickets

    yield start
    for server in servers:
        await server.stop()


async def _pages(peer: Wire, request: GetRows) -> list[Rows]:
    """Send `request` and read its pages up to the last; anything else in between fails."""
    await peer.send(request)
    pages: list[Rows] = []
    while not pages or pages[-1].more:
        reply = await peer.next_reply()
        assert isinstance(reply, Rows), f"expected a Rows page, got {reply!r}"
        assert reply.rid == request.rid
        pages.append(reply)
    return pages


def _newest_first(tickets: list[Ticket]) -> list[Ticket]:
    return sorted(tickets, key=lambda ticket: ticket.updated_at, reverse=True)


# --- the pages, sans-I/O ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
@pytest.mark.parametrize("count", [0, 1, HEAD_ROWS, HEAD_ROWS + 1, HEAD_ROWS + SLICE_ROWS + 3, BIG])
def test_spliced_pages_are_the_whole_messages(codec: Codec, count: int) -> None:
    """Envelope, users and rows spliced are byte for byte the encoding of each whole `Rows` page."""
    authors = [uuid.UUID(int=7), uuid.UUID(int=8), uuid.UUID(int=9)]
    tickets = tickets_for_rows(count, authors)
    table = RowTable(42, codec, tickets)
    while not table.done:
        table.encode_slice()
    newest = _newest_first(tickets)
    head, rest = newest[:HEAD_ROWS], newest[HEAD_ROWS:]
    users = UserIndex()
    head_rows = [to_row(ticket, users) for ticket in head]
    expected: list[tuple[list[uuid.UUID], list[Row]]] = [(users.ids, head_rows[:10]), (users.ids, head_rows[10:])]
    got = [table.head_page(0, 10), table.head_page(10, len(head))]
    rest_ids = {ticket.id for ticket in rest}
    in_pages = [ticket for ticket in tickets if ticket.id in rest_ids]  # pages after the head keep table order
    for start in range(0, len(in_pages), PAGE_ROWS):
        users = UserIndex()
        expected.append((users.ids, [to_row(ticket, users) for ticket in in_pages[start : start + PAGE_ROWS]]))
    got += table.pages
    assert len(got) == len(expected)
    for index, (page, (user_ids, rows)) in enumerate(zip(got, expected, strict=True)):
        more = index < len(got) - 1
        before, between, after = envelope(codec, 9, 42, more=more)
        spliced = before + page.users + between + b"".join(page.rows) + after
        assert spliced == codec.encode(Rows(rid=9, seq=42, users=user_ids, rows=rows, more=more))


def test_a_slice_encodes_at_most_slice_rows() -> None:
    """The pages after the head are encoded `SLICE_ROWS` rows at a time, so the loop serves others between."""
    table = RowTable(1, JSON, tickets_for_rows(HEAD_ROWS + PAGE_ROWS, [uuid.UUID(int=7)]))
    slices = 0
    while not table.done:
        table.encode_slice()
        slices += 1
    assert slices == PAGE_ROWS // SLICE_ROWS


def _frames(stream: RowsStream) -> list[tuple[int, bool, bytes]]:
    """(opcode, fin, payload) of every frame the stream has ready (server frames: unmasked)."""
    frames = []
    while (frame := stream.next_frame()) is not None:
        length, offset = frame[1] & 0x7F, 2
        if length == 126:
            offset = 4
        elif length == 127:
            offset = 10
        frames.append((frame[0] & 0x0F, bool(frame[0] & 0x80), frame[offset:]))
    return frames


def _messages(frames: list[tuple[int, bool, bytes]]) -> list[Rows]:
    messages, parts = [], b""
    for opcode, fin, payload in frames:
        assert (opcode == 0) == bool(parts), "a page starts with a text frame and goes on with continuations"
        parts += payload
        if fin:
            message = JSON.decode_server(parts)
            assert isinstance(message, Rows)
            messages.append(message)
            parts = b""
    assert not parts, "a page was left unfinished"
    return messages


async def test_first_pages_are_ready_before_the_rest_is_encoded() -> None:
    """A stream has its first page and the rest of the head at once; each later page once it is encoded."""
    shared = SharedRows(5, JSON, tickets_for_rows(BIG, [uuid.UUID(int=7), uuid.UUID(int=8)]))
    wakes: list[None] = []
    connection = ServerConnection(ServerProtocol(), None)  # type: ignore[arg-type]  # only its framing is used
    stream = RowsStream(shared, 3, 10, connection=connection, wake=lambda: wakes.append(None), on_close=print)
    shared.readers.add(stream)
    ready = _messages(_frames(stream))
    assert [(len(page.rows), page.more) for page in ready] == [(10, True), (HEAD_ROWS - 10, True)]
    assert stream.started and stream.next_frame() is None  # the next page is not encoded yet
    for page_size, more in [(PAGE_ROWS, True), (PAGE_ROWS, True), (7, False)]:
        while not wakes:
            shared.encode_slice()
        wakes.clear()
        assert [(len(page.rows), page.more) for page in _messages(_frames(stream))] == [(page_size, more)]
    assert stream.finished and stream.pages == 5


# --- over the wire --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
async def test_pages_cover_every_ticket_once_newest_first(seeded: Seeded, codec: Codec) -> None:
    """The first page is the `first` newest, every ticket comes once as it is stored, all at one seq."""
    server, tickets = await seeded(BIG)
    async with wire(server.url, codec=codec, login=ALICE, max_size=None) as alice:
        pages = await _pages(alice, GetRows(rid=alice.rid(), first=37))
    assert [page.more for page in pages] == [True] * (len(pages) - 1) + [False]
    assert {page.seq for page in pages} == {BIG}
    rows = [row for page in pages for row in expand(page)]
    assert len(rows) == BIG and {row.id for row in rows} == {ticket.id for ticket in tickets}
    assert [row.id for row in expand(pages[0])] == [ticket.id for ticket in _newest_first(tickets)[:37]]
    _, stored = server.service.snapshot()  # the tickets as the server holds them (what the store keeps of them)
    by_id = {ticket.id: ticket for ticket in stored}
    for row in rows:
        ticket = by_id[row.id]
        assert (row.title, row.status, row.priority, row.assignee, row.created_by, row.version, row.lock) == (
            ticket.title,
            ticket.status,
            ticket.priority,
            ticket.assignee,
            ticket.created_by,
            ticket.version,
            ticket.lock,
        )
        assert (row.number, list(row.tags), row.due_at) == (ticket.number, ticket.tags, ticket.due_at)
        assert row.updated_at == ticket.updated_at.replace(microsecond=0)


@pytest.mark.parametrize(
    ("count", "first", "sizes"),
    [
        (0, 100, [0]),
        (5, 100, [5]),
        (5, 5, [5]),
        (5, 2, [2, 3]),
        (HEAD_ROWS, HEAD_ROWS, [HEAD_ROWS]),
        (HEAD_ROWS + 1, 1, [1, HEAD_ROWS - 1, 1]),
    ],
)
async def test_page_sizes(server_factory: ServerFactory, count: int, first: int, sizes: list[int]) -> None:
    """The first page has `first` rows, the rest of the head the next, then pages of the others; the last ends."""
    server = await server_factory()
    await with_tickets(server, count)
    async with wire(server.url, login=BOB) as bob:
        pages = await _pages(bob, GetRows(rid=bob.rid(), first=first))
    assert [len(page.rows) for page in pages] == sizes


async def test_event_committed_while_pages_stream_comes_after_the_last(server_factory: ServerFactory) -> None:
    """A ticket created while the pages are on their way is not in them and arrives after the last page."""
    server = await server_factory()
    await with_tickets(server, BIG)
    async with wire(server.url, login=ALICE) as alice, _non_reader(server) as bob:
        await bob.send(GetRows(rid=bob.rid(), first=50))
        held = _server_side(server, bob)
        await _until(lambda: held.paused and _streaming(held))
        created = await create(alice, "made while the pages stream")
        bob.ws.transport.resume_reading()
        arrived: list[ServerMessage] = []
        while not arrived or not isinstance(arrived[-1], TicketCreated):
            arrived.append(await bob._receive())
    *pages, event = arrived
    assert all(isinstance(page, Rows) for page in pages)
    assert [page.more for page in pages if isinstance(page, Rows)][-1] is False
    assert isinstance(event, TicketCreated) and event.ticket.id == created
    assert event.seq == BIG + 1 and {page.seq for page in pages if isinstance(page, Rows)} == {BIG}
    assert created not in {row.id for page in pages if isinstance(page, Rows) for row in page.rows}


async def test_non_reader_asking_forty_times_pins_one_shared_table(server_factory: ServerFactory) -> None:
    """40 pipelined `GetRows` from a client that never reads: one in flight, a transport's worth held, shared."""
    server = await server_factory()
    await with_tickets(server, BIG)
    async with _non_reader(server) as hostile, wire(server.url, login=ALICE, max_size=None) as honest:
        for _ in range(40):
            await hostile.send(GetRows(rid=hostile.rid(), first=1000))
        held = _server_side(server, hostile)
        await _until(lambda: held.paused and server.running.snapshots.waiting == 1)
        pages = await _pages(honest, GetRows(rid=honest.rid()))
        assert {page.seq for page in pages} == {BIG}
        assert held.transport.get_write_buffer_size() <= WRITE_LIMIT + BATCH_BYTES
        assert held.queue.owed == 0 and held.queue.streaming  # the rest of the pages are not copied anywhere
        assert len(server.running.snapshots) == 1  # the honest client shared the same encoding


async def test_rows_and_tickets_share_the_max_snapshots_bound(server_factory: ServerFactory) -> None:
    """An encoding of rows counts against `max_snapshots` like one of `AllTickets`: past it, a request waits."""
    server = await server_factory(max_snapshots=1)
    await with_tickets(server, BIG)
    snapshots = server.running.snapshots
    async with wire(server.url, login=ADMIN) as writer, _non_reader(server, ALICE) as first:
        await first.send(GetRows(rid=first.rid()))
        await _until(lambda: _streaming(_server_side(server, first)))
        await create(writer, "a new seq")
        async with _non_reader(server, BOB) as second:
            await second.send(GetTickets(rid=second.rid()))
            await _until(lambda: snapshots.waiting == 1)
            assert len(snapshots) == 1 and not _streaming(_server_side(server, second))
            first.ws.transport.abort()  # its encoding is freed: the waiting request goes ahead
            second.ws.transport.resume_reading()
            reply = await second.next_reply()
            assert isinstance(reply, AllTickets) and len(reply.tickets) == BIG + 1


async def test_a_second_get_rows_waits_for_the_first(server_factory: ServerFactory) -> None:
    """Two `GetRows` on one connection: the second's pages all come after the first's last page."""
    server = await server_factory()
    await with_tickets(server, HEAD_ROWS + PAGE_ROWS + 1)
    async with wire(server.url, login=ALICE, max_size=None) as alice:
        first, second = GetRows(rid=alice.rid(), first=3), GetRows(rid=alice.rid(), first=3)
        await alice.send(first)
        await alice.send(second)
        rids = []
        while True:
            page = await alice.next_reply()
            assert isinstance(page, Rows)
            rids.append(page.rid)
            if page.rid == second.rid and not page.more:
                break
    assert rids == [first.rid] * 4 + [second.rid] * 4  # 3 newest, the rest of the head, a full page, one row


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ('{"type": "GetRows", "rid": 1, "first": 0}', "$.first"),
        ('{"type": "GetRows", "rid": 1, "first": 1001}', "$.first"),
        ('{"type": "GetRows", "rid": 1, "first": -5}', "$.first"),
        ('{"type": "GetRows", "rid": 1, "first": "all"}', "$.first"),
        ('{"type": "GetRows", "rid": 1, "first": 10.5}', "$.first"),
        ('{"type": "GetRows", "rid": 1, "last": 10}', None),
    ],
    ids=["zero", "too-many", "negative", "text", "fraction", "unknown-field"],
)
async def test_bad_get_rows_is_bad_request(server: ServerHarness, frame: str, detail: str | None) -> None:
    """A `GetRows` out of bounds gets `bad_request` naming the field, and the connection keeps working."""
    async with wire(server.url, login=ALICE) as alice:
        reply = await alice.send_raw(frame)
        assert isinstance(reply, Error) and reply.code is ErrorCode.BAD_REQUEST and reply.rid == 1
        if detail is not None:
            assert reply.detail == detail
        pages = await _pages(alice, GetRows(rid=alice.rid()))
        assert len(pages) == 1 and pages[0].rows == []


async def test_get_rows_needs_a_login(server: ServerHarness) -> None:
    """Before `Login`, `GetRows` is `unauthorized` and sends no page."""
    async with wire(server.url) as anonymous:
        reply = await anonymous.request(GetRows(rid=anonymous.rid()))
        assert isinstance(reply, Error) and reply.code is ErrorCode.UNAUTHORIZED
