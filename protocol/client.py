"""An asyncio client for Les Billets, for scripts and for the terminal app.

    async with connect("ws://127.0.0.1:8765") as client:
        await client.login("alice@example.com", "secret")
        first_page = await client.get_rows(first=100)
        async for item in client.events():
            ...  # the Rows pages (see protocol.rows), then the events after them

Each method returns the typed reply or raises the `ServerError` subclass of the
server's error code (see `protocol.errors`). Every `AllTickets` reply and every
`Rows` page, whoever asked for it, is also yielded by `Client.events` at its place
in the stream, so what `events()` yields is always consistent: a snapshot, then
the events after it.
The connection itself (reader, reconnect, resume) lives in `protocol.connection`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from protocol.codec import JSON, MSGPACK, Codec, describe_decode_error
from protocol.connection import ClientEvent, Connection, ConnectionChanged, ConnectionState, PendingRows
from protocol.errors import LesBilletsError, ProtocolViolation
from protocol.messages import (
    UNSET,
    Account,
    Accounts,
    Ack,
    AddComment,
    AddUser,
    AllTickets,
    Changed,
    ChangeTickets,
    Comment,
    CreateTicket,
    EditComment,
    GetHistory,
    GetInbox,
    GetPresence,
    GetRows,
    GetTicket,
    GetTickets,
    GetUsers,
    History,
    HistoryEntry,
    Inbox,
    InboxChanged,
    ListAccounts,
    LockTicket,
    Login,
    Logout,
    MarkRead,
    Presence,
    PresenceChanged,
    Priority,
    RenewLock,
    Request,
    ResetPassword,
    Resume,
    Role,
    Rows,
    Search,
    SearchHit,
    SearchResults,
    SetDisabled,
    SetPresence,
    Status,
    Ticket,
    TicketDetail,
    TicketPresence,
    TicketRef,
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
    ``state`` is the `ConnectionState`; ``last_seq`` is where `events()` stands. Events are kept
    for `events()` from its first call (or the first `get_tickets`) on: a script that never asks
    for them keeps none and is never told it dropped any. ``event_buffer`` bounds the items
    waiting in `events()`: past it, unread events are dropped, and a reader that catches up gets
    a fresh snapshot instead.
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
        self._rows_rid = None

    async def get_tickets(self) -> AllTickets:
        """The whole table and the ``seq`` it reflects; `events()` yields it too, in stream order (the events
        after it are kept for `events()` from now on).

        From then on a fresh snapshot (after a reconnect the server cannot resume, or a gap) is `AllTickets` too.
        """
        self._listening = True
        self._rows_first = None
        return await self._request(GetTickets(rid=self._rids.next()), AllTickets)

    async def get_rows(self, first: int = 100) -> Rows:
        """The table as light rows, without descriptions: the first `Rows` page, the ``first`` most recently
        updated tickets, as soon as it arrives. The other pages follow; `events()` yields every page (this one
        too) in order, the last with ``more`` false, then the events after their ``seq``. Expand them with
        `protocol.rows.expand`; fetch a ticket in full with `get_ticket`.

        From then on a fresh snapshot (after a reconnect the server cannot resume, a load cut short by one, or
        a gap) is `Rows` pages too, with the same ``first``.
        """
        self._listening = True
        self._rows_first = first
        return await self._request(GetRows(rid=self._rids.next(), first=first), Rows)

    async def get_users(self) -> list[User]:
        return (await self._request(GetUsers(rid=self._rids.next()), Users)).users

    async def get_history(self, ticket_id: TicketRef) -> list[HistoryEntry]:
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
        due_at: datetime | None = None,
        tags: Sequence[str] = (),
    ) -> Ticket:
        rid = self._rids.next()
        return await self._ticket(
            CreateTicket(
                rid=rid,
                title=title,
                description=description,
                status=status,
                priority=priority,
                assignee=assignee,
                due_at=due_at,
                tags=list(tags),
            )
        )

    async def lock(self, ticket_id: TicketRef) -> Ticket:
        """Take the lock (a lease of ``lock_ttl_s``; renew it with `renew_lock`)."""
        return await self._ticket(LockTicket(rid=self._rids.next(), ticket_id=ticket_id))

    async def renew_lock(self, ticket_id: TicketRef) -> Ticket:
        return await self._ticket(RenewLock(rid=self._rids.next(), ticket_id=ticket_id))

    async def update_ticket(
        self,
        ticket_id: TicketRef,
        version: int,
        *,
        title: str | UnsetType = UNSET,
        description: str | UnsetType = UNSET,
        status: Status | UnsetType = UNSET,
        priority: Priority | UnsetType = UNSET,
        assignee: UUID | UnsetType | None = UNSET,
        due_at: datetime | UnsetType | None = UNSET,
        tags: Sequence[str] | UnsetType = UNSET,
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
                due_at=due_at,
                tags=UNSET if isinstance(tags, UnsetType) else list(tags),
            )
        )

    async def unlock(self, ticket_id: TicketRef, *, force: bool = False) -> None:
        """Release the lock; ``force`` (admins only) breaks someone else's."""
        await self._request(UnlockTicket(rid=self._rids.next(), ticket_id=ticket_id, force=force), Ack)

    async def get_ticket(self, ticket_id: TicketRef) -> TicketDetail:
        """One ticket in full (by id or number), with its conversation."""
        return await self._request(GetTicket(rid=self._rids.next(), ticket_id=ticket_id), TicketDetail)

    async def add_comment(self, ticket_id: TicketRef, body: str) -> Comment:
        """Comment on a ticket (Markdown); no lock needed."""
        return await self._comment(AddComment(rid=self._rids.next(), ticket_id=ticket_id, body=body))

    async def edit_comment(self, comment_id: UUID, body: str) -> Comment:
        return await self._comment(EditComment(rid=self._rids.next(), comment_id=comment_id, body=body))

    async def search(self, query: str, *, limit: int = 50) -> list[SearchHit]:
        """Full-text search; the filter's qualifiers (``status:open``, ``assignee:me``…) combine with the words."""
        return (await self._request(Search(rid=self._rids.next(), query=query, limit=limit), SearchResults)).hits

    async def set_presence(self, ticket_id: TicketRef | None, *, editing: bool = False) -> None:
        """Tell the others which ticket this connection has open (None: none)."""
        await self._request(SetPresence(rid=self._rids.next(), ticket_id=ticket_id, editing=editing), Ack)

    async def get_presence(self) -> list[TicketPresence]:
        return (await self._request(GetPresence(rid=self._rids.next()), Presence)).tickets

    async def get_inbox(self, *, limit: int = 100, unread_only: bool = False) -> Inbox:
        return await self._request(GetInbox(rid=self._rids.next(), limit=limit, unread_only=unread_only), Inbox)

    async def mark_read(self, seqs: Sequence[int] = (), *, up_to: int | None = None) -> None:
        await self._request(MarkRead(rid=self._rids.next(), seqs=list(seqs), up_to=up_to), Ack)

    async def change_tickets(
        self,
        ticket_ids: Sequence[TicketRef],
        *,
        status: Status | UnsetType = UNSET,
        priority: Priority | UnsetType = UNSET,
        assignee: UUID | UnsetType | None = UNSET,
        due_at: datetime | UnsetType | None = UNSET,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
    ) -> Changed:
        """A quick change on tickets nobody else holds (lock, change, unlock in one request each)."""
        message = ChangeTickets(
            rid=self._rids.next(),
            ticket_ids=list(ticket_ids),
            status=status,
            priority=priority,
            assignee=assignee,
            due_at=due_at,
            add_tags=list(add_tags),
            remove_tags=list(remove_tags),
        )
        return await self._request(message, Changed)

    async def list_accounts(self) -> list[Account]:
        """Admins only: every user, disabled ones too."""
        return (await self._request(ListAccounts(rid=self._rids.next()), Accounts)).accounts

    async def add_user(self, email: str, name: str, password: str, *, role: Role = Role.AGENT) -> User:
        ack = await self._request(
            AddUser(rid=self._rids.next(), email=email, name=name, password=password, role=role), Ack
        )
        if ack.user is None:
            raise ProtocolViolation("The server's answer to AddUser lacks the user.")
        return ack.user

    async def set_disabled(self, user_id: UUID, disabled: bool) -> None:
        await self._request(SetDisabled(rid=self._rids.next(), user_id=user_id, disabled=disabled), Ack)

    async def reset_password(self, user_id: UUID, password: str) -> None:
        await self._request(ResetPassword(rid=self._rids.next(), user_id=user_id, password=password), Ack)

    async def _comment(self, message: Request) -> Comment:
        ack = await self._request(message, Ack)
        if ack.comment is None:
            raise ProtocolViolation(f"The server's answer to {type(message).__name__} lacks the comment.")
        return ack.comment

    async def _ticket(self, message: Request) -> Ticket:
        ack = await self._request(message, Ack)
        if ack.ticket is None:
            raise ProtocolViolation(f"The server's answer to {type(message).__name__} lacks the ticket.")
        return ack.ticket

    # --- the event stream ---------------------------------------------------------------

    def events(self) -> AsyncIterator[ClientEvent]:
        """Events, snapshots and connection changes, in order; ends after ``ConnectionChanged(CLOSED)``.

        Events are kept for it from this call on (or from the first `get_tickets`), not before: the
        iterator it returns yields what arrived since, even if the first item is asked for later.
        Read it from ONE task only: it owns the ``seq`` bookkeeping. Before any snapshot, events
        come as they arrive. Every `AllTickets` reply (also the one `get_tickets` returned to its
        caller) is yielded at its place, and the unread events before it are skipped: it reflects
        them. `Rows` pages likewise: the unread events before the first page are skipped, the pages
        come in order with nothing between them, and the seq bookkeeping starts from theirs once the
        last (``more`` false) is in. Once a snapshot was fetched, an already-reflected event is
        skipped and a gap yields a fresh snapshot instead (rows if the table was loaded as rows).
        After a reconnect it yields ``RECONNECTING``, then (if a snapshot had been fetched, or rows
        were still loading) a fresh snapshot, then ``CONNECTED``; with rows, only the first page is
        sure to come before ``CONNECTED`` (a page of another ``rid`` starts the table again: see
        `protocol.rows.RowsLoad`). Nothing is yielded for the first connection: `connect` returns
        only once it is up.
        """
        self._listening = True
        return self._stream()

    async def _stream(self) -> AsyncIterator[ClientEvent]:
        while not (self.state is ConnectionState.CLOSED and self._events.empty()):
            queued = await self._events.get()
            item = self._decoded(queued) if isinstance(queued, PendingRows) else queued
            if item is None:  # a page that cannot be read: the table is incomplete, load it again
                self._resyncing = await self._resync()
                continue
            if isinstance(item, ConnectionChanged):
                yield item
                if item.state is ConnectionState.CLOSED:
                    return
            elif isinstance(item, PresenceChanged | InboxChanged):
                yield item
            elif isinstance(item, AllTickets):
                self._seq.snapshot(item.seq)
                self._resyncing = False
                yield item
            elif isinstance(item, Rows):
                if not item.more:
                    self._seq.snapshot(item.seq)
                self._resyncing = item.more  # no event can be applied to half a table
                yield item
            elif not self._resyncing:
                action = self._seq.check(item.seq)
                if action is EventAction.DELIVER:
                    yield item
                elif action is EventAction.RESYNC:
                    log.info("missed events before seq %d; fetching a fresh snapshot", item.seq)
                    self._resyncing = await self._resync()

    def _decoded(self, pending: PendingRows) -> Rows | None:
        """A later page of a load, decoded now that it is wanted; None (logged) when it cannot be read."""
        try:
            page = self._codec.decode_server(pending.frame)
        except msgspec.DecodeError as exc:
            log.warning("ignored an unreadable page of rows from the server: %s", describe_decode_error(exc)[0])
            return None
        if not isinstance(page, Rows):  # its head said Rows: a server that says one thing and sends another
            log.warning("ignored a page of rows that was a %s", type(page).__name__)
            return None
        return page

    async def _resync(self) -> bool:
        """Ask for a snapshot; whether one is now on its way into the queue."""
        if self.state is not ConnectionState.CONNECTED:
            return self.state is ConnectionState.RECONNECTING and self._snapshot_fetched  # the reconnect fetches one
        try:
            if self._rows_first is not None:
                await self.get_rows(self._rows_first)
            else:
                await self.get_tickets()
        except LesBilletsError as exc:
            log.warning("could not resynchronise: %s", exc)
            return False
        return True
