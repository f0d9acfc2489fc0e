"""The asyncio client against a real server: typed replies, typed errors, events, resync and reconnect."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import pytest

from lesbillets_server.storage import SqliteStore
from protocol.client import Client, ClientEvent, ConnectionChanged, ConnectionState, connect
from protocol.connection import SESSION_ENDED
from protocol.errors import (
    BadRequest,
    Conflict,
    ConnectionLost,
    Forbidden,
    Locked,
    NotConnected,
    NotFound,
    NotLockHolder,
    RateLimited,
    ServerError,
    Unauthorized,
)
from protocol.messages import (
    AllTickets,
    Priority,
    Role,
    Status,
    Ticket,
    TicketCreated,
    TicketLocked,
    TicketUnlocked,
    TicketUpdated,
    UnlockReason,
    User,
    Welcome,
)
from tests.conftest import Replicas, ServerFactory
from tests.support import ADMIN, ALICE, BOB, Agent, PausableProxy, ServerHarness, subscribed

TIMEOUT = 5.0
T = TypeVar("T")


async def next_item(stream: AsyncIterator[ClientEvent]) -> ClientEvent:
    async with asyncio.timeout(TIMEOUT):
        return await anext(stream)


async def next_of(stream: AsyncIterator[ClientEvent], kind: type[T]) -> T:
    item = await next_item(stream)
    assert isinstance(item, kind), f"expected {kind.__name__}, got {item!r}"
    return item


async def login(client: Client, agent: Agent) -> Welcome:
    return await client.login(agent.email, agent.password)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- connecting and logging in ----------------------------------------------------------


@pytest.mark.parametrize("encoding", ["json", "msgpack"])
async def test_login_fills_in_the_session(server: ServerHarness, encoding: Literal["json", "msgpack"]) -> None:
    """login() returns Welcome and sets user, token and lock_ttl_s, over either encoding."""
    async with connect(server.url, encoding=encoding) as client:
        assert client.state is ConnectionState.CONNECTED
        assert client.user is None and client.token is None
        welcome = await login(client, ALICE)
        assert isinstance(welcome, Welcome)
        assert welcome.user.email == ALICE.email and welcome.user.name == ALICE.name
        assert client.user == welcome.user
        assert client.token == welcome.token
        assert client.lock_ttl_s == server.config.lock_ttl_s
        ticket = await client.create_ticket("Over " + encoding)
        assert ticket.title == "Over " + encoding
    assert client.state is ConnectionState.CLOSED


async def test_connect_to_nothing_raises_not_connected() -> None:
    """Connecting where nothing listens raises NotConnected with a sentence naming the address."""
    url = f"ws://127.0.0.1:{free_port()}"
    with pytest.raises(NotConnected, match=rf"Could not connect to {re.escape(url)}: nothing is listening there\."):
        async with connect(url, open_timeout=2.0):
            pytest.fail("connected to nothing")


async def test_requests_before_login_are_unauthorized(server: ServerHarness) -> None:
    """Before login, a request raises Unauthorized with the server's sentence."""
    async with connect(server.url) as client:
        with pytest.raises(Unauthorized, match="Log in first"):
            await client.get_tickets()


async def test_resume_and_logout(server: ServerHarness) -> None:
    """resume() opens the same session elsewhere; logout() ends it for every connection's token."""
    async with connect(server.url) as first, connect(server.url) as second:
        welcome = await login(first, ALICE)
        resumed = await second.resume(welcome.token)
        assert resumed.user == welcome.user and second.token == welcome.token
        await second.logout()
        assert second.user is None and second.token is None and second.lock_ttl_s is None
        with pytest.raises(Unauthorized):
            await second.get_tickets()
        with pytest.raises(Unauthorized, match="ended"):
            await second.resume(welcome.token)


# --- each request's typed reply ----------------------------------------------------------


