"""How many connections the server keeps, from where, and what happens when file descriptors run out.

Connections are counted from the moment TCP accepts them until they are gone, handshake included, since each
holds a file descriptor. Past a cap (in total, or from one address) a websocket handshake is answered HTTP 503 with
a sentence, and agents already connected carry on. A flood beyond that has its connections dropped unanswered as
soon as they are accepted, so the descriptors kept for refusals, the database and the connected agents are never
spent. The caps are kept below the open-file limit, whose soft value is raised to the hard one at start.

If accept() still fails for want of descriptors, asyncio reports it through the loop's exception handler up to a
hundred times per loop iteration; `AcceptErrorLog` turns that into one line every few seconds. (uvloop reports
nothing there: libuv accepts and closes the excess connections with a spare descriptor.)
"""

from __future__ import annotations

import asyncio
import enum
import logging
import resource
from collections import Counter
from typing import Any, ClassVar, Final

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from lesbillets_server.http import unavailable
from lesbillets_server.ratelimit import address_key

log = logging.getLogger(__name__)

REFUSALS: Final = 64
"""Connections past a cap kept open at once to be answered 503; more are dropped unanswered."""
FD_RESERVE: Final = 256
"""Descriptors kept for everything but counted connections: database, WAL, logs, listening sockets, and the
connections accepted in one loop iteration (asyncio takes up to 100 at a time) before a flood's can be dropped."""


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit to the hard one (as far as allowed); the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # keep the soft limit we have
    return soft


def connection_cap(max_connections: int, open_files: int) -> int:
    """`max_connections`, lowered if needed so that connections, refusals and the reserve fit in `open_files`."""
    return max(1, min(max_connections, open_files - FD_RESERVE - REFUSALS))


class Occurrences:
    """Counts something that may happen thousands of times a second, to log it at most once per interval."""

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._logged_at: float | None = None
        self._since = 0

    def count(self, now: float) -> int:
        """Count one; how many to report now (this one included), or 0 when the last report is too recent."""
        self._since += 1
        if self._logged_at is not None and now - self._logged_at < self._interval_s:
            return 0
        count, self._since, self._logged_at = self._since, 0, now
        return count


class Admission(enum.Enum):
    ACCEPT = "accept"
    REFUSE = "refuse"
    """Past a cap: its handshake is answered 503."""
    DROP = "drop"
    """Past a cap with `REFUSALS` refusals already pending: closed at once, unanswered."""


class ConnectionLimiter:
    """Counts open connections in total and per address; sans-I/O."""

    def __init__(self, *, max_total: int, max_per_address: int) -> None:
        self.max_total = max_total
        self.max_per_address = max_per_address
        self.total = 0
        self.refusing = 0
        self.refusals = Occurrences(60.0)
        """For the log: refusals are reported at most once a minute."""
        self._by_address: Counter[str] = Counter()

    def opened(self, address: str) -> tuple[Admission, str | None]:
        """Count a new connection: whether it is let in, and if not, the sentence its 503 carries."""
        if self.total >= self.max_total:
            reason = f"The server is at its limit of {self.max_total} connections; try again in a minute."
        elif self._by_address[address] >= self.max_per_address:
            reason = (
                f"Too many connections from your address (at most {self.max_per_address}); close some and try again."
            )
        else:
            self.total += 1
            self._by_address[address] += 1
            return Admission.ACCEPT, None
        if self.refusing >= REFUSALS:
            return Admission.DROP, reason
        self.refusing += 1
        return Admission.REFUSE, reason

    def closed(self, address: str, admission: Admission) -> None:
        if admission is Admission.ACCEPT:
            self.total -= 1
            self._by_address[address] -= 1
            if not self._by_address[address]:
                del self._by_address[address]
        elif admission is Admission.REFUSE:
            self.refusing -= 1


class LimitedConnection(ServerConnection):
    """A `ServerConnection` counted by `limiter` (set on the subclass `serve` is given: see app.py)."""

    limiter: ClassVar[ConnectionLimiter]
    address: str
    admission: Admission
    refusal: str | None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.address = address_key(transport.get_extra_info("peername"))  # as failed logins are counted
        self.admission, self.refusal = self.limiter.opened(self.address)
        if self.admission is Admission.ACCEPT:
            return
        if count := self.limiter.refusals.count(self.loop.time()):
            log.warning("refused %d connection(s) past the caps since the last report: %s", count, self.refusal)
        if self.admission is Admission.DROP:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.limiter.closed(self.address, self.admission)
        super().connection_lost(exc)


def refuse_over_cap(connection: ServerConnection, request: Request) -> Response | None:
    """HTTP 503 for a websocket handshake on a connection past a cap (plain HTTP requests are still answered)."""
    refusal = connection.refusal if isinstance(connection, LimitedConnection) else None
    if refusal is None or request.headers.get("Upgrade", "").lower() != "websocket":
        return None
    return unavailable(refusal)


class AcceptErrorLog:
    """A loop exception handler: "accept() out of system resource" at most once per interval, the rest passed on."""

    MESSAGE: Final = "socket.accept() out of system resource"

    def __init__(self, loop: asyncio.AbstractEventLoop, *, interval_s: float = 5.0) -> None:
        self._loop = loop
        self._previous = loop.get_exception_handler()
        self._failures = Occurrences(interval_s)

    def install(self) -> None:
        self._loop.set_exception_handler(self)

    def uninstall(self) -> None:
        self._loop.set_exception_handler(self._previous)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != self.MESSAGE:
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        count = self._failures.count(loop.time())
        if not count:
            return
        exc = context.get("exception")
        cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        log.warning(
            "cannot accept new connections: %s (%d time(s) since the last report); connected agents carry on. "
            "Lower --max-connections or raise the open-file limit (ulimit -n).",
            cause,
            count,
        )
