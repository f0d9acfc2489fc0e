"""Scenario 8, the first load at scale (issue 9): login → first rows painted in the app, and the bytes of the whole
table, `GetRows` against today's `GetTickets` on the same server in the same run.

The app: the real `LesBilletsApp`, headless at 120 by 40 (stock asyncio loop), against a `bench.launch` project
server seeded with `tickets` tickets and `USERS` users. Timed from the call that starts the session (connect, then
`Login` with a password, argon2 included; or `Resume` with a saved token, as the app starts when it remembers the
agent) to the end of the first screen refresh that drew a ticket's row (the compositor frame headless Textual would
write to the terminal), and to the whole table in the model. The baseline is the same app whose link worker loads
the table with `GetTickets` (one `AllTickets`), as it did before issue 9; the runs alternate.

The bytes: a bare websocket client (the project's codec, no compression) sends `GetRows` and adds up the frames of
every page up to ``more: false``, then `GetTickets` and the one `AllTickets` frame, in JSON and MessagePack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rich.console import RenderableType
from textual import work
from textual.screen import Screen
from textual.strip import Strip
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from bench import seed
from bench.app import Probe
from bench.servers import launch
from bench.stats import median
from lesbillets_tui import app as app_module
from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import ServerEventReceived, SessionOpened, SnapshotReceived, UsersReceived
from lesbillets_tui.screens.login import LoginScreen
from lesbillets_tui.widgets.ticket_table import TicketTable
from protocol.client import connect
from protocol.codec import JSON, MSGPACK, Codec
from protocol.messages import AllTickets, GetRows, GetTickets, Resume, Rows, TicketEvent

_REPOSITORY: Final = Path(__file__).resolve().parents[1]
SIZE: Final = (120, 40)
USERS: Final = 20
WAIT_S: Final = 120.0


@dataclass(frozen=True, slots=True)
class LoadTimes:
    first_rows_s: float
    """Session started → first screen refresh showing ticket rows."""
    whole_s: float
    """Session started → every ticket in the model."""


@dataclass(frozen=True, slots=True)
class FirstLoadResult:
    tickets: int
    repeats: int
    login_rows: LoadTimes
    login_snapshot: LoadTimes
    resume_rows: LoadTimes
    resume_snapshot: LoadTimes
    rows_bytes: dict[str, int]
    """Encoding → bytes of every `Rows` page of one `GetRows`."""
    pages: int
    snapshot_bytes: dict[str, int]
    """Encoding → bytes of the one `AllTickets`."""
    first_page_s: float
    """JSON: `GetRows` sent → first page read (median)."""
    snapshot_s: float
    """JSON: `GetTickets` sent → `AllTickets` read (median)."""


class _ProbedApp(LesBilletsApp):
    """The app, with each screen refresh timed (as `bench.app.BenchApp`)."""

    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))  # Textual reads it beside the subclass

    def __init__(self, probe: Probe, tickets: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.probe = probe
        self.tickets = tickets
        self.whole_at: float | None = None
        self.whole = asyncio.Event()
        """Set at the first screen refresh with every ticket in the model."""

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        super()._display(screen, renderable)
        probe = self.probe
        now = time.perf_counter()
        if probe.painted and probe.first_display is None:
            probe.first_display = now
            probe.shown.set()
        model = self.desk.model
        if self.whole_at is None and model.loaded and model.total == self.tickets:
            self.whole_at = now
            self.whole.set()


class _SnapshotApp(_ProbedApp):
    """The baseline: the link worker loads the table with one `GetTickets`, as the app did before issue 9."""

    @work(exclusive=True, exit_on_error=False, group="link", name="link")
    async def run_link(self, url: str, email: str, password: str | None, token: str | None) -> None:
        async with connect(url, encoding=self.encoding) as client:
            welcome = await (client.resume(token) if token else client.login(email, password or ""))
            self.desk.client = client
            self.post_message(SessionOpened(url, welcome, email))
            self.post_message(UsersReceived(await client.get_users()))
            await client.get_tickets()
            async for item in client.events():
                if isinstance(item, AllTickets):
                    self.post_message(SnapshotReceived(item))
                elif isinstance(item, TicketEvent):
                    self.post_message(ServerEventReceived(item))


@contextmanager
def _rows_probed(probe: Probe) -> Iterator[None]:
    """Mark the probe when the ticket table draws a ticket's row (not its header, not "Loading…")."""
    original: Callable[[TicketTable, int], Strip] = TicketTable.render_line

    def render_line(table: TicketTable, y: int) -> Strip:
        strip = original(table, y)
        if y > 0 and round(table.scroll_y) + y - 1 < len(table.model):
            probe.painted = True
        return strip

    TicketTable.render_line = render_line  # type: ignore[method-assign]
    try:
        yield
    finally:
        TicketTable.render_line = original  # type: ignore[method-assign]


