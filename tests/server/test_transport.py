"""The transport's edges: subprotocols, frame size, floods, slow readers, HTTP, shutdown and failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from protocol.codec import JSON, MSGPACK
from protocol.messages import (
    Ack,
    AllTickets,
    CloseCode,
    CreateTicket,
    Error,
    ErrorCode,
    GetTickets,
    LockTicket,
    UpdateTicket,
)
from tests.conftest import ServerFactory
from tests.server.test_tickets import create
from tests.server.wire import wire
from tests.support import ALICE, BOB, ServerHarness, subscribed


async def _http_get(url: str) -> tuple[int, str, bytes]:
    def fetch() -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read()

    return await asyncio.to_thread(fetch)


@pytest.mark.parametrize(
    ("path", "status", "content_type", "needle"),
    [
        ("/healthz", 200, "text/plain", b"ok"),
        ("/docs", 200, "text/html", b"<h1>"),
        ("/schema.json", 200, "application/schema+json", b"UpdateTicket"),
        ("/metrics", 200, "text/plain", b"lesbillets_events_committed_total"),
        ("/nope", 404, "text/plain", b"Not found"),
    ],
)
async def test_http_paths(server: ServerHarness, path: str, status: int, content_type: str, needle: bytes) -> None:
    """Plain HTTP on the websocket port answers health, docs, schema and metrics, and 404 otherwise."""
    got_status, got_type, body = await _http_get(server.http_url + path)
    assert (got_status, got_type.split(";")[0]) == (status, content_type)
    assert needle in body


async def test_metrics_count_what_happened(server: ServerHarness) -> None:
    """/metrics reports the connection, the events committed and delivered, and the lock held."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await alice.expect(CreateTicket(rid=alice.rid(), title="Counted"), Ack)
        assert ticket.ticket is not None
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.ticket.id), Ack)
        _, _, body = await _http_get(server.http_url + "/metrics")
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in body.decode().splitlines()
        if line.startswith("lesbillets_") and "{" not in line
    }
    assert values["lesbillets_connections"] == 1
    assert values["lesbillets_events_committed_total"] == values["lesbillets_events_delivered_total"] == 2
    assert values["lesbillets_locks_held"] == 1
    assert values["lesbillets_delivery_lag_events"] == 0
    assert values["lesbillets_commit_seconds_count"] == 2


async def test_schema_is_valid_json_naming_every_message(server: ServerHarness) -> None:
    """/schema.json parses and defines every message of both unions."""
    _, _, body = await _http_get(server.http_url + "/schema.json")
    definitions = json.loads(body)["$defs"]
    for name in ("Login", "UpdateTicket", "Welcome", "AllTickets", "TicketUnlocked", "Error"):
        assert name in definitions


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [([], None), (["lesbillets.json"], "lesbillets.json"), (["x", "lesbillets.msgpack"], "lesbillets.msgpack")],
)
async def test_subprotocol_negotiation(server: ServerHarness, offered: list[str], chosen: str | None) -> None:
    """No subprotocol means JSON; otherwise the first one offered that the server speaks."""
    async with connect(server.url, subprotocols=offered or None) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == chosen
        codec = MSGPACK if chosen == "lesbillets.msgpack" else JSON
        await ws.send(codec.encode(GetTickets(rid=1)), text=codec.text)
        reply = codec.decode_server(await ws.recv())
        assert isinstance(reply, Error)
        assert reply.code is ErrorCode.UNAUTHORIZED


async def test_unknown_subprotocol_is_refused(server: ServerHarness) -> None:
    """Offering only encodings the server does not speak fails the handshake with HTTP 400."""
    with pytest.raises(InvalidStatus) as caught:
        async with connect(server.url, subprotocols=["lesbillets.xml"]):  # type: ignore[list-item]
            pass
    assert caught.value.response.status_code == 400


async def test_oversized_frame_closes_1009(server_factory: ServerFactory) -> None:
    """A frame over --max-message closes the connection with 1009 and changes nothing."""
    server = await server_factory(max_message=4096)
    async with wire(server.url, login=ALICE) as alice:
        await alice.send(CreateTicket(rid=1, title="t", description="x" * 5000))
        code, _ = await alice.closed()
        assert code == CloseCode.MESSAGE_TOO_BIG
    async with wire(server.url, login=BOB) as bob:
        snapshot = await bob.expect(GetTickets(rid=1), AllTickets)
        assert snapshot.tickets == []


async def test_flood_is_rate_limited_then_closed(server_factory: ServerFactory) -> None:
    """Past the burst requests get `rate_limited`; a client that keeps going is closed with 1008."""
    server = await server_factory(rate_per_s=1, rate_burst=5)
    async with wire(server.url) as peer:
        frames = [GetTickets(rid=n) for n in range(1, 13)]
        for frame in frames:  # pipelined: the server sees them as one burst
            await peer.send(frame)
        replies = []
        with contextlib.suppress(ConnectionClosed):  # the 11th request is never answered: the connection closes
            for _ in frames:
                replies.append(await peer.next_reply())
        codes = [reply.code if isinstance(reply, Error) else reply for reply in replies]
        assert codes == [ErrorCode.UNAUTHORIZED] * 5 + [ErrorCode.RATE_LIMITED] * 5
        code, _ = await peer.closed()
        assert code == CloseCode.POLICY_VIOLATION