async def test_each_method_returns_its_typed_reply(server: ServerHarness) -> None:
    """create, lock, renew, update, unlock, get_tickets and get_users return the documented types."""
    async with connect(server.url) as client:
        await login(client, ALICE)
        users = await client.get_users()
        assert all(isinstance(u, User) for u in users)
        by_email = {u.email: u for u in users}
        assert set(by_email) >= {ALICE.email, BOB.email, ADMIN.email}
        assert by_email[ADMIN.email].role is Role.ADMIN
        bob_id = by_email[BOB.email].id

        created = await client.create_ticket(
            "Printer jams", "Every second page", status=Status.OPEN, priority=Priority.HIGH, assignee=bob_id
        )
        assert isinstance(created, Ticket)
        assert (created.title, created.description, created.priority, created.assignee) == (
            "Printer jams",
            "Every second page",
            Priority.HIGH,
            bob_id,
        )
        assert created.version == 1 and created.lock is None

        locked = await client.lock(created.id)
        assert locked.lock is not None and locked.lock.user_name == ALICE.name
        renewed = await client.renew_lock(created.id)
        assert renewed.lock is not None and renewed.lock.expires_at >= locked.lock.expires_at

        updated = await client.update_ticket(created.id, created.version, status=Status.BLOCKED, assignee=None)
        assert (updated.version, updated.status, updated.assignee) == (2, Status.BLOCKED, None)
        assert (updated.title, updated.description, updated.priority) == (
            "Printer jams",
            "Every second page",
            Priority.HIGH,
        )  # fields left UNSET stay as they were

        assert await client.unlock(created.id) is None
        snapshot = await client.get_tickets()
        assert isinstance(snapshot, AllTickets)
        (ticket,) = [t for t in snapshot.tickets if t.id == created.id]
        assert ticket.lock is None and ticket.version == 2


# --- typed errors ---------------------------------------------------------------------------


@dataclass
class Pair:
    alice: Client
    bob: Client
    ticket: Ticket
    """Created and locked by Alice."""


@pytest.fixture
async def pair(server: ServerHarness) -> AsyncIterator[Pair]:
    """Alice and Bob logged in on their own connections; Alice holds the lock on one ticket."""
    async with connect(server.url) as alice, connect(server.url) as bob:
        await login(alice, ALICE)
        await login(bob, BOB)
        ticket = await alice.lock((await alice.create_ticket("Shared")).id)
        yield Pair(alice, bob, ticket)


async def _empty_title(p: Pair) -> object:
    return await p.alice.create_ticket("")


async def _wrong_password(p: Pair) -> object:
    return await p.bob.login(BOB.email, "not-the-password")


async def _force_without_admin(p: Pair) -> object:
    return await p.bob.unlock(p.ticket.id, force=True)


async def _unknown_ticket(p: Pair) -> object:
    return await p.bob.lock(uuid.uuid4())


async def _lock_held_ticket(p: Pair) -> object:
    return await p.bob.lock(p.ticket.id)


async def _renew_unheld(p: Pair) -> object:
    return await p.bob.renew_lock(p.ticket.id)


async def _update_unheld(p: Pair) -> object:
    return await p.bob.update_ticket(p.ticket.id, p.ticket.version, title="Mine now")


async def _stale_version(p: Pair) -> object:
    await p.alice.update_ticket(p.ticket.id, p.ticket.version, title="First edit")
    return await p.alice.update_ticket(p.ticket.id, p.ticket.version, title="Edit of a stale copy")


async def _update_nothing(p: Pair) -> object:
    return await p.alice.update_ticket(p.ticket.id, p.ticket.version)


@pytest.mark.parametrize(
    ("scenario", "error", "detail"),
    [
        pytest.param(_empty_title, BadRequest, "$.title", id="bad_request-title"),
        pytest.param(_update_nothing, BadRequest, None, id="bad_request-no-field"),
        pytest.param(_wrong_password, Unauthorized, None, id="unauthorized"),
        pytest.param(_force_without_admin, Forbidden, None, id="forbidden"),
        pytest.param(_unknown_ticket, NotFound, None, id="not_found"),
        pytest.param(_lock_held_ticket, Locked, None, id="locked"),
        pytest.param(_renew_unheld, NotLockHolder, None, id="not_lock_holder-renew"),
        pytest.param(_update_unheld, NotLockHolder, None, id="not_lock_holder-update"),
        pytest.param(_stale_version, Conflict, "$.version", id="conflict"),
    ],
)
async def test_error_replies_raise_their_typed_exception(
    pair: Pair, scenario: Callable[[Pair], Awaitable[object]], error: type[ServerError], detail: str | None
) -> None:
    """Each refused request raises the ServerError subclass of its code, with the server's sentence and detail."""
    with pytest.raises(error) as caught:
        await scenario(pair)
    exc = caught.value
    assert type(exc) is error
    assert exc.code is error.default_code
    assert exc.detail == detail
    assert str(exc) == exc.message and exc.message.endswith(".")


