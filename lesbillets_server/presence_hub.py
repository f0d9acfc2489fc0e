"""Presence on a running server: the `PresenceBoard`'s rules with a clock, the notices sent, and the bus.

Changes are coalesced, not rate limited: a `SetPresence` only marks its tickets, and `coalesce_s` later one flush
sends a `PresenceChanged` per ticket whose viewers really differ from what was last sent, and one announcement to
the other replicas. A connection flooding `SetPresence` (within its request rate limit) therefore moves at most two
tickets' viewer lists per flush, whatever it sends, and every request still gets its `Ack`.

With a bus (PostgreSQL), `run` also listens to the other replicas, refreshes this replica's whole presence every
`refresh_s` and expires what others stopped refreshing; `stop` says goodbye so the others drop it at once. On
SQLite there is one server and no bus: presence lives in this process's memory only.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Hashable
from typing import Protocol

from lesbillets_server.presence import REFRESH_S, Announcement, PresenceBoard, Seen
from protocol.messages import PresenceChanged, TicketPresence, User

COALESCE_S = 0.1
EXPIRE_EVERY_S = 0.25


class PresenceBus(Protocol):
    """How replicas hear each other's presence."""

    async def run(self, received: Callable[[Announcement], None], replica: str) -> None:
        """Listen (calling `received` for each announcement) and send what `send` queued; until cancelled."""
        ...

    def send(self, announcement: Announcement) -> None:
        """Queue an announcement; never waits."""
        ...

    async def close(self, farewell: Announcement) -> None:
        """Send `farewell` if the database can be reached soon, and let go of the connections."""
        ...


class PresenceHub:
    def __init__(
        self,
        publish: Callable[[PresenceChanged], None],
        *,
        replica: str,
        bus: PresenceBus | None = None,
        board: PresenceBoard | None = None,
        coalesce_s: float = COALESCE_S,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.board = PresenceBoard() if board is None else board
        self.replica = replica
        self._publish = publish
        self._bus = bus
        self._coalesce_s = coalesce_s
        self._refresh_s = refresh_s
        self._clock = clock
        self._flush_at: asyncio.TimerHandle | None = None
        self._full = False
        """The next announcement carries everything (a refresh, or another replica asked)."""

    # --- from the connections -------------------------------------------------------------------

    def open(self, connection: Hashable, ticket_id: uuid.UUID | None, user: User, *, editing: bool) -> None:
        """What the connection has open now; the name is the session's user's, never the client's word."""
        seen = None if ticket_id is None else Seen(ticket_id, user.id, user.name, editing)
        if self.board.put(connection, seen):
            self._soon()

    def close(self, connection: Hashable) -> None:
        """The connection closed its view, logged out, or is gone."""
        if self.board.clear(connection):
            self._soon()

    def tickets(self) -> list[TicketPresence]:
        return self.board.tickets()

    # --- from the other replicas ------------------------------------------------------------------

    def received(self, announcement: Announcement) -> None:
        if announcement.replica == self.replica:
            return  # our own, back from the channel
        if announcement.bye:
            changed = self.board.forget(announcement.replica)
        else:
            changed = self.board.merge(announcement.replica, announcement.seen, announcement.gone, self._clock())
        if announcement.ask:
            self._full = True
        if changed or announcement.ask:
            self._soon()

    # --- out ----------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Send the coalesced notices, and announce this replica's changes to the others."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        for notice in self.board.changes():
            self._publish(notice)
        if self._bus is not None:
            seen, gone = self.board.announcement(full=self._full)
            self._full = False
            if seen or gone:
                self._bus.send(Announcement(self.replica, seen, gone))

    def _soon(self) -> None:
        if self._flush_at is None:
            self._flush_at = asyncio.get_running_loop().call_later(self._coalesce_s, self.flush)

    # --- upkeep -------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Listen to the other replicas, refresh ours, expire theirs; until cancelled (at once without a bus)."""
        if self._bus is None:
            return
        listening = asyncio.create_task(self._bus.run(self.received, self.replica))
        try:
            next_refresh = self._clock() + self._refresh_s
            while True:
                await asyncio.sleep(EXPIRE_EVERY_S)
                now = self._clock()
                if self.board.expire(now):
                    self._soon()
                if now >= next_refresh:
                    next_refresh = now + self._refresh_s
                    self._full = True
                    self.flush()
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)

    async def stop(self) -> None:
        """Shutting down: nothing more goes out; the other replicas forget this one at once."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        if self._bus is not None:
            await self._bus.close(Announcement(self.replica, bye=True))
