"""`lesbillets`: the terminal app's command line.

    lesbillets [URL] [--user EMAIL] [--bell]
                                        open the app (the last server used when URL is left out); URL may list
                                        several servers of one helpdesk, comma-separated, to fail over between
    lesbillets logout [URL]             forget the remembered session (every one when URL is left out)

Set LESBILLETS_PASSWORD to log in without typing the password (the demo launcher does); it is never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from lesbillets_tui.session_store import SessionStore
from protocol.client import connect
from protocol.errors import LesBilletsError

DEFAULT_COMMAND = "open"


class _DefaultCommandGroup(TyperGroup):
    """Runs ``open`` when the first argument is not a command, so ``lesbillets ws://…`` works."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # Any: typer's vendored click Context
        first = next(iter(args), None)
        if first not in self.commands and first not in ("--help", "-h", "--install-completion", "--show-completion"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_DefaultCommandGroup,
    help="Les Billets: the live ticket table, in your terminal.",
    add_completion=False,
    context_settings={"help_option_names": ["--help", "-h"]},
)


@app.command(DEFAULT_COMMAND)
def open_app(
    url: Annotated[
        str | None,
        typer.Argument(
            help="Server address, like ws://127.0.0.1:8765, or several comma-separated (default: the last one used)."
        ),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", "-u", help="Email to log in with.")] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="LESBILLETS_PASSWORD", hidden=True, show_envvar=False, help="Password (from the env)."),
    ] = None,
    msgpack: Annotated[bool, typer.Option("--msgpack", help="Talk MessagePack instead of JSON.")] = False,
    bell: Annotated[
        bool, typer.Option("--bell", envvar="LESBILLETS_BELL", help="Ring the terminal bell for new inbox items.")
    ] = False,
) -> None:
    """Open the app; a remembered session resumes without asking for a password."""
    from lesbillets_tui.app import LesBilletsApp  # Textual takes a moment to import; `logout` does without

    logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()])
    LesBilletsApp(
        url,
        email=user,
        password=password,
        store=SessionStore.default(),
        encoding="msgpack" if msgpack else "json",
        bell=bell,
    ).run()


@app.command()
def logout(
    url: Annotated[str | None, typer.Argument(help="Server whose session to forget (default: every one).")] = None,
) -> None:
    """Forget the remembered session token (and end it on the server when it can be reached)."""
    store = SessionStore.default()
    tokens = {saved_url: token for saved_url, token in store.tokens().items() if url is None or saved_url == url}
    for saved_url, token in tokens.items():
        asyncio.run(_end_session(saved_url, token))
    forgotten = store.forget_token(url)
    if forgotten:
        typer.echo(f"Forgot the session for {', '.join(forgotten)}.")
    else:
        typer.echo("No session was remembered" + (f" for {url}." if url else "."))


async def _end_session(url: str, token: str) -> None:
    """Best effort: a server that is down or already forgot the token is fine, the token is dropped anyway."""
    with contextlib.suppress(LesBilletsError, OSError, TimeoutError):
        async with asyncio.timeout(5), connect(url, reconnect=False, open_timeout=3, request_timeout=3) as client:
            await client.resume(token)
            await client.logout()
