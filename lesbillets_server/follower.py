"""The replica's read model follows the log: every event applied to the board and fanned out once, in seq order.

Two ways in, one rule. A change this replica commits is `offer`ed at once (no round trip: it is usually the next
seq). Changes other replicas commit are found by tailing the log (`events_after`) when the store wakes us
(PostgreSQL's NOTIFY, or its 5 s safety poll) or when an offered event shows a gap. Either way an event is applied
only when its seq is exactly one past the last applied, so nothing is applied twice or skipped. A request's reply
waits in `reached` until its event went out, so the originator sees its event before its reply, as documented.

The last `recent` events stay in memory, so a client resuming after a short disconnect replays from here without
touching the database.

Comment events go through the same order and fan-out but leave the board as it is. Observers (the inbox's pushes)
hear of each event right after it went out, with the ticket as it stood before it: exact, since the board moves
only here, one seq at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable

from lesbillets_server.board import Board
from lesbillets_server.storage import Store
from lesbillets_server.storage.records import LoggedEvent
from protocol.messages import Event, Ticket

log = logging.getLogger(__name__)

_PAGE = 1000

Observer = Callable[[LoggedEvent, Ticket | None], None]
"""Told of each applied event and the ticket as it was before it (None: the event created it)."""


class LogFollower:
    def __init__(
        self,
        store: Store,
        board: Board,
        publish: Callable[[Event], None],
        *,
        seq: int,
        recent: int = 10_000,
    ) -> None:
        self.store = store
        self.board = board
        self._publish = publish
        self.seq = seq
        """Every event up to this one has been applied and published."""
        self.head = seq
        """The highest seq this replica knows the log has reached (for the lag metric)."""
        self.recent: deque[LoggedEvent] = deque(maxlen=recent)
        self._advanced = asyncio.Event()
        self._tailing: asyncio.Task[None] | None = None
        self._again = False
        self._observers: list[Observer] = []

    def observe(self, observer: Observer) -> None:
        """Call `observer` after each event is applied and published (it must not block, nor raise)."""
        self._observers.append(observer)

    def offer(self, events: Iterable[LoggedEvent]) -> None:
        """Events this replica committed: apply what follows on; a gap means another replica's are in between."""
        for event in events:
            self.head = max(self.head, event.seq)
            if event.seq == self.seq + 1:
                self._apply(event)
            elif event.seq > self.seq + 1:
                self.poke()

    async def reached(self, seq: int) -> None:
        """Wait until the event `seq` has been applied and published here (callers bound the wait)."""
        while self.seq < seq:
            self.poke()
            self._advanced.clear()
            await self._advanced.wait()

    def poke(self) -> None:
        """The log may have grown: tail it (once at a time; a poke during a tail runs it again)."""
        if self._tailing is None or self._tailing.done():
            self._tailing = asyncio.get_running_loop().create_task(self._tail())
        else:
            self._again = True

    async def follow(self) -> None:
        """Tail the log whenever the store says it may have grown; runs until cancelled."""
        async for _ in self.store.wakeups():
            self.poke()

    def replay(self, after: int) -> list[LoggedEvent] | None:
        """The events after `after` from memory, or None when memory no longer holds them all."""
        if after >= self.seq:
            return []
        if not self.recent or self.recent[0].seq > after + 1:
            return None
        first = after + 1 - self.recent[0].seq
        return [self.recent[i] for i in range(first, len(self.recent))]

    async def _tail(self) -> None:
        while True:
            self._again = False
            try:
                events = await self.store.events_after(self.seq, _PAGE)
            except Exception:
                log.warning("reading the event log failed; retrying on the next wake-up", exc_info=True)
                return
            self.offer(events)
            if len(events) < _PAGE and not self._again:
                return

    def _apply(self, event: LoggedEvent) -> None:
        before = self.board.tickets.get(event.ticket_id)
        if event.ticket is not None:  # a comment leaves the board as it is
            self.board.apply(event.ticket, event.holder)
        self.seq = event.seq
        self.recent.append(event)
        self._publish(event.wire())
        for observer in self._observers:
            try:
                observer(event, before)
            except Exception:  # an observer's failure must not stop the log
                log.exception("an observer of event %d failed", event.seq)
        self._advanced.set()