async def test_slow_reader_is_dropped_with_resync_code(server_factory: ServerFactory) -> None:
    """A client that stops reading is closed with 4000 once its backlog passes the limit; others carry on."""
    server = await server_factory(backlog_bytes=64 * 1024, rate_per_s=10_000, rate_burst=10_000)
    async with (
        wire(server.url, login=ALICE) as alice,
        wire(server.url, login=BOB, max_queue=1) as laggard,
    ):
        # the laggard's own TCP buffers take a few MB before the server's buffer grows; keep changing until it goes
        laggard.ws.transport.pause_reading()
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        version = 1
        big = "x" * 19_000
        while version < 2000 and (version % 20 or await subscribed(server) == 2):
            await alice.expect(
                UpdateTicket(rid=alice.rid(), ticket_id=tid, version=version, description=big[: 18_000 + version]),
                Ack,
            )
            version += 1
        assert await subscribed(server) == 1, "the laggard was never dropped"
        alice.events.clear()
        laggard.ws.transport.resume_reading()
        code, _ = await laggard.closed()
        assert code == CloseCode.RESYNC
        await alice.expect(GetTickets(rid=alice.rid()), AllTickets)


async def test_slow_reader_still_receives_the_resync_close(server_factory: ServerFactory) -> None:
    """A client that reads, but slower than events come, gets close code 4000, not a timed-out EOF."""
    server = await server_factory(backlog_bytes=256 * 1024, rate_per_s=10_000, rate_burst=10_000)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.connect(("127.0.0.1", server.config.port))
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB, sock=sock, max_queue=1) as slow:

        async def read_slowly() -> int | None:
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await slow.ws.recv()
                    await asyncio.sleep(0.1)  # the scenario, not synchronisation: ~180 kB/s of 18 kB events
            return slow.ws.close_code

        reader = asyncio.create_task(read_slowly())
        tid = await create(alice)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        version = 1
        while version < 2000 and (version % 20 or await subscribed(server) == 2):
            update = UpdateTicket(rid=alice.rid(), ticket_id=tid, version=version, description="x" * 18_000)
            await alice.expect(update, Ack)
            version += 1
        assert await subscribed(server) == 1, "the slow reader was never dropped"
        # megabytes ahead of the close frame would take a minute at this pace; websockets gives up after 10 s
        async with asyncio.timeout(30):
            assert await reader == CloseCode.RESYNC


async def test_shutdown_closes_with_going_away(server: ServerHarness) -> None:
    """Stopping the server closes every connection with 1001."""
    async with wire(server.url, login=ALICE) as alice:
        stopping = asyncio.create_task(server.stop())
        code, _ = await alice.closed()
        await stopping
        assert code == CloseCode.GOING_AWAY


async def test_store_failure_closes_1011_without_changing_state(server: ServerHarness) -> None:
    """If the database write fails the request gets `internal`, the connection closes with 1011, state is kept."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        tid = await create(alice)
        alice.events.clear()
        await server.service.store.close()  # the disk is gone, as far as the server can tell
        reply = await alice.request(LockTicket(rid=alice.rid(), ticket_id=tid))
        assert isinstance(reply, Error)
        assert reply.code is ErrorCode.INTERNAL
        assert not alice.events  # no event for a change that did not happen
        code, _ = await alice.closed()
        assert code == CloseCode.INTERNAL_ERROR
        snapshot = await bob.expect(GetTickets(rid=bob.rid()), AllTickets)  # served from memory: no lock happened
        assert [t.lock for t in snapshot.tickets if t.id == tid] == [None]


async def test_big_snapshot_is_not_mistaken_for_a_laggard(server_factory: ServerFactory) -> None:
    """A reply the client asked for may exceed the backlog limit; events arriving meanwhile do not drop it."""
    server = await server_factory(
        backlog_bytes=64 * 1024, rate_per_s=10_000, rate_burst=10_000, create_rate_per_s=10_000, create_burst=10_000
    )
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB, max_size=None) as reader:
        for n in range(400):  # ~8 MB of snapshot: more than the loopback socket buffers hold
            await create(alice, f"t{n}", description="x" * 20_000)
            await reader.next_event()  # keep up, as a healthy client does
        reader.ws.transport.pause_reading()
        await reader.send(GetTickets(rid=reader.rid()))
        tid = await create(alice, "during the download")
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=tid), Ack)
        assert await subscribed(server) == 2, "the reader was dropped while fetching its snapshot"
        reader.ws.transport.resume_reading()
        snapshot = await reader.next_reply()
        assert isinstance(snapshot, AllTickets)
        assert len(snapshot.tickets) >= 400


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_wss_with_certfile(server_factory: ServerFactory, tls_files: tuple[Path, Path]) -> None:
    """With --certfile/--keyfile the server speaks wss:// and the protocol works over TLS."""
    cert, key = tls_files
    server = await server_factory(certfile=cert, keyfile=key)
    assert server.url.startswith("wss://")
    context = ssl.create_default_context(cafile=str(cert))
    async with wire(server.url, login=ALICE, ssl=context) as alice:
        await alice.expect(GetTickets(rid=alice.rid()), AllTickets)
