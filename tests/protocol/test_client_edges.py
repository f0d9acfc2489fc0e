"""Rough edges of the client found in the trial: addresses it cannot use, and scripts that never read events."""

from __future__ import annotations

import asyncio
import logging

import pytest

from protocol.client import connect
from protocol.connection import ConnectionState
from protocol.errors import NotConnected
from protocol.messages import AllTickets, TicketCreated
from tests.protocol.test_client import free_port, login, next_of
from tests.support import ALICE, BOB, ServerHarness

BAD_URLS = {
    "port out of range": ("ws://127.0.0.1:99999", "port must be a number from 1 to 65535"),
    "negative port": ("ws://127.0.0.1:-1", "port must be a number from 1 to 65535"),
    "port not a number": ("ws://127.0.0.1:http", "port must be a number from 1 to 65535"),
    "port zero": ("ws://127.0.0.1:0", "port must be a number from 1 to 65535"),
    "no host": ("ws://", "names no server"),
    "a port but no host": ("ws://:8765", "names no server"),
    "http": ("http://127.0.0.1:8765", "not a ws:// or wss:// address"),
    "no scheme": ("127.0.0.1:8765", "not a ws:// or wss:// address"),
    "garbage": ("!!! not an address", "not a ws:// or wss:// address"),
    "a broken IPv6 host": ("ws://[::1:8765", "not a usable ws:// or wss:// address"),
    "a user without password": ("ws://alice@127.0.0.1:8765", "not a usable ws:// or wss:// address"),
    "nothing": ("", "No server address was given"),
    "only commas": (" , ", "No server address was given"),
}


@pytest.mark.parametrize(("url", "why"), BAD_URLS.values(), ids=BAD_URLS.keys())
async def test_an_address_the_client_cannot_use_fails_at_once_with_a_sentence(url: str, why: str) -> None:
    """connect() raises NotConnected at once, with a sentence naming the address and why; nothing else escapes."""
    with pytest.raises(NotConnected) as caught:
        async with asyncio.timeout(1), connect(url):
            pass
    message = str(caught.value)
    assert why in message and message.endswith(".")
    assert url.strip(" ,") in message


async def test_a_bad_address_among_good_ones_is_skipped(server: ServerHarness) -> None:
    """Given a bad address before a good one, the client names neither problem and uses the good one."""
    async with asyncio.timeout(5), connect(f"ws://127.0.0.1:99999,{server.url}") as client:
        assert client.url == server.url and client.state is ConnectionState.CONNECTED


async def test_every_address_failing_names_each_one(server: ServerHarness) -> None:
    """When no address works, the sentence says what went wrong with each."""
    nobody = f"ws://127.0.0.1:{free_port()}"
    with pytest.raises(NotConnected) as caught:
        async with asyncio.timeout(5), connect(f"http://{server.url[5:]},{nobody}"):
            pass
    assert "not a ws:// or wss:// address" in str(caught.value) and "nothing is listening" in str(caught.value)


async def test_a_script_that_never_reads_events_is_not_told_it_dropped_any(
    server: ServerHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Creating many tickets without ever calling events() logs no 'dropped' warning and keeps no events."""
    caplog.set_level(logging.INFO, logger="protocol")
    async with connect(server.url) as script:
        script.event_buffer = 3
        await login(script, ALICE)
        for n in range(12):
            await script.create_ticket(f"Imported {n}")
        assert script._events.qsize() == 0  # bounded: nothing kept for a reader who never came
    assert not [r for r in caplog.records if "dropped" in r.getMessage()]


async def test_a_reader_that_falls_behind_is_told_and_resyncs(
    server: ServerHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that asked for events() and does not keep up is told it dropped some, and gets a fresh snapshot."""
    caplog.set_level(logging.INFO, logger="protocol")
    async with connect(server.url) as alice, connect(server.url) as bob:
        await login(alice, ALICE)
        await login(bob, BOB)
        bob.event_buffer = 2
        stream = bob.events()
        await bob.get_tickets()
        snapshot = await next_of(stream, AllTickets)
        titles = [f"Burst {n}" for n in range(4)]
        for title in titles:  # Bob does not read meanwhile
            await alice.create_ticket(title)
        await bob.get_users()  # its reply comes after the events: they have all arrived
        assert [r for r in caplog.records if "dropped" in r.getMessage()]

        fresh = await next_of(stream, AllTickets)  # the gap after the drop asks for a fresh snapshot
        assert fresh.seq == snapshot.seq + len(titles)
        assert set(titles) <= {t.title for t in fresh.tickets}
        assert bob.last_seq == fresh.seq


async def test_events_are_kept_from_the_call_not_from_the_first_read(server: ServerHarness) -> None:
    """events() called before a change yields it even when read afterwards; before the call nothing was kept."""
    async with connect(server.url) as alice, connect(server.url) as bob:
        await login(alice, ALICE)
        await login(bob, BOB)
        await alice.create_ticket("Before Bob asked")
        await bob.get_users()  # the event above has reached Bob's client by now
        stream = bob.events()
        after = await alice.create_ticket("After Bob asked")
        created = await next_of(stream, TicketCreated)
        assert created.ticket == after
