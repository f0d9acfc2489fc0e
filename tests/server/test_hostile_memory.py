"""What a client can make the server hold: snapshots (one in flight per connection, shared, streamed, bounded) and
tickets (a creation quota per user)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from websockets.asyncio.server import ServerConnection

from lesbillets_server.outbox import BATCH_BYTES, OutboxConnection
from lesbillets_server.snapshot_encoding import SLICE_TICKETS, envelope
from lesbillets_server.snapshots import SharedSnapshot
from lesbillets_server.storage import SqliteStore
from protocol.codec import JSON, MSGPACK, Codec
from protocol.messages import (
    Ack,
    AllTickets,
    CloseCode,
    CreateTicket,
    Error,
    ErrorCode,
    GetTickets,
    GetUsers,
    LockTicket,
    Priority,
    Status,
    Ticket,
    UpdateTicket,
    Users,
)
from tests.conftest import ServerFactory
from tests.server.test_tickets import create
from tests.server.wire import TIMEOUT, Wire, wire
from tests.support import ADMIN, ALICE, BOB, Agent, ServerHarness, subscribed

WRITE_LIMIT = 32 * 1024
"""websockets' default high-water mark for a connection's transport."""


def _ticket(n: int, author: uuid.UUID, description: str = "Reported by a customer. " * 16) -> Ticket:
    moment = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    return Ticket(
        id=uuid.UUID(int=n + 1),
        title=f"Ticket {n}",
        description=description,
        status=Status.OPEN,
        priority=Priority.NORMAL,
        assignee=None,
        created_at=moment,
        created_by=author,
        updated_at=moment,
        updated_by=author,
        version=1,
        lock=None,
    )


async def _big_table(server_factory: ServerFactory, count: int, **overrides: object) -> ServerHarness:
    """A server whose database holds `count` tickets (~500 bytes of JSON each)."""
    server = await server_factory(**overrides)
    await server.stop()
    store = SqliteStore(server.config.db)
    try:
        author = (await store.list_users())[0].user.id
        await store.create_tickets([_ticket(n, author) for n in range(count)], datetime.now(UTC))
    finally:
        await store.close()
    await server.start()
    return server


@asynccontextmanager
async def _non_reader(server: ServerHarness, agent: Agent = BOB) -> AsyncIterator[Wire]:
    """A logged-in client with a small receive buffer that stops reading (until the test resumes it)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect(("127.0.0.1", server.config.port))
    async with wire(server.url, login=agent, sock=sock, max_size=None, max_queue=1) as peer:
        peer.ws.transport.pause_reading()
        try:
            yield peer
        finally:
            peer.ws.transport.abort()  # as a hostile client leaves: no closing handshake to wait for


def _server_side(server: ServerHarness, peer: Wire) -> OutboxConnection:
    port = peer.ws.local_address[1]
    [connection] = [c for c in server.running.server.connections if c.remote_address[1] == port]
    assert isinstance(connection, OutboxConnection)
    return connection


async def _until(condition: Callable[[], bool]) -> None:
    """Wait, up to the wire timeout, for the server to reach a state the test can only observe: no event signals it."""
    async with asyncio.timeout(TIMEOUT):
        while not condition():  # noqa: ASYNC110  # polling server-side state; nothing to await
            await asyncio.sleep(0.005)


def _streaming(connection: ServerConnection) -> bool:
    return isinstance(connection, OutboxConnection) and connection.queue.streaming


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
@pytest.mark.parametrize("count", [0, 1, 15, 16, SLICE_TICKETS, SLICE_TICKETS + 1, 2 * SLICE_TICKETS + 7])
def test_shared_encoding_is_the_whole_reply(codec: Codec, count: int) -> None:
    """Head, shared array slices and tail are byte for byte the encoding of the whole `AllTickets`."""
    tickets = [_ticket(n, uuid.UUID(int=7), description=f"case {n}") for n in range(count)]
    shared = SharedSnapshot(42, codec, tickets)
    while not shared.done:
        shared.encode_slice()
    head, tail = envelope(codec, 9, 42)
    spliced = head + b"".join(shared.pieces) + tail
    assert spliced == codec.encode(AllTickets(rid=9, seq=42, tickets=tickets))


def test_msgpack_array_of_more_than_65535_tickets() -> None:
    """The array header switches to 32 bits past 65,535 tickets and the spliced reply still decodes."""
    ticket = _ticket(0, uuid.UUID(int=7), description="")
    tickets = [ticket] * 65_536
    shared = SharedSnapshot(1, MSGPACK, tickets)
    while not shared.done:
        shared.encode_slice()
    head, tail = envelope(MSGPACK, 1, 1)
    reply = MSGPACK.decode_server(head + b"".join(shared.pieces) + tail)
    assert isinstance(reply, AllTickets) and len(reply.tickets) == 65_536


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
async def test_big_snapshot_arrives_whole_in_either_encoding(server_factory: ServerFactory, codec: Codec) -> None:
    """A snapshot sent in fragments (several slices, many fragments) decodes to every ticket in order."""
    server = await _big_table(server_factory, 2 * SLICE_TICKETS + 500)
    async with wire(server.url, codec=codec, login=ALICE, max_size=None) as alice:
        snapshot = await alice.expect(GetTickets(rid=alice.rid()), AllTickets)
    assert [t.title for t in snapshot.tickets] == [f"Ticket {n}" for n in range(2 * SLICE_TICKETS + 500)]
    assert snapshot.seq == 2 * SLICE_TICKETS + 500