async def test_locked_error_says_who_holds_the_lock(pair: Pair) -> None:
    """Locked carries the holder's Lock, so a person can be told who and until when."""
    with pytest.raises(Locked) as caught:
        await pair.bob.lock(pair.ticket.id)
    assert caught.value.lock == pair.ticket.lock
    assert caught.value.lock is not None and caught.value.lock.user_name == ALICE.name


async def test_lock_limit_is_forbidden(server_factory: ServerFactory) -> None:
    """Locking past the per-user maximum raises Forbidden."""
    server = await server_factory(max_locks=1)
    async with connect(server.url) as client:
        await login(client, ALICE)
        first, second = [await client.create_ticket(title) for title in ("one", "two")]
        await client.lock(first.id)
        with pytest.raises(Forbidden, match="locks"):
            await client.lock(second.id)


async def test_flooding_is_rate_limited(server_factory: ServerFactory) -> None:
    """Requests past the burst raise RateLimited; the ones within it succeed."""
    server = await server_factory(rate_per_s=0.001, rate_burst=3)
    async with connect(server.url) as client:
        await login(client, ALICE)  # the first of the 3
        results = await asyncio.gather(*(client.get_users() for _ in range(3)), return_exceptions=True)
        assert [type(r) for r in results[:2]] == [list, list]
        assert isinstance(results[2], RateLimited)


# --- events -------------------------------------------------------------------------------


async def test_own_change_event_is_there_when_the_reply_returns(server: ServerHarness) -> None:
    """The server sends the event before the reply, so events() has it without waiting."""
    async with connect(server.url) as client:
        await login(client, ALICE)
        stream = client.events()
        ticket = await client.create_ticket("Mine")
        async with asyncio.timeout(0):  # fires only if anext() had to wait
            created = await anext(stream)
        assert isinstance(created, TicketCreated) and created.ticket == ticket


async def test_others_see_every_change_in_seq_order(pair: Pair) -> None:
    """Bob's events() yields his snapshot, then Alice's update, unlock, create and lock, each seq one more."""
    alice, bob, ticket = pair.alice, pair.bob, pair.ticket
    await bob.get_tickets()
    stream = bob.events()
    snapshot = await next_of(stream, AllTickets)
    assert bob.last_seq == snapshot.seq
    assert [t.lock for t in snapshot.tickets if t.id == ticket.id] == [ticket.lock]

    updated = await alice.update_ticket(ticket.id, ticket.version, description="Done soon")
    await alice.unlock(ticket.id)
    created = await alice.create_ticket("Another")
    await alice.lock(created.id)

    seen = [await next_item(stream) for _ in range(4)]
    assert [type(e) for e in seen] == [TicketUpdated, TicketUnlocked, TicketCreated, TicketLocked]
    assert [e.seq for e in seen if not isinstance(e, ConnectionChanged)] == [snapshot.seq + i for i in range(1, 5)]
    assert isinstance(seen[0], TicketUpdated) and seen[0].ticket == updated
    assert isinstance(seen[1], TicketUnlocked) and seen[1].reason is UnlockReason.RELEASED
    assert isinstance(seen[2], TicketCreated) and seen[2].ticket == created
    assert bob.last_seq == snapshot.seq + 4


async def test_slow_reader_drops_events_and_resyncs(pair: Pair) -> None:
    """Past event_buffer, unread events are dropped; the reader then gets a snapshot reflecting them."""
    bob = pair.bob
    bob.event_buffer = 2
    await bob.get_tickets()
    stream = bob.events()
    snapshot = await next_of(stream, AllTickets)
    titles = [f"Burst {i}" for i in range(3)]
    for title in titles:
        await pair.alice.create_ticket(title)
    await bob.get_users()  # its reply comes after the three events, so all of them have arrived

    fresh = await next_of(stream, AllTickets)
    assert fresh.seq == snapshot.seq + 3
    assert set(titles) <= {t.title for t in fresh.tickets}
    assert bob.last_seq == fresh.seq


# --- connection loss ---------------------------------------------------------------------


