"""An asyncio client for Les Billets, for scripts and for the terminal app.

    async with connect("ws://127.0.0.1:8765") as client:
        await client.login("alice@example.com", "secret")
        snapshot = await client.get_tickets()
        async for event in client.events():
            ...

Each method returns the typed reply or raises the `ServerError` subclass of the
server's error code (see `protocol.errors`). Every `AllTickets` reply, whoever
asked for it, is also yielded by `Client.events` at its place in the stream, so
what `events()` yields is always consistent: a snapshot, then the events after it.
The connection itself (reader, reconnect, resume) lives in `protocol.connection`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Literal
from uuid import UUID

from protocol.codec import JSON, MSGPACK, Codec
from protocol.connection import ClientEvent, Connection, ConnectionChanged, ConnectionState
from protocol.errors import LesBilletsError, ProtocolViolation
from protocol.messages import (
    UNSET,
    Ack,
    AllTickets,
    CreateTicket,
    GetHistory,
    GetTickets,
    GetUsers,
    History,
    HistoryEntry,
    LockTicket,
    Login,
    Logout,
    Priority,
    RenewLock,
    Request,
    Resume,
    Status,
    Ticket,
    UnlockTicket,
    UnsetType,
    UpdateTicket,
    User,
    Users,
    Welcome,
)
from protocol.session import EventAction, SeqTracker

log = logging.getLogger(__name__)

__all__ = ["Client", "ClientEvent", "ConnectionChanged", "ConnectionState", "connect"]


@asynccontextmanager
async def connect(
    url: str | Sequence[str],
    *,
    encoding: Literal["json", "msgpack"] = "json",
    reconnect: bool = True,
    request_timeout: float = 10.0,
    open_timeout: float = 10.0,
) -> AsyncIterator[Client]:
    """Open a connection (raising `NotConnected` with a sentence if it cannot) and close it on exit.

    ``url`` may name several servers of one helpdesk (replicas, or balancers), as a list or separated by commas:
    the first that answers is used, and a lost connection fails over to the next. With ``reconnect``, a dropped
    connection is reopened with backoff and the session resumed from the last event received (the server replays
    what was missed); without, the client becomes CLOSED. A request waits for a reconnect up to ``request_timeout``.
    """
    client = Client(
        [part.strip() for part in url.split(",") if part.strip()] if isinstance(url, str) else list(url),
        codec=MSGPACK if encoding == "msgpack" else JSON,
        reconnect=reconnect,
        request_timeout=request_timeout,
        open_timeout=open_timeout,
    )
    await client._start()
    try:
        yield client
    finally:
        await client.close()


class Client(Connection):
    """One logical connection to a server; build it with `connect`.

    ``user``, ``token`` and ``lock_ttl_s`` come from the last `Welcome` (None when logged out);
    ``state`` is the `ConnectionState`; ``last_seq`` is where `events()` stands. ``event_buffer``
    bounds the items waiting in `events()`: past it, unread events are dropped, and a reader
    that catches up gets a fresh snapshot instead (so a script that never reads events stays small).
    """

    def __init__(
        self, urls: Sequence[str], *, codec: Codec, reconnect: bool, request_timeout: float, open_timeout: float
    ) -> None:
        super().__init__(
            urls, codec=codec, reconnect=reconnect, request_timeout=request_timeout, open_timeout=open_timeout
        )
        self._seq = SeqTracker()  # owned by the one events() consumer
        self._resyncing = False  # a snapshot is on its way: drop events until it comes

    @property
    def last_seq(self) -> int | None:
        """The last event reflected in what `events()` has yielded (None before any)."""
        return self._seq.last_seq

    # --- requests ---------------------------------------------------------------------

    async def login(self, email: str, password: str) -> Welcome:
        welcome = await self._request(Login(rid=self._rids.next(), email=email, password=password), Welcome)
        self._welcome(welcome)
        return welcome

    async def resume(self, token: str) -> Welcome:
        welcome = await self._request(Resume(rid=self._rids.next(), token=token), Welcome)
        self._welcome(welcome)
        return welcome

    async def logout(self) -> None:
        await self._request(Logout(rid=self._rids.next()), Ack)
        self.user = self.token = self.lock_ttl_s = None
        self._snapshot_fetched = False

    async def get_tickets(self) -> AllTickets:
        """The whole table and the ``seq`` it reflects; `events()` yields it too, in stream order."""
        return await self._request(GetTickets(rid=self._rids.next()), AllTickets)

    async def get_users(self) -> list[User]:
        return (await self._request(GetUsers(rid=self._rids.next()), Users)).users

    async def get_history(self, ticket_id: uuid.UUID) -> list[HistoryEntry]:
        """The ticket's changes from the server's event log, oldest first (renewals left out)."""
        return (await self._request(GetHistory(rid=self._rids.next(), ticket_id=ticket_id), History)).entries

    async def create_ticket(
        self,
        title: str,
        description: str = "",
        *,
        status: Status = Status.OPEN,
        priority: Priority = Priority.NORMAL,
        assignee: UUID | None = None,
    ) -> Ticket:
        rid = self._rids.next()
        return await self._ticket(
            CreateTicket(
                rid=rid, title=title, description=description, status=status, priority=priority, assignee=assignee
            )
        )

    async def lock(self, ticket_id: UUID) -> Ticket:
        """Take the lock (a lease of ``lock_ttl_s``; renew it with `renew_lock`)."""
        return await self._ticket(LockTicket(rid=self._rids.next(), ticket_id=ticket_id))

    async def renew_lock(self, ticket_id: UUID) -> Ticket:
        return await self._ticket(RenewLock(rid=self._rids.next(), ticket_id=ticket_id))

    async def update_ticket(
        self,
        ticket_id: UUID,
        version: int,
        *,
        title: str | UnsetType = UNSET,
        description: str | UnsetType = UNSET,
        status: Status | UnsetType = UNSET,
        priority: Priority | UnsetType = UNSET,
        assignee: UUID | UnsetType | None = UNSET,
    ) -> Ticket:
        """Change the given fields of a ticket this session has locked; ``assignee=None`` unassigns."""
        rid = self._rids.next()
        return await self._ticket(
            UpdateTicket(
                rid=rid,
                ticket_id=ticket_id,
                version=version,
                title=title,
                description=description,
                status=status,
                priority=priority,
                assignee=assignee,
            )
        )

    async def unlock(self, ticket_id: UUID, *, force: bool = False) -> None:
        """Release the lock; ``force`` (admins only) breaks someone else's."""
        await self._request(UnlockTicket(rid=self._rids.next(), ticket_id=ticket_id, force=force), Ack)

    async def _ticket(self, message: Request) -> Ticket:
        ack = await self._request(message, Ack)
        if ack.ticket is None:
            raise ProtocolViolation(f"The server's answer to {type(message).__name__} lacks the ticket.")
        return ack.ticket

    # --- the event stream ---------------------------------------------------------------

    async def events(self) -> AsyncIterator[ClientEvent]:
        """Events, snapshots and connection changes, in order; ends after ``ConnectionChanged(CLOSED)``.

        Read it from ONE task only: it owns the ``seq`` bookkeeping. Before any snapshot, events
        come as they arrive. Every `AllTickets` reply (also the one `get_tickets` returned to its
        caller) is yielded at its place, and the unread events before it are skipped: it reflects
        them. Once a snapshot was fetched, an already-reflected event is skipped and a gap yields a
        fresh `AllTickets` instead. After a reconnect it yields ``RECONNECTING``,
        then (if a snapshot had been fetched) a fresh `AllTickets`, then ``CONNECTED``. Nothing
        is yielded for the first connection: `connect` returns only once it is up.
        """
        while not (self.state is ConnectionState.CLOSED and self._events.empty()):
            item = await self._events.get()
            if isinstance(item, ConnectionChanged):
                yield item
                if item.state is ConnectionState.CLOSED:
                    return
            elif isinstance(item, AllTickets):
                self._seq.snapshot(item.seq)
                self._resyncing = False
                yield item
            elif not self._resyncing:
                action = self._seq.check(item.seq)
                if action is EventAction.DELIVER:
                    yield item
                elif action is EventAction.RESYNC:
                    log.info("missed events before seq %d; fetching a fresh snapshot", item.seq)
                    self._resyncing = await self._resync()

    async def _resync(self) -> bool:
        """Ask for a snapshot; whether one is now on its way into the queue."""
        if self.state is not ConnectionState.CONNECTED:
            return self.state is ConnectionState.RECONNECTING and self._snapshot_fetched  # the reconnect fetches one
        try:
            await self.get_tickets()
        except LesBilletsError as exc:
            log.warning("could not resynchronise: %s", exc)
            return False
        return True
