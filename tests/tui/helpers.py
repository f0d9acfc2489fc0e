"""Driving the app with Textual's pilot against a real server, and a scripted second agent."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from rich.console import Console
from textual._compositor import LayoutUpdate
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import RowsReceived, SnapshotReceived
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.session_store import SessionStore
from lesbillets_tui.timefmt import Clock, utc_now
from lesbillets_tui.widgets.ticket_table import TicketTable
from protocol.client import Client, ClientEvent, connect
from protocol.messages import AllTickets
from tests.support import ALICE, Agent, ServerHarness

TIMEOUT = 10.0
SIZE = (120, 36)


async def until(pilot: Pilot[Any], condition: Callable[[], object], what: str = "", within: float = TIMEOUT) -> None:
    """Let the app process messages until ``condition()`` holds; fail after ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while not condition():
                await pilot.pause(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what or condition}") from None


class Recorder:
    """Keeps the notifications the app shows and the snapshots and pages of rows it loads (through run_test's
    message hook)."""

    def __init__(self) -> None:
        self.notifications: list[str] = []
        self.snapshots: list[AllTickets] = []
        self.pages: list[RowsReceived] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.notifications.append(message.notification.message)
        elif isinstance(message, SnapshotReceived):
            self.snapshots.append(message.snapshot)
        elif isinstance(message, RowsReceived):
            self.pages.append(message)


@asynccontextmanager
async def running_app(
    server: ServerHarness,
    agent: Agent = ALICE,
    *,
    store: SessionStore | None = None,
    size: tuple[int, int] = SIZE,
    now: Clock = utc_now,
) -> AsyncIterator[tuple[LesBilletsApp, Pilot[None], Recorder]]:
    """The app, logged in as ``agent`` (by the CLI's --user and LESBILLETS_PASSWORD path), with its first snapshot."""
    app = LesBilletsApp(server.url, email=agent.email, password=agent.password, store=store, now=now)
    recorder = Recorder()
    async with app.run_test(size=size, message_hook=recorder) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TicketsScreen) and app.synced, "the first snapshot")
        yield app, pilot, recorder


@asynccontextmanager
async def scripted_agent(server: ServerHarness, agent: Agent) -> AsyncIterator[Client]:
    """A second agent driven by the protocol client, as a colleague at another terminal."""
    async with connect(server.url) as client:
        await client.login(agent.email, agent.password)
        await client.get_tickets()  # start its event stream from a snapshot
        yield client


def table(app: LesBilletsApp) -> TicketTable:
    assert app.tickets_screen is not None
    return app.tickets_screen.query_one(TicketTable)


def screen_lines(app: LesBilletsApp) -> list[str]:
    """The table's rendered lines in view (header first), as text."""
    widget = table(app)
    return [widget.render_line(y).text for y in range(widget.size.height)]


def row_text(app: LesBilletsApp, title: str) -> str:
    """The rendered line of the row whose title starts with ``title`` ("" when it is not in view)."""
    return next((line for line in screen_lines(app)[1:] if f" {title}" in line), "")


def terminal_output(app: LesBilletsApp) -> tuple[str, str]:
    """The whole screen as the terminal would get it: (its text, the raw bytes with escape sequences).

    Built the way Textual's own screenshot is (the screen's compositor, every screen in view), so it holds
    exactly the characters a real terminal would be sent.
    """
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    assert isinstance(update, LayoutUpdate)
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, color_system="truecolor")
    text = "\n".join("".join(strip.text for strip in line) for line in update.strips)
    return text, update.render_segments(console)


T = TypeVar("T")


async def next_of(stream: AsyncIterator[ClientEvent], kind: type[T]) -> T:
    """The scripted agent's next event of ``kind`` (skipping others)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            item = await anext(stream)
            if isinstance(item, kind):
                return item