async def test_reconnect_resumes_from_the_last_event(server: ServerHarness, caplog: pytest.LogCaptureFixture) -> None:
    """After a server restart: RECONNECTING, then CONNECTED and the changes made meanwhile as events, with no
    snapshot; the session and its lock survive."""
    caplog.set_level(logging.DEBUG)
    async with connect(server.url) as client, connect(server.url) as bob:
        welcome = await login(client, ALICE)
        await login(bob, BOB)
        ticket = await client.lock((await client.create_ticket("Survives a restart")).id)
        snapshot = await client.get_tickets()
        stream = client.events()
        await next_of(stream, AllTickets)  # the events before it are skipped: it reflects them

        await server.restart()

        reconnecting = await next_of(stream, ConnectionChanged)
        assert reconnecting.state is ConnectionState.RECONNECTING
        assert reconnecting.reason is not None and "restarting" in reconnecting.reason
        created = await bob.create_ticket("Made while Alice was away")  # Bob reconnects on his own too
        seen = [await next_item(stream), await next_item(stream)]
        assert ConnectionChanged(ConnectionState.CONNECTED, None) in seen
        [event] = [item for item in seen if not isinstance(item, ConnectionChanged)]
        assert isinstance(event, TicketCreated) and event.ticket == created and event.seq == snapshot.seq + 1
        assert client.state is ConnectionState.CONNECTED
        assert client.token == welcome.token

        renewed = await client.renew_lock(ticket.id)  # the lock still belongs to this session
        assert renewed.lock is not None and renewed.lock.user_id == welcome.user.id
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("protocol", "websockets.client")))
    assert "lost" in ours  # the reconnect was logged...
    assert welcome.token not in ours and ALICE.password not in ours  # ...without secrets, even at DEBUG


async def test_a_client_fails_over_to_the_next_server(replicas: Replicas) -> None:
    """Given several URLs, the client uses the first that answers; when that replica goes away it moves to the
    next, resumes the session and the event stream, and requests go on."""
    a, b = await replicas(2)
    nobody = f"ws://127.0.0.1:{free_port()}"
    async with connect(f"{nobody},{a.url}, {b.url}") as client, connect(b.url) as bob:  # as the app's URL argument
        assert client.url == a.url
        await login(client, ALICE)
        await login(bob, BOB)
        snapshot = await client.get_tickets()
        stream = client.events()
        await next_of(stream, AllTickets)
        await a.stop()
        assert (await next_of(stream, ConnectionChanged)).state is ConnectionState.RECONNECTING
        created = await bob.create_ticket("While Alice moves over")
        seen = [await next_item(stream), await next_item(stream)]
        assert ConnectionChanged(ConnectionState.CONNECTED, None) in seen
        assert client.url == b.url
        [event] = [item for item in seen if not isinstance(item, ConnectionChanged)]
        assert isinstance(event, TicketCreated) and (event.ticket, event.seq) == (created, snapshot.seq + 1)
        assert (await client.create_ticket("after the failover")).title == "after the failover"


async def test_falling_behind_resyncs(server_factory: ServerFactory) -> None:
    """Closed with 4000 for reading too slowly, the client reconnects, resumes, and catches up to the latest version."""
    server = await server_factory(backlog_bytes=64 * 1024, rate_per_s=10_000, rate_burst=10_000)
    async with PausableProxy(server.config.port) as network, connect(server.url) as alice, connect(network.url) as bob:
        await login(alice, ALICE)
        await login(bob, BOB)
        ticket = await alice.lock((await alice.create_ticket("Busy")).id)
        await bob.get_tickets()
        stream = bob.events()
        await next_of(stream, AllTickets)
        network.pause()  # Bob's network stalls; the kernel's buffers take a few MB before the server's grows
        big = "x" * 18_000
        while ticket.version < 2000 and (ticket.version % 20 or await subscribed(server) == 2):
            ticket = await alice.update_ticket(ticket.id, ticket.version, description=big + str(ticket.version))
        assert await subscribed(server) == 1, "the server never dropped the slow reader"
        network.resume()

        latest = 0
        item = await next_item(stream)
        while not isinstance(item, ConnectionChanged):  # what arrived before the drop
            assert isinstance(item, TicketUpdated)
            latest = item.ticket.version
            item = await next_item(stream)
        assert item.state is ConnectionState.RECONNECTING
        assert item.reason is not None and "fell behind" in item.reason
        # then the missed updates are replayed (or, had too much been missed, a fresh snapshot comes)
        connected = False
        while not (connected and latest == ticket.version):
            item = await next_item(stream)
            if isinstance(item, ConnectionChanged):
                connected = item.state is ConnectionState.CONNECTED
            elif isinstance(item, TicketUpdated):
                assert item.ticket.version == latest + 1, "a missed or repeated update"
                latest = item.ticket.version
            else:
                assert isinstance(item, AllTickets)
                latest = next(t.version for t in item.tickets if t.id == ticket.id)