async def _load_once(url: str, tickets: int, *, rows: bool, resume: bool) -> LoadTimes:
    """One load in a fresh process, as an agent starting the app: no heap left over from the runs before."""
    command = [sys.executable, "-m", "bench.firstload", url, str(tickets), "rows" if rows else "snapshot"]
    if resume:
        command.append("--resume")
    child = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE, cwd=_REPOSITORY)
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the first-load app run failed ({child.returncode}); see its output above")
    first, whole = json.loads(out.decode().strip().splitlines()[-1])
    return LoadTimes(first, whole)


async def _load_here(url: str, tickets: int, *, rows: bool, resume: bool) -> LoadTimes:
    probe = Probe()
    kind = _ProbedApp if rows else _SnapshotApp
    app = kind(probe, tickets, url=url, autoconnect=False)
    with _rows_probed(probe):
        async with app.run_test(size=SIZE) as pilot:
            async with asyncio.timeout(WAIT_S):
                while not isinstance(app.screen, LoginScreen):
                    await pilot.pause()
            await pilot.pause()
            started = time.perf_counter()
            if resume:
                app.start_session(url, seed.email(0), token=seed.token(0))
            else:
                app.start_session(url, seed.email(0), password=seed.PASSWORD)
            first = await probe.first_paint() - started
            async with asyncio.timeout(WAIT_S):
                await app.whole.wait()
            assert app.whole_at is not None
            whole = app.whole_at - started
    return LoadTimes(first, whole)


async def _table_bytes(url: str, codec: Codec, repeats: int) -> tuple[int, int, int, list[float], list[float]]:
    """(bytes of all Rows pages, pages, bytes of AllTickets, first-page times, snapshot times)."""
    async with ws_connect(
        url, subprotocols=[Subprotocol(codec.subprotocol)], compression=None, max_size=None, ping_timeout=None
    ) as ws:
        await ws.send(codec.encode(Resume(rid=1, token=seed.token(0))), text=codec.text)
        await ws.recv(decode=False)
        rows_bytes = pages = snapshot_bytes = 0
        first_pages, snapshots = [], []
        rid = 2
        for _ in range(repeats):
            rid += 1
            started = time.perf_counter()
            await ws.send(codec.encode(GetRows(rid=rid)), text=codec.text)
            rows_bytes = pages = 0
            while True:
                frame = await ws.recv(decode=False)
                if not pages:
                    first_pages.append(time.perf_counter() - started)
                page = codec.decode_server(frame)
                assert isinstance(page, Rows), f"expected Rows, got {type(page).__name__}"
                rows_bytes += len(frame)
                pages += 1
                if not page.more:
                    break
            rid += 1
            started = time.perf_counter()
            await ws.send(codec.encode(GetTickets(rid=rid)), text=codec.text)
            frame = await ws.recv(decode=False)
            snapshots.append(time.perf_counter() - started)
            snapshot_bytes = len(frame)
            del frame
    return rows_bytes, pages, snapshot_bytes, first_pages, snapshots


def _median_times(runs: list[LoadTimes]) -> LoadTimes:
    return LoadTimes(median([r.first_rows_s for r in runs]), median([r.whole_s for r in runs]))


async def run_first_load(*, tickets: int, repeats: int) -> FirstLoadResult:
    with tempfile.TemporaryDirectory(prefix="bench-firstload-") as tmp:
        db = str(Path(tmp) / "firstload.db")
        async with launch("project", "--users", str(USERS), "--tickets", str(tickets), "--db", db) as server:
            times: dict[tuple[bool, bool], list[LoadTimes]] = {}
            for repeat in range(repeats):
                for resume in (False, True):
                    order = (True, False) if repeat % 2 == 0 else (False, True)
                    for rows in order:
                        times.setdefault((rows, resume), []).append(
                            await _load_once(server.url, tickets, rows=rows, resume=resume)
                        )
            sizes: dict[str, tuple[int, int, int, list[float], list[float]]] = {}
            for name, codec in (("JSON", JSON), ("MessagePack", MSGPACK)):
                sizes[name] = await _table_bytes(server.url, codec, repeats if codec is JSON else 1)
    _, pages, _, first_pages, snapshots = sizes["JSON"]
    return FirstLoadResult(
        tickets=tickets,
        repeats=repeats,
        login_rows=_median_times(times[(True, False)]),
        login_snapshot=_median_times(times[(False, False)]),
        resume_rows=_median_times(times[(True, True)]),
        resume_snapshot=_median_times(times[(False, True)]),
        rows_bytes={name: size[0] for name, size in sizes.items()},
        pages=pages,
        snapshot_bytes={name: size[2] for name, size in sizes.items()},
        first_page_s=median(first_pages),
        snapshot_s=median(snapshots),
    )


def main() -> None:
    """`python -m bench.firstload URL TICKETS rows|snapshot [--resume]`: one app load; prints [first, whole]."""
    parser = argparse.ArgumentParser(prog="python -m bench.firstload")
    parser.add_argument("url")
    parser.add_argument("tickets", type=int)
    parser.add_argument("kind", choices=("rows", "snapshot"))
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    times = asyncio.run(_load_here(args.url, args.tickets, rows=args.kind == "rows", resume=args.resume))
    print(json.dumps([times.first_rows_s, times.whole_s]))


if __name__ == "__main__":
    main()
