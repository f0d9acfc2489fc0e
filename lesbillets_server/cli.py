"""`lesbillets-server`: run the server and administer its users."""

from __future__ import annotations

import asyncio
import enum
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from lesbillets_server.app import RunningServer, serve_until_signalled
from lesbillets_server.auth import (
    add_user,
    checked_email,
    checked_name,
    checked_password,
    disable_user,
    set_password,
)
from lesbillets_server.config import ServerConfig, default_db_path
from lesbillets_server.demo import seed_demo
from lesbillets_server.errors import LesBilletsServerError, UserAdminError
from lesbillets_server.storage import Store, open_store
from protocol.messages import Role, User

T = TypeVar("T")

app = typer.Typer(help="Les Billets server: live ticket table for terminal agents.", no_args_is_help=True)
user_app = typer.Typer(help="Manage the users who may log in.", no_args_is_help=True)
app.add_typer(user_app, name="user")

_DEFAULTS = ServerConfig()
_DEFAULT_DB = str(default_db_path())


class Synchronous(enum.StrEnum):
    NORMAL = "normal"
    FULL = "full"


class LogLevel(enum.StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


DbOption = Annotated[
    str,
    typer.Option("--db", envvar="LESBILLETS_DB", help="SQLite database file, or :memory: to keep nothing."),
]


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="LESBILLETS_HOST", help="Address to listen on.")] = _DEFAULTS.host,
    port: Annotated[int, typer.Option(envvar="LESBILLETS_PORT", min=0, max=65535, help="0 picks a free port.")] = (
        _DEFAULTS.port
    ),
    db: DbOption = _DEFAULT_DB,
    lock_ttl: Annotated[
        float, typer.Option(envvar="LESBILLETS_LOCK_TTL", min=1, help="Seconds a lock lasts without renewal.")
    ] = _DEFAULTS.lock_ttl_s,
    lock_grace: Annotated[
        float, typer.Option(envvar="LESBILLETS_LOCK_GRACE", min=0, help="Seconds a dropped session keeps its locks.")
    ] = _DEFAULTS.lock_grace_s,
    max_locks: Annotated[
        int, typer.Option(envvar="LESBILLETS_MAX_LOCKS", min=1, help="Locks one user may hold at once.")
    ] = _DEFAULTS.max_locks,
    max_message: Annotated[
        int, typer.Option(envvar="LESBILLETS_MAX_MESSAGE", min=1024, help="Largest frame in bytes (then 1009).")
    ] = _DEFAULTS.max_message,
    rate_limit: Annotated[
        float, typer.Option(envvar="LESBILLETS_RATE_LIMIT", min=1, help="Requests per second per connection.")
    ] = _DEFAULTS.rate_per_s,
    rate_burst: Annotated[
        int, typer.Option(envvar="LESBILLETS_RATE_BURST", min=1, help="Requests at once before rate_limited.")
    ] = _DEFAULTS.rate_burst,
    log_retention: Annotated[
        float,
        typer.Option(
            envvar="LESBILLETS_LOG_RETENTION", min=0.01, help="Days the event log keeps events (resume, history)."
        ),
    ] = _DEFAULTS.log_retention_days,
    login_address_limit: Annotated[
        int,
        typer.Option(
            envvar="LESBILLETS_LOGIN_ADDRESS_LIMIT", min=1, help="Failed logins per address at once, then per minute."
        ),
    ] = _DEFAULTS.login_address_limit,
    login_account_limit: Annotated[
        int,
        typer.Option(
            envvar="LESBILLETS_LOGIN_ACCOUNT_LIMIT",
            min=1,
            help="Failed logins per account at once, then per hour, from addresses it never logged in from.",
        ),
    ] = _DEFAULTS.login_account_limit,
    login_workers: Annotated[
        int, typer.Option(envvar="LESBILLETS_LOGIN_WORKERS", min=1, help="Password checks running at once.")
    ] = _DEFAULTS.login_workers,
    login_queue: Annotated[
        int,
        typer.Option(envvar="LESBILLETS_LOGIN_QUEUE", min=0, help="Logins waiting for a check before rate_limited."),
    ] = _DEFAULTS.login_queue,
    create_rate: Annotated[
        float, typer.Option(envvar="LESBILLETS_CREATE_RATE", min=0.01, help="New tickets per second per user.")
    ] = _DEFAULTS.create_rate_per_s,
    create_burst: Annotated[
        int, typer.Option(envvar="LESBILLETS_CREATE_BURST", min=1, help="New tickets at once per user.")
    ] = _DEFAULTS.create_burst,
    search_share: Annotated[
        float,
        typer.Option(envvar="LESBILLETS_SEARCH_SHARE", min=0.001, help="Seconds of search time per second per user."),
    ] = _DEFAULTS.search_share,
    read_share: Annotated[
        float,
        typer.Option(
            envvar="LESBILLETS_READ_SHARE",
            min=0.001,
            help="Seconds per second per user for reading histories, ticket details and the inbox.",
        ),
    ] = _DEFAULTS.read_share,
    search_timeout: Annotated[
        float,
        typer.Option(envvar="LESBILLETS_SEARCH_TIMEOUT", min=0.01, help="Seconds the database may spend on a search."),
    ] = _DEFAULTS.search_timeout_s,
    comment_rate: Annotated[
        float, typer.Option(envvar="LESBILLETS_COMMENT_RATE", min=0.01, help="Comments per second per user.")
    ] = _DEFAULTS.comment_rate_per_s,
    comment_burst: Annotated[
        int, typer.Option(envvar="LESBILLETS_COMMENT_BURST", min=1, help="Comments at once per user.")
    ] = _DEFAULTS.comment_burst,
    change_rate: Annotated[
        float,
        typer.Option(envvar="LESBILLETS_CHANGE_RATE", min=0.01, help="Quick changes (tickets) per second per user."),
    ] = _DEFAULTS.change_rate_per_s,
    change_burst: Annotated[
        int, typer.Option(envvar="LESBILLETS_CHANGE_BURST", min=1, help="Quick changes (tickets) at once per user.")
    ] = _DEFAULTS.change_burst,
    max_snapshots: Annotated[
        int, typer.Option(envvar="LESBILLETS_MAX_SNAPSHOTS", min=1, help="Snapshots encoded or sent at once.")
    ] = _DEFAULTS.max_snapshots,
    max_connections: Annotated[
        int, typer.Option(envvar="LESBILLETS_MAX_CONNECTIONS", min=1, help="Open connections (then HTTP 503).")
    ] = _DEFAULTS.max_connections,
    max_connections_per_ip: Annotated[
        int,
        typer.Option(envvar="LESBILLETS_MAX_CONNECTIONS_PER_IP", min=1, help="Open connections per address."),
    ] = _DEFAULTS.max_connections_per_ip,
    login_timeout: Annotated[
        float, typer.Option(envvar="LESBILLETS_LOGIN_TIMEOUT", min=0.1, help="Seconds to log in (then 4001).")
    ] = _DEFAULTS.login_timeout_s,
    keepalive: Annotated[
        float,
        typer.Option(
            envvar="LESBILLETS_KEEPALIVE",
            min=0.2,
            help="Seconds a connection may go without answering a ping before it is closed.",
        ),
    ] = _DEFAULTS.keepalive_s,
    synchronous: Annotated[
        Synchronous,
        typer.Option(
            envvar="LESBILLETS_SYNCHRONOUS", help="normal: survives a server crash; full: also a power cut (slower)."
        ),
    ] = Synchronous.NORMAL,
    log_level: Annotated[LogLevel, typer.Option(envvar="LESBILLETS_LOG_LEVEL", case_sensitive=False)] = LogLevel.INFO,
    certfile: Annotated[
        Path | None, typer.Option(envvar="LESBILLETS_CERTFILE", exists=True, dir_okay=False, help="TLS (wss).")
    ] = None,
    keyfile: Annotated[
        Path | None, typer.Option(envvar="LESBILLETS_KEYFILE", exists=True, dir_okay=False, help="TLS key.")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", envvar="LESBILLETS_DEMO", help="Seed demo users and tickets if empty.")
    ] = False,
) -> None:
    """Serve the live ticket table over websockets (with /healthz, /docs and /schema.json)."""
    logging.basicConfig(
        level=log_level.value.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if keyfile is not None and certfile is None:
        raise _fail("--keyfile needs --certfile.")
    config = ServerConfig(
        host=host,
        port=port,
        db=db,
        lock_ttl_s=lock_ttl,
        lock_grace_s=lock_grace,
        max_locks=max_locks,
        max_message=max_message,
        rate_per_s=rate_limit,
        rate_burst=rate_burst,
        log_retention_days=log_retention,
        login_address_limit=login_address_limit,
        login_account_limit=login_account_limit,
        login_workers=login_workers,
        login_queue=login_queue,
        create_rate_per_s=create_rate,
        create_burst=create_burst,
        search_share=search_share,
        read_share=read_share,
        search_timeout_s=search_timeout,
        comment_rate_per_s=comment_rate,
        comment_burst=comment_burst,
        change_rate_per_s=change_rate,
        change_burst=change_burst,
        max_snapshots=max_snapshots,
        max_connections=max_connections,
        max_connections_per_ip=max_connections_per_ip,
        login_timeout_s=login_timeout,
        keepalive_s=keepalive,
        synchronous=synchronous.value,
        certfile=certfile,
        keyfile=keyfile,
    )

    def ready(running: RunningServer) -> None:
        where = running.service.store.where  # a URL without its password
        typer.echo(f"Les Billets serving on {running.url} (database {where}). Ctrl+C stops.", err=True)

    async def prepare(store: Store) -> None:
        _print_demo(await seed_demo(store))

    try:
        _run(serve_until_signalled(config, prepare=prepare if demo else None, on_ready=ready))
    except OSError as exc:
        raise _fail(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from None
    except LesBilletsServerError as exc:
        raise _fail(str(exc)) from None


def _run(main: Coroutine[None, None, None]) -> None:
    """On uvloop when the `speed` extra is installed (+13-23 % durable writes in bench/RESULTS.md), else asyncio."""
    run: Callable[[Coroutine[None, None, None]], None] = asyncio.run
    try:
        import uvloop
    except ImportError:
        pass  # run outside this block: every later traceback would say "No module named 'uvloop'"
    else:
        run = uvloop.run
    run(main)


def _print_demo(users: list[tuple[User, str]] | None) -> None:
    if not users:
        typer.echo("Database not empty: demo data not added.", err=True)
        return
    typer.echo("Demo users (email / password):", err=True)
    for user, password in users:
        typer.echo(f"  {user.email} / {password}  ({user.role.value})", err=True)


def _with_store(db: str, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run one piece of user administration on the database; errors become a sentence and exit code 1."""

    async def main() -> T:
        try:
            store = await open_store(db, log_failures=False)  # a failure is printed as the command's own sentence
        except LesBilletsServerError as exc:
            raise _fail(str(exc)) from None
        try:
            return await work(store)
        except LesBilletsServerError as exc:
            raise _fail(str(exc)) from None
        finally:
            await store.close()

    return asyncio.run(main())


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return _checked(checked_password, password)


def _checked(rule: Callable[[str], str], text: str) -> str:
    """`text` as the rule shared with the admin requests keeps it, or the rule's sentence and exit code 1."""
    try:
        return rule(text)
    except UserAdminError as exc:
        raise _fail(str(exc)) from None


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


@user_app.command("add")
def user_add(
    email: str,
    name: Annotated[str, typer.Option(help="The name other agents see.")],
    admin: Annotated[bool, typer.Option("--admin", help="May force locks open.")] = False,
    password_stdin: PasswordStdin = False,
    db: DbOption = _DEFAULT_DB,
) -> None:
    """Add a user who may log in."""
    email, name = _checked(checked_email, email), _checked(checked_name, name)  # before asking for a password
    password = _read_password(password_stdin)
    role = Role.ADMIN if admin else Role.AGENT
    user = _with_store(db, lambda store: add_user(store, email, name, password, role))
    typer.echo(f"Added {user.email} ({user.role.value}).")


@user_app.command("list")
def user_list(db: DbOption = _DEFAULT_DB) -> None:
    """List the users."""
    records = _with_store(db, lambda store: store.list_users())
    if not records:
        typer.echo("No users yet: add one with `lesbillets-server user add`.")
    for record in records:
        state = "disabled" if record.disabled else "active"
        typer.echo(f"{record.user.email:32} {record.user.name:24} {record.user.role.value:6} {state}")


@user_app.command("passwd")
def user_passwd(email: str, password_stdin: PasswordStdin = False, db: DbOption = _DEFAULT_DB) -> None:
    """Set a user's password (their sessions end, also on open connections)."""
    password = _read_password(password_stdin)
    _with_store(db, lambda store: set_password(store, email, password))
    typer.echo(f"Password changed for {email}; their sessions have ended.")


@user_app.command("disable")
def user_disable(email: str, db: DbOption = _DEFAULT_DB) -> None:
    """Stop a user from logging in (their sessions end, also on open connections)."""
    _with_store(db, lambda store: disable_user(store, email))
    typer.echo(f"Disabled {email}; their sessions have ended.")
