"""`make cluster`'s servers: three replicas on one PostgreSQL schema behind a real HAProxy, driven through it."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.cluster import Cluster, cluster_db, cluster_servers, haproxy_config, haproxy_path
from lesbillets_server.demo import DEMO_USERS
from lesbillets_tui.launch import LaunchError
from protocol.messages import (
    Ack,
    AllTickets,
    Error,
    ErrorCode,
    GetTickets,
    LockTicket,
    Resume,
    Ticket,
    TicketLocked,
    Welcome,
)
from tests.server.test_transport import tls_files  # noqa: F401  (a fixture: a self-signed certificate)
from tests.server.wire import Wire, wire
from tests.support import Agent

DEMO_ALICE, DEMO_BOB, DEMO_ADMIN = (Agent(email, password, name) for email, name, password, _role in DEMO_USERS)
NO_HAPROXY = "HAProxy is not installed (`apt-get install haproxy`, or run `make cluster` once): cluster test skipped"


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """The launcher's servers on a fresh schema, the balancer on a free port; all stopped at the end."""
    haproxy = haproxy_path()
    if haproxy is None:
        pytest.skip(NO_HAPROXY)
    with cluster_servers(pg_url, tmp_path, haproxy=haproxy, port=0) as running:
        yield running


async def sessions(cluster: Cluster) -> dict[str, int]:
    """Connections open to each replica, as HAProxy counts them (its stats page)."""
    return {name: count for name, (_state, count) in (await asyncio.to_thread(cluster.backends)).items()}


async def busy_replicas(cluster: Cluster) -> set[str]:
    return {name for name, count in (await sessions(cluster)).items() if count}


async def lock(peer: Wire, ticket: Ticket) -> None:
    await peer.expect(LockTicket(rid=peer.rid(), ticket_id=ticket.id), Ack)


async def locked(peer: Wire, ticket: Ticket, holder: Agent) -> int:
    """The next event is `holder` locking `ticket`; its seq."""
    event = await peer.next_event()
    assert isinstance(event, TicketLocked), event
    assert event.ticket_id == ticket.id and event.lock.user_name == holder.name
    return event.seq


async def test_agents_on_different_replicas_see_each_others_locks_and_survive_a_kill_9(cluster: Cluster) -> None:
    """Through HAProxy three agents land on the three replicas and see each other's locks live; SIGKILL Alice's
    replica: she reconnects through the balancer at once, resumes with the lock she missed, and it is marked DOWN."""
    async with wire(cluster.url) as alice:
        welcome = await alice.login(DEMO_ALICE)
        (alice_on,) = await busy_replicas(cluster)
        async with wire(cluster.url, login=DEMO_BOB) as bob, wire(cluster.url, login=DEMO_ADMIN):
            assert await sessions(cluster) == dict.fromkeys((r.name for r in cluster.replicas), 1)
            snapshot = await alice.expect(GetTickets(rid=alice.rid()), AllTickets)
            first, second, third = [t for t in snapshot.tickets if t.lock is None][:3]
            await lock(alice, first)
            await locked(bob, first, DEMO_ALICE)
            refused = await bob.request(LockTicket(rid=bob.rid(), ticket_id=first.id))
            assert isinstance(refused, Error) and refused.code is ErrorCode.LOCKED
            await lock(bob, second)
            await locked(alice, first, DEMO_ALICE)
            last_seq = await locked(alice, second, DEMO_BOB)

            next(r for r in cluster.replicas if r.name == alice_on).process.kill()
            await alice.closed()
            await lock(bob, third)  # while Alice is away: her resume must bring it
            # At once, as the app does: HAProxy's checks have not failed yet and leastconn picks the dead replica
            # (the only one without a connection); its redispatch to a live one is what lets Alice in.
            async with wire(cluster.url) as again:
                resume = Resume(rid=again.rid(), token=welcome.token, last_seq=last_seq, epoch=welcome.epoch)
                assert (await again.expect(resume, Welcome)).resumed
                await locked(again, third, DEMO_BOB)
                assert (await sessions(cluster))[alice_on] == 0
                await wait_down(cluster, alice_on)


async def wait_down(cluster: Cluster, name: str) -> None:
    """HAProxy's health checks mark the replica DOWN (polled: HAProxy has no way to tell us)."""
    deadline = time.monotonic() + 15
    while (await asyncio.to_thread(cluster.backends))[name][0] != "DOWN":
        assert time.monotonic() < deadline, f"HAProxy never marked {name} DOWN"
        await asyncio.sleep(0.1)


def test_the_generated_config_is_one_haproxy_accepts(tmp_path: Path) -> None:
    """The template filled with three replicas passes `haproxy -c`, with the stats page on localhost only."""
    haproxy = haproxy_path()
    if haproxy is None:
        pytest.skip(NO_HAPROXY)
    text = haproxy_config(8780, 8781, [("replica-1", 9001), ("replica-2", 9002), ("replica-3", 9003)])
    config = tmp_path / "haproxy.cfg"
    config.write_text(text)
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "[WARNING]" not in check.stderr, check.stderr
    assert "    bind 127.0.0.1:8781\n    stats enable" in text
    assert "server replica-3 127.0.0.1:9003" in text


def test_the_operator_readme_haproxy_config_is_one_haproxy_accepts(
    tmp_path: Path,
    tls_files: tuple[Path, Path],  # noqa: F811
) -> None:
    """deploy/README.md's config for real hosts, and its TLS-to-the-replicas server line, pass `haproxy -c`."""
    haproxy = haproxy_path()
    if haproxy is None:
        pytest.skip(NO_HAPROXY)
    cert, key = tls_files
    pem = tmp_path / "both.pem"
    pem.write_text(cert.read_text() + key.read_text())
    readme = (Path(__file__).parents[2] / "deploy" / "README.md").read_text()
    config, tls_server = re.findall(r"```haproxy\n(.*?)```", readme, re.S)
    config = re.sub(r"/etc/haproxy/\S+\.pem", str(pem), config).replace("/run/haproxy/", f"{tmp_path}/")
    tls_server = re.sub(r"/etc/haproxy/\S+\.pem", str(cert), tls_server)
    for text in (config, config.replace("    server r1 10.0.0.11:8765\n", tls_server)):
        (tmp_path / "haproxy.cfg").write_text(text)
        check = subprocess.run([haproxy, "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "[WARNING]" not in check.stderr, check.stderr


def test_unreachable_postgresql_is_a_sentence() -> None:
    """No PostgreSQL at LESBILLETS_PG: the launcher says where it looked and what to do, no traceback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(LaunchError) as caught:
            cluster_db(f"postgresql://postgres:secret@127.0.0.1:{closed_port}/test")
    message = str(caught.value)
    assert message.startswith(f"make cluster needs PostgreSQL at 127.0.0.1:{closed_port}/test (")
    assert message.endswith("start it or set LESBILLETS_PG.")
    assert "secret" not in message


def test_a_taken_balancer_port_is_a_sentence(tmp_path: Path) -> None:
    """Another program on the balancer's port: a sentence naming it and the way out, and nothing started."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        starting = cluster_servers("postgresql://unused", tmp_path, haproxy="haproxy", port=taken)
        with pytest.raises(LaunchError, match=rf"^Port {taken} is taken .*LESBILLETS_CLUSTER_PORT"):
            starting.__enter__()
    assert not list(tmp_path.glob("*.log"))
