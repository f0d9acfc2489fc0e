"""Three real server processes on one PostgreSQL database; one is killed with SIGKILL under load."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator

from websockets.exceptions import ConnectionClosed

from protocol.messages import (
    Ack,
    AllTickets,
    CreateTicket,
    GetTickets,
    Resume,
    ServerEvent,
    Welcome,
)
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, add_test_users

_READY = re.compile(r"serving on (ws://\S+)")


class Replica:
    """`lesbillets-server serve` in its own process, its stderr kept in memory."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log: list[str] = []
        self.url = ""
        self._ready = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, db: str) -> Replica:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "lesbillets_server", "serve", "--db", db, "--port", "0", "--lock-grace", "60",
            "--create-rate", "100000", "--create-burst", "100000",  # a load test, not an agent
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        replica = cls(process)
        async with asyncio.timeout(30):
            await replica._ready.wait()
        return replica

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace")
            self.log.append(line)
            if (found := _READY.search(line)) and not self.url:
                self.url = found.group(1)
                self._ready.set()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        async with asyncio.timeout(15):
            await self.process.wait()
        self._reader.cancel()


@contextlib.asynccontextmanager
async def cluster(db: str, n: int) -> AsyncIterator[list[Replica]]:
    replicas = [await Replica.start(db) for _ in range(n)]
    try:
        yield replicas
    finally:
        for replica in replicas:
            replica.kill()
            await replica.stop()


class Reader:
    """An agent who keeps the table live: follows events, and on losing its replica resumes on the next one."""

    def __init__(self, urls: list[str], start: int) -> None:
        self.urls = urls
        self.turn = itertools.count(start)
        self.seqs: list[int] = []
        self.failovers = 0

    async def run(self, until: asyncio.Event, head: list[int]) -> None:
        token = epoch = ""
        while not (until.is_set() and self.seqs and self.seqs[-1] >= head[0]):
            url = self.urls[next(self.turn) % len(self.urls)]
            try:
                async with wire(url) as peer:
                    if not token:
                        welcome = await peer.login(ALICE)
                        snapshot = await peer.expect(GetTickets(rid=peer.rid()), AllTickets)
                        token, epoch = welcome.token, welcome.epoch
                        self.seqs.append(snapshot.seq)
                        # events that came between the Welcome and the snapshot are in it already
                        while peer.events and peer.events[0].seq <= snapshot.seq:
                            peer.events.popleft()
                    else:
                        resume = Resume(rid=peer.rid(), token=token, last_seq=self.seqs[-1], epoch=epoch)
                        assert (await peer.expect(resume, Welcome)).resumed
                    await self._follow(peer, until, head)
            except (ConnectionClosed, OSError):
                self.failovers += 1

    async def _follow(self, peer: Wire, until: asyncio.Event, head: list[int]) -> None:
        while not (until.is_set() and self.seqs[-1] >= head[0]):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    event: ServerEvent = await peer.next_event()  # type: ignore[assignment]
                    self.seqs.append(event.seq)


class Acked:
    """The tickets whose creation was acknowledged; waiters wake as it grows."""

    def __init__(self) -> None:
        self.ids: set[uuid.UUID] = set()
        self._grew = asyncio.Event()

    def add(self, ticket_id: uuid.UUID) -> None:
        self.ids.add(ticket_id)
        self._grew.set()

    def __len__(self) -> int:
        return len(self.ids)

    async def reach(self, count: int) -> None:
        while len(self.ids) < count:
            self._grew.clear()
            await self._grew.wait()


async def write(urls: list[str], start: int, until: asyncio.Event, acked: Acked, head: list[int]) -> None:
    """An agent creating tickets as fast as replies come, moving to the next replica when one dies."""
    for turn in itertools.count(start):
        if until.is_set():
            return
        try:
            async with wire(urls[turn % len(urls)], login=BOB) as peer:
                while not until.is_set():
                    reply = await peer.expect(CreateTicket(rid=peer.rid(), title=f"load {len(acked)}"), Ack)
                    assert reply.ticket is not None
                    acked.add(reply.ticket.id)
                    while peer.events:
                        head[0] = max(head[0], peer.events.popleft().seq)
        except (ConnectionClosed, OSError):
            continue


async def test_kill_9_one_of_three_replicas_under_load(pg_url: str) -> None:
    """Under load one replica is SIGKILLed: readers fail over and resume with zero missed, zero duplicated
    events; no acknowledged write is lost, not even after the whole cluster is killed and started again."""
    await add_test_users(pg_url)
    acked = Acked()
    head = [0]
    async with cluster(pg_url, 3) as replicas:
        urls = [r.url for r in replicas]
        until, done = asyncio.Event(), asyncio.Event()
        readers = [Reader(urls, start=i) for i in range(3)]
        reading = [asyncio.create_task(r.run(done, head)) for r in readers]
        writing = [asyncio.create_task(write(urls, i, until, acked, head)) for i in range(3)]
        async with asyncio.timeout(60):
            await acked.reach(150)
            replicas[0].kill()
            await acked.reach(400)
            until.set()
            await asyncio.gather(*writing)
            done.set()  # the readers now stop once they have seen the last acknowledged write's event
            await asyncio.gather(*reading)
        for reader in readers:
            first = reader.seqs[0]
            assert reader.seqs == list(range(first, first + len(reader.seqs))), "a missed or repeated event"
            assert reader.seqs[-1] >= head[0]
        assert readers[0].failovers >= 1, "the reader on the killed replica never failed over"
        for replica in replicas:
            replica.kill()
    async with cluster(pg_url, 1) as [restarted], wire(restarted.url, login=ALICE) as peer:
        snapshot = await peer.expect(GetTickets(rid=peer.rid()), AllTickets)
        assert acked.ids <= {t.id for t in snapshot.tickets}
        assert snapshot.seq >= head[0]
