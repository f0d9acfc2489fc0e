"""Presence between replicas over PostgreSQL's LISTEN/NOTIFY: no table, no new service.

Every replica LISTENs on its schema's presence channel and NOTIFYs its announcements there (JSON, split to fit
PostgreSQL's 8000-byte payload limit). Notifications are not written to any table or to the WAL's history: when
nobody listens they are gone, which is what presence wants. A replica that loses its listening connection
reconnects and asks the others to announce everything again; one that cannot send drops what it queued (its next
refresh says it all again). Two dedicated connections per replica: psycopg's `notifies()` holds its connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import msgspec
import psycopg
from psycopg import sql

from lesbillets_server.presence import Announcement, Seen

log = logging.getLogger(__name__)

PAYLOAD_MAX = 7500
"""Bytes of one NOTIFY payload (PostgreSQL refuses 8000 and more)."""
QUEUED_MAX = 10_000
"""Payloads waiting to be sent; past it the oldest go (the next refresh repeats what mattered)."""
RETRY_S = 1.0

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Announcement)


def announcement_from(payload: str | bytes) -> Announcement:
    """A payload `payloads` made, read back (`msgspec.DecodeError` if it is not one)."""
    return _decoder.decode(payload)


def payloads(announcement: Announcement, limit: int = PAYLOAD_MAX) -> list[str]:
    """The announcement as NOTIFY payloads of at most `limit` bytes each, entries in order."""
    whole = _encoder.encode(announcement)
    if len(whole) <= limit:
        return [whole.decode()]
    empty = replace(announcement, seen=[], gone=[])
    base = len(_encoder.encode(empty))
    parts: list[Announcement] = []
    part = empty
    size = base
    entries: list[Seen | tuple[uuid.UUID, uuid.UUID]] = [*announcement.seen, *announcement.gone]
    for entry in entries:
        cost = len(_encoder.encode(entry)) + 1
        if size + cost > limit and (part.seen or part.gone):
            parts.append(part)
            part, size = replace(empty, seen=[], gone=[]), base
        if isinstance(entry, Seen):
            part.seen.append(entry)
        else:
            part.gone.append(entry)
        size += cost
    parts.append(part)
    return [_encoder.encode(p).decode() for p in parts]


class PgPresenceBus:
    def __init__(self, url: str) -> None:
        self._url = url
        self._queue: deque[str] = deque(maxlen=QUEUED_MAX)
        self._wake = asyncio.Event()
        self._replica = ""

    def send(self, announcement: Announcement) -> None:
        self._queue.extend(payloads(announcement))
        self._wake.set()

    async def run(self, received: Callable[[Announcement], None], replica: str) -> None:
        self._replica = replica
        await asyncio.gather(self._listen(received), self._send())

    async def close(self, farewell: Announcement) -> None:
        self._queue.clear()
        with contextlib.suppress(psycopg.Error, OSError, TimeoutError):
            async with asyncio.timeout(2):
                async with await self._connect() as conn:
                    await _notify(conn, await _channel(conn), payloads(farewell))

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self._url, autocommit=True, connect_timeout=10)

    async def _listen(self, received: Callable[[Announcement], None]) -> None:
        failing = False
        while True:
            try:
                async with await self._connect() as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(await _channel(conn))))
                    if failing:
                        log.info("presence: listening to the other replicas again")
                    failing = False
                    # whatever was said while we were not listening: ask for all of it again
                    self.send(Announcement(self._replica, ask=True))
                    async for notify in conn.notifies():
                        try:
                            announcement = announcement_from(notify.payload)
                        except msgspec.DecodeError:
                            log.debug("presence: ignored an unreadable notification %.200r", notify.payload)
                            continue
                        received(announcement)
            except (psycopg.Error, OSError) as exc:
                if not failing:
                    log.warning("presence: lost the other replicas (%s); retrying every %g s", exc, RETRY_S)
                failing = True
            await asyncio.sleep(RETRY_S)

    async def _send(self) -> None:
        conn: psycopg.AsyncConnection[Any] | None = None
        channel = ""
        failing = False
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    try:
                        if conn is None or conn.closed:
                            conn = await self._connect()
                            channel = await _channel(conn)
                        await _notify(conn, channel, [self._queue[0]])
                    except (psycopg.Error, OSError) as exc:
                        if not failing:
                            log.warning("presence: cannot announce to the other replicas (%s)", exc)
                        failing = True
                        self._queue.clear()  # the refresh says it all again once the database is back
                        if conn is not None:
                            await conn.close()
                        conn = None
                        await asyncio.sleep(RETRY_S)
                        break
                    self._queue.popleft()
                    failing = False
        finally:
            if conn is not None:
                await conn.close()


async def _channel(conn: psycopg.AsyncConnection[Any]) -> str:
    """One channel per schema, like the event log's: replicas of one helpdesk, and only they, hear each other."""
    row = await (await conn.execute("SELECT current_schema()")).fetchone()
    assert row is not None
    return f"lesbillets_presence_{row[0]}"[:63]


async def _notify(conn: psycopg.AsyncConnection[Any], channel: str, texts: list[str]) -> None:
    for text in texts:
        await conn.execute("SELECT pg_notify(%s, %s)", (channel, text))