async def test_non_reader_asking_forty_times_pins_one_shared_copy(server_factory: ServerFactory) -> None:
    """40 pipelined `GetTickets` from a client that never reads: one snapshot in flight, a transport's worth held."""
    server = await _big_table(server_factory, 8000)  # ~4 MB: more than the kernel takes for a non-reader
    async with _non_reader(server) as hostile, wire(server.url, login=ALICE, max_size=None) as honest:
        for _ in range(40):
            await hostile.send(GetTickets(rid=hostile.rid()))
        first = await honest.expect(GetTickets(rid=honest.rid()), AllTickets)
        await honest.expect(GetUsers(rid=honest.rid()), Users)  # others are served meanwhile
        held = _server_side(server, hostile)
        await _until(lambda: held.paused and server.running.snapshots.waiting == 1)
        assert held.transport.get_write_buffer_size() <= WRITE_LIMIT + BATCH_BYTES
        assert held.queue.owed == 0 and held.queue.streaming  # the rest of the snapshot is not copied anywhere
        assert len(server.running.snapshots) == 1  # the honest client shared the same encoding

        tid = await create(honest, "made while the first snapshot was on its way")
        hostile.ws.transport.resume_reading()
        replies = [await hostile.next_reply() for _ in range(3)]
        seqs = [r.seq for r in replies if isinstance(r, AllTickets)]
        assert seqs == [first.seq, first.seq + 1, first.seq + 1], "the second snapshot was taken before the first left"
        assert tid in {t.id for t in replies[1].tickets if isinstance(replies[1], AllTickets)}


async def test_same_seq_shares_an_encoding_and_max_snapshots_bounds_them(server_factory: ServerFactory) -> None:
    """Two readers of one seq share an encoding; a third seq waits while `max_snapshots` (2) are alive."""
    server = await _big_table(server_factory, 8000, max_snapshots=2)
    snapshots = server.running.snapshots
    async with (
        wire(server.url, login=ADMIN) as writer,
        _non_reader(server, ALICE) as first,
        _non_reader(server, BOB) as second,
        _non_reader(server, ALICE) as third,
    ):
        await first.send(GetTickets(rid=first.rid()))
        await second.send(GetTickets(rid=second.rid()))
        await _until(lambda: _streaming(_server_side(server, first)) and _streaming(_server_side(server, second)))
        assert len(snapshots) == 1

        await create(writer, "a new seq")
        await third.send(GetTickets(rid=third.rid()))
        await _until(lambda: _streaming(_server_side(server, third)))
        assert len(snapshots) == 2

        await create(writer, "yet another seq")
        async with _non_reader(server, ADMIN) as fourth:
            await fourth.send(GetTickets(rid=fourth.rid()))
            await _until(lambda: snapshots.waiting == 1)
            assert len(snapshots) == 2 and not _streaming(_server_side(server, fourth))
            third.ws.transport.abort()  # its encoding is freed: the waiting request goes ahead
            fourth.ws.transport.resume_reading()
            reply = await fourth.next_reply()
            assert isinstance(reply, AllTickets) and len(reply.tickets) == 8002


async def test_laggard_in_the_middle_of_a_snapshot_still_gets_4000(server_factory: ServerFactory) -> None:
    """Events piling up behind a snapshot the client does not read drop it with 4000, cutting the snapshot short."""
    server = await _big_table(server_factory, 8000, backlog_bytes=64 * 1024, rate_per_s=10_000, rate_burst=10_000)
    async with wire(server.url, login=ALICE) as alice, _non_reader(server) as laggard:
        await laggard.send(GetTickets(rid=laggard.rid()))
        await _until(lambda: _streaming(_server_side(server, laggard)))
        tid = uuid.UUID(int=1)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        version = 1
        while version < 500 and (version % 20 or await subscribed(server) == 2):
            update = UpdateTicket(rid=alice.rid(), ticket_id=tid, version=version, description="x" * 9000)
            await alice.expect(update, Ack)
            version += 1
        assert await subscribed(server) == 1, "the laggard was never dropped"
        laggard.ws.transport.resume_reading()
        code, _ = await laggard.closed()
        assert code == CloseCode.RESYNC


@pytest.mark.parametrize(
    ("second_agent", "second_connection", "refused"),
    [
        (ALICE, False, True),  # the same connection past the burst
        (ALICE, True, True),  # another connection of the same user shares the quota
        (BOB, True, False),  # another user has a quota of their own
    ],
    ids=["same-connection", "same-user-other-connection", "other-user"],
)
async def test_ticket_creation_quota_per_user(
    server_factory: ServerFactory, second_agent: Agent, second_connection: bool, refused: bool
) -> None:
    """Past `create_burst` new tickets a user gets `rate_limited` with a sentence, whatever the connection."""
    server = await server_factory(create_rate_per_s=0.01, create_burst=3)
    async with wire(server.url, login=ALICE) as alice:
        for n in range(3):
            await create(alice, f"t{n}")
        async with wire(server.url, login=second_agent) if second_connection else _same(alice) as other:
            reply = await other.request(CreateTicket(rid=other.rid(), title="one too many"))
            if refused:
                assert isinstance(reply, Error) and reply.code is ErrorCode.RATE_LIMITED
                assert "Try again in" in reply.message
                snapshot = await other.expect(GetTickets(rid=other.rid()), AllTickets)
                assert len(snapshot.tickets) == 3  # nothing was created
            else:
                assert isinstance(reply, Ack)


@asynccontextmanager
async def _same(peer: Wire) -> AsyncIterator[Wire]:
    yield peer
