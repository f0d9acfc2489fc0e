"""`InboxChanged` to the users an event gave an inbox item, on whichever replica they are connected to.

Each replica's follower applies every event, whoever committed it; this observer learns from the event and the
ticket before it (`inbox_rules.recipients`) which users may have got an item, keeps those connected here, and reads
their item and unread count from the store, the truth (the item was written in the event's transaction). The
reads run in one task, in seq order, off the follower's path: a slow database delays the notices, never the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable

from lesbillets_server.storage import Store
from lesbillets_server.storage.inbox_rules import recipients
from lesbillets_server.storage.records import LoggedEvent, Prior
from protocol.messages import InboxChanged, Ticket

log = logging.getLogger(__name__)

PENDING_MAX = 10_000
"""Events waiting for their notices; past that the oldest are dropped (their items stay in the inbox)."""


class InboxPush:
    def __init__(
        self,
        store: Store,
        connected: Callable[[uuid.UUID], bool],
        send: Callable[[uuid.UUID, InboxChanged], None],
    ) -> None:
        self._store = store
        self._connected = connected
        self._send = send
        self._pending: deque[tuple[int, list[uuid.UUID]]] = deque(maxlen=PENDING_MAX)
        self._task: asyncio.Task[None] | None = None

    def on_event(self, event: LoggedEvent, before: Ticket | None) -> None:
        """A follower observer: note who here may have a new item from this event."""
        users = [
            user for user in recipients(event, None if before is None else Prior.of(before)) if self._connected(user)
        ]
        if not users:
            return
        self._pending.append((event.seq, users))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _drain(self) -> None:
        while self._pending:
            seq, users = self._pending.popleft()
            for user in users:
                try:
                    item, unread = await self._store.inbox_item(user, seq)
                except Exception:  # the item stays in the inbox; the user sees it on their next GetInbox
                    log.warning("reading the inbox item of event %d failed; not pushed", seq, exc_info=True)
                    continue
                if item is not None:
                    self._send(user, InboxChanged(unread=unread, item=item))
