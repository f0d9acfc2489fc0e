"""The honest client of the hostile section: what an agent feels while the server is under attack.

Three measurements, each a list of latencies plus the reasons for any failures:

- logins: a fresh connection, handshake, `Login` → `Welcome`, timed from the connect; each login is another
  seeded user from its own loopback address (127.0.1.x), as a helpdesk's agents are, so per-address and
  per-account login limits meant for attackers do not count the honest client's own logins;
- `GetUsers` on a logged-in connection (opened before the attack, as an agent already at work);
- a lock → update → unlock round on one ticket, on the same connection, timed as a whole.

A phase stops early once it has taken `budget_s`; what it did not get to is counted as failed ("over budget"),
since a phase that slow cannot be within twice the latency of the same without an attack anyway.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from bench import seed
from bench.clients import resume_frame
from bench.hostile_clients import Replies, failure, kind_of
from bench.stats import percentile
from bench.wsclient import open_raw
from protocol.codec import JSON, JSON_SUBPROTOCOL
from protocol.messages import Ack, GetUsers, LockTicket, Login, UnlockTicket, UpdateTicket

TIMEOUT_S: Final = 10.0
"""The most one login or request may take before it counts as failed."""
HONEST_TICKET: Final = 0
"""The seeded ticket the honest rounds lock (attackers never touch it)."""


@dataclass(slots=True)
class Latencies:
    ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    """How long the whole phase took."""

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def p(self, q: float) -> float:
        return percentile(self.ms, q)

    def summary(self) -> str:
        text = f"p50={self.p(50):7.1f} p95={self.p(95):7.1f} p99={self.p(99):7.1f} ms (n={len(self.ms)}"
        if self.failures:
            text += ", failed: " + ", ".join(f"{count} {why}" for why, count in self.failures.most_common())
        return text + ")"


@dataclass(frozen=True, slots=True)
class Honest:
    logins: Latencies
    get_users: Latencies
    rounds: Latencies


class HonestAgent:
    """One logged-in connection; reconnects (and resumes) when the server drops it."""

    def __init__(self, host: str, port: int, user: int) -> None:
        self.host = host
        self.port = port
        self.user = user
        self._client: Replies | None = None
        self._rid = 1

    def rid(self) -> int:
        self._rid += 1
        return self._rid

    async def client(self) -> Replies:
        if self._client is None or self._client.closed.done():
            client = await open_raw(Replies, self.host, self.port, JSON_SUBPROTOCOL, timeout_s=TIMEOUT_S)
            reply = await client.ask(resume_frame(self.user), TIMEOUT_S)
            if kind_of(reply) != "Welcome":
                client.abort()
                raise RuntimeError(f"the honest agent could not resume: {reply[:200]!r}")
            self._client = client
        return self._client

    async def ask(self, payload: bytes) -> bytes:
        return await (await self.client()).ask(payload, TIMEOUT_S)

    async def round(self) -> None:
        """Lock, update and unlock the honest ticket; any reply but `Ack` raises."""
        ticket_id = seed.ticket_id(HONEST_TICKET)
        locked = JSON.decode_server(await self.ask(JSON.encode(LockTicket(rid=self.rid(), ticket_id=ticket_id))))
        if not isinstance(locked, Ack) or locked.ticket is None:
            raise RuntimeError(f"lock: {locked!r}")
        update = UpdateTicket(rid=self.rid(), ticket_id=ticket_id, version=locked.ticket.version, title="Honest round")
        for payload in (JSON.encode(update), JSON.encode(UnlockTicket(rid=self.rid(), ticket_id=ticket_id))):
            reply = await self.ask(payload)
            if kind_of(reply) != "Ack":
                raise RuntimeError(kind_of(reply))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


async def _attempt(results: Latencies, attempt: Callable[[], Awaitable[object]]) -> None:
    """Run `attempt()` once, recording its latency or why it failed."""
    begin = time.perf_counter()
    try:
        await attempt()
    except RuntimeError as exc:  # a reply other than the one expected: its kind says why
        results.failures[str(exc)[:60]] += 1
    except Exception as exc:
        results.failures[failure(exc)] += 1
    else:
        results.ms.append((time.perf_counter() - begin) * 1000)


async def requests(agent: HonestAgent, *, get_users: int, rounds: int, budget_s: float) -> tuple[Latencies, Latencies]:
    """`get_users` GetUsers and `rounds` lock/update/unlock rounds, spread evenly among them, one at a time."""
    users, locks = Latencies(), Latencies()
    plan = sorted(
        [(i / get_users, users) for i in range(get_users)] + [((j + 0.5) / rounds, locks) for j in range(rounds)],
        key=lambda step: step[0],
    )
    started = time.perf_counter()
    for done, (_, results) in enumerate(plan):
        if time.perf_counter() - started > budget_s:
            for _, skipped in plan[done:]:
                skipped.failures["over budget"] += 1
            break
        if results is users:
            await _attempt(users, lambda: agent.ask(JSON.encode(GetUsers(rid=agent.rid()))))
        else:
            await _attempt(locks, agent.round)
    users.seconds = locks.seconds = time.perf_counter() - started
    return users, locks


async def login_once(host: str, port: int, user: int, source: str) -> None:
    client = await open_raw(Replies, host, port, JSON_SUBPROTOCOL, source=source, timeout_s=TIMEOUT_S)
    try:
        frame = JSON.encode(Login(rid=1, email=seed.email(user), password=seed.PASSWORD))
        kind = kind_of(await client.ask(frame, TIMEOUT_S))
        if kind != "Welcome":
            raise RuntimeError(kind)
    finally:
        client.close()


def login_source(number: int) -> str:
    """The loopback address honest login `number` comes from (127.0.1.1, 127.0.1.2, …)."""
    return f"127.0.{1 + number // 250}.{1 + number % 250}"


async def logins(host: str, port: int, users: range, *, budget_s: float) -> Latencies:
    """One login per user in `users`, one after another, each from its own address."""
    results = Latencies()
    started = time.perf_counter()
    for number, user in enumerate(users):
        if time.perf_counter() - started > budget_s:
            results.failures["over budget"] += len(users) - number
            break
        await _attempt(results, functools.partial(login_once, host, port, user, login_source(number)))
    results.seconds = time.perf_counter() - started
    return results
