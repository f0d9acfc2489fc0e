"""Wiring: store → service → dispatcher → connection handler, behind one websockets server."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from importlib import metadata

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import NegotiationError
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from lesbillets_server.auth import Authenticator
from lesbillets_server.broadcast import LocalBroadcaster
from lesbillets_server.checkpool import CheckPool
from lesbillets_server.config import MEMORY_DB, ServerConfig
from lesbillets_server.connection import ConnectionHandler
from lesbillets_server.dispatch import Dispatcher
from lesbillets_server.health import WriteHealth
from lesbillets_server.http import process_request
from lesbillets_server.inbox_push import InboxPush
from lesbillets_server.limits import (
    AcceptErrorLog,
    ConnectionLimiter,
    LimitedConnection,
    connection_cap,
    raise_open_file_limit,
    refuse_over_cap,
)
from lesbillets_server.metrics import Metrics
from lesbillets_server.outbox import Outbox, OutboxConnection
from lesbillets_server.ownership import claim
from lesbillets_server.presence_hub import PresenceHub
from lesbillets_server.presence_pg import PgPresenceBus
from lesbillets_server.quota import CreationQuota, ReadBudget, TimeBudget
from lesbillets_server.ratelimit import LoginThrottle
from lesbillets_server.search import Searcher
from lesbillets_server.service import TicketService
from lesbillets_server.sessions import SessionWatch
from lesbillets_server.snapshots import Snapshots
from lesbillets_server.storage import Store, is_postgres_url, open_store
from protocol.clock import Clock, utc_now
from protocol.codec import SUBPROTOCOLS

log = logging.getLogger(__name__)


def server_version() -> str:
    try:
        return metadata.version("lesbillets")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "0+unknown"


def select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """JSON when the client asks for nothing; otherwise the first encoding it offers that we speak."""
    if not offered:
        return None
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    raise NegotiationError(f"unsupported subprotocol; this server speaks {', '.join(SUBPROTOCOLS)}")


@dataclass(frozen=True, slots=True)
class RunningServer:
    config: ServerConfig
    """The settings in force; `port` is the one actually bound."""
    service: TicketService
    server: Server
    snapshots: Snapshots
    limiter: ConnectionLimiter

    @property
    def url(self) -> str:
        scheme = "wss" if self.config.certfile else "ws"
        return f"{scheme}://{self.config.host}:{self.config.port}"

    @property
    def http_url(self) -> str:
        return self.url.replace("ws", "http", 1)


def _frame_safe_logger() -> logging.Logger:
    """websockets' logger, kept from logging frames and, below `--log-level debug`, connections.

    It logs whole frames at DEBUG, and a Login frame holds a password: never below INFO. It logs every connection
    opened and closed at INFO, which lets a flood of connections flood the log: only at `--log-level debug`.
    """
    logger = logging.getLogger("lesbillets_server.websockets")
    root = logging.getLogger().getEffectiveLevel()
    logger.setLevel(logging.INFO if root <= logging.DEBUG else max(logging.WARNING, root))
    return logger


def _ssl_context(config: ServerConfig) -> ssl.SSLContext | None:
    if config.certfile is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config.certfile, config.keyfile)
    return context


@contextlib.asynccontextmanager
async def run_server(
    config: ServerConfig,
    *,
    clock: Clock = utc_now,
    prepare: Callable[[Store], Awaitable[object]] | None = None,
) -> AsyncIterator[RunningServer]:
    """Serve until the block exits; then close every connection with 1001 and the database.

    `prepare` runs on the store before it is loaded (the CLI seeds demo data there).
    """
    ownership = contextlib.ExitStack()
    claimed = None
    if not is_postgres_url(config.db) and config.db != MEMORY_DB:
        claimed = ownership.enter_context(claim(config.db))
    with ownership:
        async with _serving(config, clock, prepare) as running:
            if claimed is not None:
                claimed.announce(running.url)
            yield running


@contextlib.asynccontextmanager
async def _serving(
    config: ServerConfig, clock: Clock, prepare: Callable[[Store], Awaitable[object]] | None
) -> AsyncIterator[RunningServer]:
    accept_errors = AcceptErrorLog(asyncio.get_running_loop())
    store = await open_store(config.db, synchronous=config.synchronous, busy_timeout_s=config.busy_timeout_s)
    try:
        await store.probe(report=False)  # a database it cannot write stops the server here, not every login later
        if prepare is not None:
            await prepare(store)
        broadcaster = LocalBroadcaster()
        metrics = Metrics()

        def drop_laggard(connection: ServerConnection, owed: int) -> None:
            metrics.laggards_dropped.inc()
            broadcaster.drop(connection, owed)

        outbox = Outbox(backlog_bytes=config.backlog_bytes, on_laggard=drop_laggard)
        snapshots = Snapshots(outbox, max_snapshots=config.max_snapshots)
        limiter = ConnectionLimiter(
            max_total=_connection_cap(config.max_connections), max_per_address=config.max_connections_per_ip
        )
        service = await TicketService.open(store, broadcaster, config, metrics, clock)
        auth = Authenticator(
            store,
            session_ttl=timedelta(seconds=config.session_ttl_s),
            throttle=LoginThrottle(
                address_burst=config.login_address_limit,
                account_burst=config.login_account_limit,
                buckets=store.login_buckets(),
            ),
            pool=CheckPool(workers=config.login_workers, queue=config.login_queue, reserved=config.login_queue),
        )
        # presence crosses replicas on the database they share (LISTEN/NOTIFY); with SQLite it stays in memory
        presence = PresenceHub(
            broadcaster.notify_all,
            replica=service.replica,
            bus=PgPresenceBus(config.db) if store.shared else None,
        )
        dispatcher = Dispatcher(
            service,
            auth,
            broadcaster,
            snapshots,
            CreationQuota(rate_per_s=config.create_rate_per_s, burst=config.create_burst),
            CreationQuota(rate_per_s=config.change_rate_per_s, burst=config.change_burst),
            presence,
            searcher=Searcher(
                store,
                TimeBudget(share=config.search_share, burst_s=config.search_burst_s),
                timeout_s=config.search_timeout_s,
                users=service.users,
            ),
            lock_ttl_s=config.lock_ttl_s,
            server_version=server_version(),
            comment_quota=CreationQuota(rate_per_s=config.comment_rate_per_s, burst=config.comment_burst),
            reads=ReadBudget(TimeBudget(share=config.read_share, burst_s=config.read_burst_s)),
        )
        inbox_push = InboxPush(store, dispatcher.connected, dispatcher.notify_user)
        service.follower.observe(inbox_push.on_event)
        watch = SessionWatch(store, dispatcher, service.now)
        await watch.start()
        handler = ConnectionHandler(
            dispatcher,
            snapshots,
            rate_per_s=config.rate_per_s,
            rate_burst=config.rate_burst,
            login_timeout_s=config.login_timeout_s,
            login_backoff_s=config.login_backoff_s,
        )

        accept_errors.install()
        async with serve(
            handler,
            config.host,
            config.port,
            subprotocols=list(SUBPROTOCOLS),  # type: ignore[arg-type]
            select_subprotocol=select_subprotocol,
            compression=None,  # events are small and encoded once for every client
            # websockets' 20 + 20 + 10 s would keep a frozen client's presence on screen for most of a minute:
            # a ping unanswered, then a close unanswered, within `keepalive_s` in all
            ping_interval=config.keepalive_s * 0.4,
            ping_timeout=config.keepalive_s * 0.4,
            close_timeout=config.keepalive_s * 0.2,
            max_size=config.max_message,
            process_request=functools.partial(_process_request, health=store.health, metrics=metrics),
            ssl=_ssl_context(config),
            logger=_frame_safe_logger(),
            create_connection=_connection_class(outbox, limiter),
        ) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            running = RunningServer(
                config=replace(config, port=port), service=service, server=server, snapshots=snapshots, limiter=limiter
            )
            upkeep = [
                asyncio.create_task(service.maintain()),
                asyncio.create_task(service.follower.follow()),
                asyncio.create_task(watch.run(config.session_check_s)),
                asyncio.create_task(presence.run()),
            ]
            log.info("serving on %s (database %s)", running.url, store.where)
            try:
                yield running
            finally:
                for task in upkeep:
                    task.cancel()
                await asyncio.gather(*upkeep, return_exceptions=True)
                await inbox_push.close()
                snapshots.stop()
                server.close(close_connections=True)
                await server.wait_closed()
                await presence.stop()
                await service.stop()
                auth.close()
    finally:
        accept_errors.uninstall()
        await store.close()


def _connection_class(outbox: Outbox, limiter: ConnectionLimiter) -> type[ServerConnection]:
    class Connection(OutboxConnection, LimitedConnection):
        """Writes through the outbox; counted by the limiter."""

    Connection.outbox = outbox
    Connection.limiter = limiter
    return Connection


def _process_request(
    connection: ServerConnection, request: Request, *, health: WriteHealth, metrics: Metrics
) -> Response | None:
    refusal = refuse_over_cap(connection, request)
    return refusal if refusal is not None else process_request(connection, request, health=health, metrics=metrics)


def _connection_cap(max_connections: int) -> int:
    open_files = raise_open_file_limit()
    cap = connection_cap(max_connections, open_files)
    if cap < max_connections:
        log.warning(
            "--max-connections %d does not fit in the open-file limit of %d: taking at most %d",
            max_connections,
            open_files,
            cap,
        )
    return cap


async def serve_until_signalled(
    config: ServerConfig,
    *,
    prepare: Callable[[Store], Awaitable[object]] | None = None,
    on_ready: Callable[[RunningServer], object] | None = None,
) -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with run_server(config, prepare=prepare) as running:
        if on_ready is not None:
            on_ready(running)
        await stop.wait()
        log.info("shutting down")
