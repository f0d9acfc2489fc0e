"""Login floods against a real server: guesses are counted before they are checked, per address and per account,
the owner of a hammered account still gets in, and the password-check queue refuses what it cannot hold."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

from websockets.exceptions import ConnectionClosed

from lesbillets_server.checkpool import BUSY
from protocol.messages import CloseCode, Error, ErrorCode, Login, Reply, Welcome
from tests.conftest import ServerFactory
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, ManualClock


def outcome(reply: Reply) -> str:
    """`welcome`, or the error code: both `welcome` and `unauthorized` mean a password was checked."""
    if isinstance(reply, Welcome):
        return "welcome"
    assert isinstance(reply, Error), reply
    return reply.code.value


async def login_from(url: str, address: str, email: str, password: str) -> Reply:
    async with wire(url, local_addr=(address, 0)) as peer:
        return await peer.request(Login(rid=1, email=email, password=password))


async def all_at_once(peers: list[Wire], logins: list[Login]) -> Counter[str]:
    """Send one Login on each connection without waiting, then collect every reply."""
    for peer, login in zip(peers, logins, strict=True):
        await peer.send(login)
    replies = await asyncio.gather(*(peer.next_reply() for peer in peers))
    return Counter(outcome(reply) for reply in replies)


@contextlib.asynccontextmanager
async def connections(url: str, count: int) -> AsyncIterator[list[Wire]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(wire(url)) for _ in range(count)]


async def test_parallel_guesses_are_counted_before_the_check(server_factory: ServerFactory) -> None:
    """50 simultaneous logins for one account (49 wrong, 1 right) cost at most the address limit in checks."""
    # a stopped clock: on a loaded machine the 50 logins can span long enough for the limit to refill
    server = await server_factory(login_address_limit=10, login_queue=100, clock=ManualClock())
    logins = [Login(rid=1, email=BOB.email, password=f"guess {n}") for n in range(49)]
    logins.insert(25, Login(rid=1, email=BOB.email, password=BOB.password))
    async with connections(server.url, len(logins)) as peers:
        seen = await all_at_once(peers, logins)
    checked = seen["unauthorized"] + seen["welcome"]
    assert 1 <= checked <= 10, seen
    assert seen["rate_limited"] == len(logins) - checked, seen


async def test_address_limit_spans_emails(server_factory: ServerFactory) -> None:
    """One address trying many different emails is refused past its limit, with a sentence saying why."""
    server = await server_factory(login_address_limit=4)
    async with wire(server.url) as peer:
        replies = [
            await peer.request(Login(rid=n, email=f"nobody{n}@example.com", password="guess")) for n in range(1, 7)
        ]
        refused = replies[-1]
        assert [outcome(reply) for reply in replies] == ["unauthorized"] * 4 + ["rate_limited"] * 2
        assert isinstance(refused, Error)
        assert refused.message.startswith("Too many failed logins from your network address; try again in ")


async def test_owner_still_gets_in_while_others_hammer_the_account(server_factory: ServerFactory) -> None:
    """Guesses from several addresses exhaust Bob's account limit; a new address is refused, Bob's usual one is not."""
    server = await server_factory(login_address_limit=3, login_account_limit=5)
    assert outcome(await login_from(server.url, "127.0.0.2", BOB.email, BOB.password)) == "welcome"
    seen = Counter(
        [
            outcome(await login_from(server.url, attacker, BOB.email, "guess"))
            for attacker in ("127.0.0.1", "127.0.0.3", "127.0.0.4")
            for _ in range(3)
        ]
    )
    assert seen == {"unauthorized": 5, "rate_limited": 4}
    newcomer = await login_from(server.url, "127.0.0.5", BOB.email, BOB.password)
    assert isinstance(newcomer, Error)
    assert newcomer.code is ErrorCode.RATE_LIMITED
    assert newcomer.message.startswith("Too many failed logins for this account; try again in ")
    assert outcome(await login_from(server.url, "127.0.0.2", BOB.email, BOB.password)) == "welcome"


async def test_a_failed_login_flood_does_not_lock_out_other_accounts_elsewhere(server_factory: ServerFactory) -> None:
    """An address that used up its allowance is refused for every email; another address logs in to any of them."""
    server = await server_factory(login_address_limit=2)
    for n in range(3):
        await login_from(server.url, "127.0.0.3", f"nobody{n}@example.com", "guess")
    assert outcome(await login_from(server.url, "127.0.0.3", ALICE.email, ALICE.password)) == "rate_limited"
    assert outcome(await login_from(server.url, "127.0.0.4", ALICE.email, ALICE.password)) == "welcome"


async def test_login_flood_past_the_queue_is_refused_at_once(server_factory: ServerFactory) -> None:
    """With one check thread and no queue, a burst of logins gets `rate_limited` (busy) beyond the one running."""
    server = await server_factory(login_workers=1, login_queue=0, login_address_limit=1000)
    logins = [Login(rid=1, email=f"flood{n}@example.com", password="guess") for n in range(32)]
    async with connections(server.url, len(logins)) as peers:
        for peer, login in zip(peers, logins, strict=True):
            await peer.send(login)
        replies = await asyncio.gather(*(peer.next_reply() for peer in peers))
    busy = [r for r in replies if isinstance(r, Error) and r.code is ErrorCode.RATE_LIMITED]
    assert busy, "every login of the burst was checked"
    assert all(r.message == BUSY for r in busy)
    assert all(outcome(r) in {"unauthorized", "rate_limited"} for r in replies)
    async with wire(server.url) as honest:  # once the burst is over, logins go through again
        await honest.login(ALICE)


async def test_a_connection_flooding_refused_logins_is_read_slowly(server_factory: ServerFactory) -> None:
    """After each refused Login the connection waits `login_backoff_s` before its next frame is read: of ten
    wrong logins sent at once, only the first few are answered before the login deadline closes it (4001)."""
    server = await server_factory(login_backoff_s=1.0, login_timeout_s=2.0)
    async with wire(server.url) as peer:
        for _ in range(10):
            await peer.send(Login(rid=peer.rid(), email=BOB.email, password="guess"))
        answered = 0
        with contextlib.suppress(ConnectionClosed):
            while True:
                reply = await peer.next_reply()
                assert isinstance(reply, Error) and reply.code is ErrorCode.UNAUTHORIZED
                answered += 1
        assert peer.ws.close_code == CloseCode.LOGIN_TIMEOUT
        assert 1 <= answered <= 3