async def test_request_waits_for_the_reconnect(server: ServerHarness) -> None:
    """A request made while reconnecting is sent once the connection is back."""
    async with connect(server.url, request_timeout=TIMEOUT) as client:
        await login(client, ALICE)
        stream = client.events()
        await server.stop()
        assert (await next_of(stream, ConnectionChanged)).state is ConnectionState.RECONNECTING
        waiting = asyncio.create_task(client.get_users())
        await server.start()
        async with asyncio.timeout(TIMEOUT):
            users = await waiting
        assert ALICE.email in {u.email for u in users}


async def test_request_while_down_raises_not_connected(server: ServerHarness) -> None:
    """While the server stays down, a request gives up after request_timeout with NotConnected."""
    async with connect(server.url, request_timeout=0.2) as client:  # no login: it could take longer than that
        stream = client.events()
        await server.stop()
        assert (await next_of(stream, ConnectionChanged)).state is ConnectionState.RECONNECTING
        with pytest.raises(NotConnected) as caught:
            await client.get_users()
        assert type(caught.value) is NotConnected
        assert client.state is ConnectionState.RECONNECTING


async def test_in_flight_request_raises_connection_lost(server: ServerHarness) -> None:
    """A request whose connection drops before the reply raises ConnectionLost; without reconnect, CLOSED."""
    async with connect(server.url, reconnect=False) as client:
        stream = client.events()
        # Login is slow on purpose (argon2), so it is still in flight when the server goes away.
        in_flight = asyncio.create_task(login(client, ALICE))
        await server.stop()
        with pytest.raises(ConnectionLost):
            async with asyncio.timeout(TIMEOUT):
                await in_flight
        closed = await next_of(stream, ConnectionChanged)
        assert closed.state is ConnectionState.CLOSED and closed.reason is not None
        with pytest.raises(StopAsyncIteration):
            await next_item(stream)
        with pytest.raises(NotConnected):
            await client.get_tickets()


async def test_revoked_session_ends_the_client(server: ServerHarness) -> None:
    """When Resume is refused after a reconnect, events() yields CLOSED with a sentence and ends."""
    async with connect(server.url) as client:
        welcome = await login(client, ALICE)
        stream = client.events()

        await server.stop()
        assert (await next_of(stream, ConnectionChanged)).state is ConnectionState.RECONNECTING
        store = SqliteStore(server.config.db)
        try:
            await store.delete_sessions_of(welcome.user.id)  # the session ends while the client is away
        finally:
            await store.close()
        await server.start()

        closed = await next_of(stream, ConnectionChanged)
        assert closed == ConnectionChanged(ConnectionState.CLOSED, SESSION_ENDED)
        with pytest.raises(StopAsyncIteration):
            await next_item(stream)
        assert client.state is ConnectionState.CLOSED
        assert client.token is None and client.user is None
        with pytest.raises(NotConnected):
            await client.get_tickets()


async def test_close_ends_the_event_stream(server: ServerHarness) -> None:
    """close() yields CLOSED without a reason to the reader and fails later requests with NotConnected."""
    async with connect(server.url) as client:
        stream = client.events()
        reader = asyncio.create_task(next_item(stream))
        await client.close()
        assert await reader == ConnectionChanged(ConnectionState.CLOSED, None)
        with pytest.raises(NotConnected):
            await client.get_users()


async def test_history_of_a_ticket(pair: Pair) -> None:
    """`get_history` returns the ticket's changes oldest first, an update with its old and new values."""
    ticket = await pair.alice.lock((await pair.alice.create_ticket("Printer")).id)
    await pair.alice.update_ticket(ticket.id, ticket.version, title="Printer jams")
    history = await pair.bob.get_history(ticket.id)
    assert [entry.kind.value for entry in history] == ["created", "locked", "updated"]
    assert [(c.field, c.old, c.new) for c in history[-1].changes] == [("title", "Printer", "Printer jams")]
