"""Ending sessions on open connections when they end outside a request.

A session ends when its time runs out, and when `lesbillets-server user passwd` or `user disable` deletes it
from another process. Neither sends this server anything, so it looks: every `check_s` (a quarter of a
second) one tiny query reads the database's session generation, a counter every session deletion bumps in the
same transaction; when it moved, one query asks which of the sessions this server cares about (those logged
in on its connections, and those holding locks) still exist. Keyed on the database, not on this process, so
several servers sharing one database each notice what any of them, or the CLI, did.

Each ended session goes through `Dispatcher.end_session`: its locks are released (`TicketUnlocked`, reason
`released`) and each of its connections is signed out and sent `SessionEnded`. The same loop deletes expired
session rows, when it starts and then every hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from lesbillets_server.auth import Session
from lesbillets_server.dispatch import Dispatcher
from lesbillets_server.errors import StoreUnavailable
from lesbillets_server.storage import Store
from protocol.clock import Clock
from protocol.messages import SessionEndReason

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(hours=1)


class SessionWatch:
    def __init__(self, store: Store, dispatcher: Dispatcher, clock: Clock) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._clock = clock
        self._generation: int | None = None
        """Read by `start`, before the server accepts connections: what ended before ended none of its own."""
        self._next_purge = clock()

    async def start(self) -> None:
        self._generation = await self._store.session_generation()

    async def check(self) -> None:
        """End what ended since the last check; purge expired rows when it is time."""
        now = self._clock()
        sessions = self._dispatcher.sessions()
        ended = {session_id: SessionEndReason.EXPIRED for session_id, s in sessions.items() if s.expires_at <= now}
        generation = await self._store.session_generation()
        if self._generation is not None and generation != self._generation:
            watched = sessions.keys() | self._dispatcher.service.board.sessions_holding_locks()
            for session_id in watched - await self._store.live_sessions(watched):
                ended.setdefault(session_id, await self._why(sessions.get(session_id)))
        for session_id, reason in ended.items():
            log.info("session %s ended (%s)", session_id, reason.value)
            await self._dispatcher.end_session(session_id, reason)
        self._generation = generation  # only now: if ending one failed, the next check looks again
        if now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY
            # a database that cannot be written now is reported by the store (and /healthz); next hour, again
            with contextlib.suppress(StoreUnavailable):
                purged = await self._store.purge_sessions(now)
                if purged:
                    log.info("deleted %d expired sessions", purged)

    async def _why(self, session: Session | None) -> SessionEndReason:
        if session is not None:
            record = await self._store.user_by_id(session.user.id)
            if record is None or record.disabled:
                return SessionEndReason.DISABLED
        return SessionEndReason.REVOKED

    async def run(self, interval_s: float) -> None:
        failing = False
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.check()
            except Exception:
                if not failing:  # once, not four times a second while the database stays broken
                    log.exception("checking for ended sessions failed; retrying every %g s", interval_s)
                failing = True
            else:
                if failing:
                    log.info("checking for ended sessions works again")
                failing = False
