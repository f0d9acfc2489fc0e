"""The link under `protocol.client.Client`: one websocket at a time, its reader, and reconnecting.

A reader task per connection routes each reply to the request waiting for its
``rid`` and, once somebody asked for events (`Client.events`, or a snapshot with
`Client.get_tickets` or `Client.get_rows`), puts events (and every `AllTickets`
reply and `Rows` page) in a queue, in arrival order; a client that never asks
keeps none. A supervisor task waits for each connection to end and, unless the
client is closing, reconnects with backoff, resumes the session and fetches a
fresh snapshot before letting requests through again. When the server ends the session
(`SessionEnded`), the client does not reconnect: it closes, fails every request
with `SessionEndedError`, and ``CLOSED`` carries the server's sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import UnionType
from typing import TypeVar
from urllib.parse import urlsplit

import msgspec
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from protocol.codec import Codec, RowsHead, describe_decode_error
from protocol.errors import (
    ConnectionLost,
    LesBilletsError,
    NotConnected,
    ProtocolViolation,
    RequestTimeout,
    SessionEndedError,
    Unauthorized,
)
from protocol.messages import (
    AllTickets,
    CloseCode,
    Error,
    Event,
    GetRows,
    GetTickets,
    InboxChanged,
    PresenceChanged,
    Reply,
    Request,
    Resume,
    Rows,
    ServerEvent,
    ServerMessage,
    SessionEnded,
    User,
    Welcome,
)
from protocol.session import Backoff, RidCounter, expect

log = logging.getLogger("protocol.client")
# websockets logs frame contents at DEBUG, passwords and tokens included: keep its logger above that, always.
_wire_log = logging.getLogger("protocol.client.wire")
_wire_log.setLevel(logging.INFO)

R = TypeVar("R", bound=Reply)

SESSION_ENDED = "Your session has ended; please log in again."
BIG_FRAME = 64 * 1024
"""A frame this big (a page of rows, a snapshot) is followed by a turn of the event loop."""
EVENT_BUFFER = 10_000
"""Queued items past which unread events are dropped (a reader that catches up then resyncs from a snapshot)."""


class ConnectionState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True)
class ConnectionChanged:
    """The link changed state (local to this client, never on the wire); ``reason`` is a sentence."""

    state: ConnectionState
    reason: str | None = None


ClientEvent = ServerEvent | PresenceChanged | InboxChanged | AllTickets | Rows | ConnectionChanged
"""What `Client.events` yields: logged events (with ``seq``), the notices about this user (presence, inbox),
snapshots (`AllTickets`, or the pages of `Rows`) and connection changes."""


@dataclass(frozen=True, slots=True)
class PendingRows:
    """A later page of a load, queued as it came: decoded when `Client.events` yields it. The reader only reads
    its head, so a stream of pages arriving at once does not hold the event loop while the app paints the first
    (decoding 20 pages of 5,000 rows back to back took 130 ms)."""

    head: RowsHead
    frame: bytes


Queued = ClientEvent | PendingRows


class Connection:
    """Connection handling shared by every request; `protocol.client.Client` adds the typed API."""

    def __init__(
        self, urls: Sequence[str], *, codec: Codec, reconnect: bool, request_timeout: float, open_timeout: float
    ) -> None:
        if not urls:
            raise NotConnected("No server address was given: name one, such as ws://127.0.0.1:8765.")
        self.urls = list(urls)
        """The servers of one helpdesk (replicas, or a balancer and a fallback): tried in turn."""
        self._current = 0
        self.user: User | None = None
        self.token: str | None = None
        self.lock_ttl_s: float | None = None
        self.state = ConnectionState.CONNECTING
        self.session_ended: SessionEndedError | None = None
        """Set when the server ended the session (logged out elsewhere, expired, password changed, disabled)."""
        self._codec = codec
        self._reconnect = reconnect
        self._request_timeout = request_timeout
        self._open_timeout = open_timeout
        self._rids = RidCounter()
        self._snapshot_fetched = False  # so reconnecting resumes the event stream (or fetches a fresh snapshot)
        self._rows_first: int | None = None
        """Set when the table is loaded as `Rows` (the ``first`` asked for): a fresh snapshot is then rows too."""
        self._rows_rid: int | None = None
        """The `GetRows` whose pages are arriving (its first came, its last not yet)."""
        self._last_seq: int | None = None
        """The last event this client received (queued or read): where a resume picks up."""
        self._epoch: str | None = None
        self._backoff = Backoff()
        self._pending: dict[int, asyncio.Future[ServerMessage]] = {}
        self._events: asyncio.Queue[Queued] = asyncio.Queue()
        self._ws: ClientConnection | None = None
        self._ready = asyncio.Event()  # set while CONNECTED or CLOSED: requests need not wait
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self.event_buffer = EVENT_BUFFER
        self._listening = False
        """Somebody asked for events: from then on they are queued (before, only the latest link change is)."""

    @property
    def url(self) -> str:
        """The server this client uses now."""
        return self.urls[self._current]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, state={self.state.value!r}, user={self.user!r})"

    # --- lifecycle -------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection and stop reconnecting; `events()` ends after ``CLOSED``."""
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._supervisor is not None and not self._supervisor.done():
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        self._finish(None)

    async def _start(self) -> None:
        failures: list[str] = []
        for _ in self.urls:
            try:
                ws = await self._open()
                break
            except ProtocolViolation:
                self._finish(None)
                raise
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ValueError) as exc:
                # ValueError: what websockets' URL parsing raises past its own checks (a port out of range)
                failures.append(f"{self.url or '(nothing)'}: {_describe_failure(exc)}")
                self._next_url()
        else:
            self._finish(None)
            raise NotConnected(f"Could not connect to {'; nor to '.join(failures)}.")
        reader = asyncio.create_task(self._read(ws))
        self.state = ConnectionState.CONNECTED
        self._ready.set()
        self._supervisor = asyncio.create_task(self._supervise(reader))

    async def _open(self) -> ClientConnection:
        unusable = _unusable(self.url)
        if unusable is not None:
            raise _UnusableURL(unusable)
        ws = await ws_connect(
            self.url,
            subprotocols=[Subprotocol(self._codec.subprotocol)],
            compression=None,
            open_timeout=self._open_timeout,
            max_size=None,  # a snapshot may exceed any fixed limit; it comes from the server we chose
            logger=_wire_log,
        )
        if ws.subprotocol != self._codec.subprotocol:
            await ws.close()
            raise ProtocolViolation(f"The server at {self.url} does not speak {self._codec.subprotocol}.")
        self._ws = ws
        return ws

    async def _supervise(self, reader: asyncio.Task[tuple[str, bool]]) -> None:
        """Wait for each connection to end; reconnect while that is wanted."""
        reason: str | None = None
        try:
            while True:
                reason, at_once = await reader
                self._ws = None
                self._ready.clear()
                self._fail_pending(ConnectionLost("The connection to the server was lost before the reply came."))
                if self._closing or not self._reconnect or self.session_ended is not None:
                    break
                log.info("connection to %s lost: %s", self.url, reason)
                self._change(ConnectionState.RECONNECTING, reason)
                next_reader = await self._reconnect_loop(at_once)
                if next_reader is None:
                    reason = None if self._closing else SESSION_ENDED
                    break
                reader = next_reader
        except Exception:
            log.exception("the connection supervisor of %s failed", self.url)
            reason = "The client failed unexpectedly."
        finally:
            if self._ws is not None:
                await self._ws.close()
            self._finish(None if self._closing else reason)

    async def _reconnect_loop(self, at_once: bool) -> asyncio.Task[tuple[str, bool]] | None:
        """Reconnect and resume until it works; None when the session ended or the client is closing."""
        self._backoff.reset()
        while not self._closing:
            if not at_once:
                await asyncio.sleep(self._backoff.next_delay())
            at_once = False
            try:
                ws = await self._open()
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ValueError, ProtocolViolation) as exc:
                log.info("reconnecting to %s failed: %s", self.url, _describe_failure(exc))
                self._next_url()
                at_once = self._current != 0  # try every server once before backing off
                continue
            reader = asyncio.create_task(self._read(ws))
            try:
                await self._handshake(ws)
            except Unauthorized:
                log.info("the session was not resumed: the server no longer knows its token")
                self.user = self.token = self.lock_ttl_s = None
                await ws.close()
                await reader
                self._ws = None
                return None
            except LesBilletsError as exc:
                log.info("resuming on %s failed: %s", self.url, exc)
                await ws.close()
                await reader
                self._ws = None
                continue
            self._change(ConnectionState.CONNECTED, None)
            self._ready.set()
            return reader
        return None

    async def _handshake(self, ws: ClientConnection) -> None:
        """On a new connection, before anyone else may use it: resume from the last event received (the server
        replays what was missed), or fetch a fresh snapshot when it cannot."""
        loop = asyncio.get_running_loop()
        if self.token is None:
            return
        interrupted = self._rows_rid is not None  # the table was half loaded: load it again
        self._rows_rid = None
        last_seq = self._last_seq if self._snapshot_fetched and not interrupted else None
        resume = Resume(rid=self._rids.next(), token=self.token, last_seq=last_seq, epoch=self._epoch)
        welcome = await self._call(ws, resume, Welcome, loop.time())
        self._welcome(welcome)
        if interrupted or (self._snapshot_fetched and not welcome.resumed):
            if self._rows_first is not None:  # its first page, then the others as they come
                await self._call(ws, GetRows(rid=self._rids.next(), first=self._rows_first), Rows, loop.time())
            else:
                await self._call(ws, GetTickets(rid=self._rids.next()), AllTickets, loop.time())

    def _next_url(self) -> None:
        self._current = (self._current + 1) % len(self.urls)

    def _change(self, state: ConnectionState, reason: str | None) -> None:
        self.state = state
        if not self._listening:
            self._drop_queued(keep=())  # nothing else is queued yet: a reader who comes later gets the latest
        self._events.put_nowait(ConnectionChanged(state, reason))

    def _finish(self, reason: str | None) -> None:
        """Become CLOSED, once: wake every waiter and end the event stream."""
        if self.state is ConnectionState.CLOSED:
            return
        self._fail_pending(ConnectionLost("The connection was closed before the reply came."))
        self._change(ConnectionState.CLOSED, reason)
        self._ready.set()

    # --- the wire -------------------------------------------------------------------

    async def _request(self, message: Request, kind: type[R]) -> R:
        """Send once connected (waiting out a reconnect) and return the typed reply."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            async with asyncio.timeout(self._request_timeout):
                await self._ready.wait()
        except TimeoutError:
            raise NotConnected(f"Not connected to {self.url}: the server has not come back yet.") from None
        if self.session_ended is not None:
            raise SessionEndedError(self.session_ended.message, reason=self.session_ended.reason)
        if self.state is not ConnectionState.CONNECTED or self._ws is None:
            raise NotConnected("The connection to the server is closed.")
        return await self._call(self._ws, message, kind, start)

    async def _call(self, ws: ClientConnection, message: Request, kind: type[R], start: float) -> R:
        future: asyncio.Future[ServerMessage] = asyncio.get_running_loop().create_future()
        self._pending[message.rid] = future
        try:
            async with asyncio.timeout_at(start + self._request_timeout):
                try:
                    await ws.send(self._codec.encode(message), text=self._codec.text)
                except ConnectionClosed:
                    raise ConnectionLost("The connection to the server was lost before the request was sent.") from None
                reply = await future
        except TimeoutError:
            raise RequestTimeout(f"The server did not answer within {self._request_timeout:g} s.") from None
        finally:
            self._pending.pop(message.rid, None)
        return expect(reply, kind)

    async def _read(self, ws: ClientConnection) -> tuple[str, bool]:
        """Route frames until the connection ends; why it ended, and whether to reconnect at once."""
        try:
            while True:
                frame = await ws.recv(decode=False)
                head = self._codec.peek_rows(frame)  # a look at the first bytes, unless it is a page
                if head is not None and head.rid == self._rows_rid:
                    self._events.put_nowait(PendingRows(head, frame))  # never dropped, like a decoded page
                    self._rows_ended(head)
                    continue
                self._on_frame(frame)
                if self.session_ended is not None:
                    await ws.close()
                    return self.session_ended.message, False
                if len(frame) > BIG_FRAME:
                    # Decoding it took a while, and frames already received come without a pause: let the rest
                    # of the loop (an app painting the first page of rows) run before the next.
                    await asyncio.sleep(0)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            return _describe_close(code), code == CloseCode.RESYNC

    def _on_frame(self, frame: bytes) -> None:
        try:
            message = self._codec.decode_server(frame)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            # msgspec raises UnicodeDecodeError, not DecodeError, for a string that is not UTF-8
            sentence = describe_decode_error(exc)[0] if isinstance(exc, msgspec.DecodeError) else "Invalid UTF-8."
            rid = self._codec.peek_rid(frame)
            future = self._pending.get(rid) if rid is not None else None
            if future is not None and not future.done():
                future.set_exception(ProtocolViolation(f"The server's reply could not be read. {sentence}"))
            else:  # an unreadable event shows up as a seq gap, which resyncs
                log.warning("ignored an unreadable frame from the server: %s", sentence)
            return
        if isinstance(message, Event):
            self._push(message)
            return
        if isinstance(message, PresenceChanged | InboxChanged):
            # not in the log: no seq to keep, nothing to replay; a full queue drops them like events
            if self._listening and self._events.qsize() < self.event_buffer:
                self._events.put_nowait(message)
            return
        if isinstance(message, Rows):
            self._on_rows(message)
            return
        if isinstance(message, SessionEnded):
            log.info("the server ended the session: %s", message.message)
            self.session_ended = SessionEndedError(message.message, reason=message.reason)
            self.user = self.token = self.lock_ttl_s = None
            self._fail_pending(self.session_ended)
            return
        future = self._pending.get(message.rid) if message.rid is not None else None
        if future is None or future.done():
            if isinstance(message, Error):
                log.warning("the server reported an error for no waiting request: %s", message.message)
            return
        if isinstance(message, AllTickets):
            self._snapshot_fetched = True
            self._last_seq = message.seq
            # Whatever is still queued is reflected in this snapshot (it arrived before it): skip it.
            self._drop_queued(keep=ConnectionChanged)
            self._events.put_nowait(message)
        future.set_result(message)

    def _on_rows(self, page: Rows) -> None:
        """Queue a page of the table; the server sends nothing else between the first and the last."""
        future = self._pending.get(page.rid)
        if future is not None and not future.done():
            # The first page: whatever is still queued is reflected in it (it arrived before it).
            self._rows_rid = page.rid
            self._drop_queued(keep=ConnectionChanged)
            self._events.put_nowait(page)
            future.set_result(page)
        elif page.rid == self._rows_rid:
            self._events.put_nowait(page)  # never dropped: pages are bounded by the table, not by events
        else:
            return  # a load whose request gave up waiting: its pages mean nothing now
        self._rows_ended(page)

    def _rows_ended(self, page: Rows | RowsHead) -> None:
        if not page.more:
            # Only now does a resume from this seq make sense: before, a reconnect loads the table again.
            self._rows_rid = None
            self._snapshot_fetched = True
            self._last_seq = page.seq

    def _push(self, event: ServerEvent) -> None:
        self._last_seq = max(self._last_seq or 0, event.seq)
        if not self._listening:
            return  # nobody asked for events: keep none, and so never drop any
        if self._events.qsize() >= self.event_buffer:
            # Nobody reads fast enough: drop the queued events; the reader then sees a seq gap and resyncs.
            dropped = self._drop_queued(keep=AllTickets | Rows | PendingRows | ConnectionChanged)
            log.warning("events were not read in time; dropped %d", dropped)
        self._events.put_nowait(event)

    def _drop_queued(self, *, keep: type | UnionType | tuple[()]) -> int:
        queued = [self._events.get_nowait() for _ in range(self._events.qsize())]
        for item in queued:
            if isinstance(item, keep):
                self._events.put_nowait(item)
        return len(queued) - self._events.qsize()

    def _fail_pending(self, exc: LesBilletsError) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(exc)

    def _welcome(self, welcome: Welcome) -> None:
        self.user, self.token, self.lock_ttl_s = welcome.user, welcome.token, welcome.lock_ttl_s
        if welcome.epoch != self._epoch:
            self._epoch = welcome.epoch
            if not welcome.resumed:  # another log: seqs from the old one mean nothing here
                self._last_seq = None


_CLOSE_REASONS: dict[int | None, str] = {
    None: "The connection to the server was lost.",
    1000: "The server closed the connection.",
    1006: "The connection to the server was lost.",
    CloseCode.GOING_AWAY: "The server is restarting or shutting down.",
    CloseCode.POLICY_VIOLATION: "The server closed the connection: too many requests.",
    CloseCode.MESSAGE_TOO_BIG: "The server closed the connection: a message was too big.",
    CloseCode.INTERNAL_ERROR: "The server failed unexpectedly.",
    CloseCode.RESYNC: "This client fell behind the server's events and is catching up.",
}


def _describe_close(code: int | None) -> str:
    return _CLOSE_REASONS.get(code, f"The server closed the connection (code {code}).")


class _UnusableURL(ValueError):
    """The client cannot even try this address; the text says why."""


_NOT_USABLE = "that is not a usable ws:// or wss:// address"
_BAD_PORT = "its port must be a number from 1 to 65535"


def _unusable(url: str) -> str | None:
    """Why `url` cannot be a server's address, or None when it can be tried."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port out of range or not a number, a broken [IPv6] host
        return _BAD_PORT if "port" in str(exc).lower() else _NOT_USABLE
    if parts.scheme not in ("ws", "wss"):
        return "that is not a ws:// or wss:// address"
    if not parts.hostname:
        return "that address names no server"
    if port == 0:  # websockets would quietly take it for the default port
        return _BAD_PORT
    try:
        parse_uri(url)
    except (InvalidURI, ValueError):  # credentials without a password, a fragment, a host IDNA refuses
        return _NOT_USABLE
    return None


def _describe_failure(exc: Exception) -> str:
    if isinstance(exc, _UnusableURL):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "nothing is listening there"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, InvalidStatus):
        return f"the server refused the websocket (HTTP {exc.response.status_code})"
    if isinstance(exc, InvalidURI):
        return "that is not a ws:// or wss:// address"
    if isinstance(exc, ValueError):
        return _NOT_USABLE
    return str(exc) or type(exc).__name__
