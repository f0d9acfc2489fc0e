"""Run one server for a bench, in its own process: `python -m bench.launch project|baseline [options]`.

Prints ``READY <url> <pid>`` on stdout once it listens, and stops when stdin closes or on SIGTERM/SIGINT, so it
never outlives the bench that started it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bench import seed
from bench.baseline import BaselineServer, run_baseline
from bench.experiments import EXPERIMENTS, apply
from lesbillets_server.app import run_server
from lesbillets_server.config import ServerConfig
from lesbillets_server.storage import Store

T = TypeVar("T")


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def run_loop(main: Callable[[], Awaitable[T]], *, use_uvloop: bool) -> T:
    """Run `main` on uvloop when asked (and installed), else on the stock asyncio loop."""
    if use_uvloop:
        import uvloop  # the optional `speed` extra

        return uvloop.run(main())  # type: ignore[arg-type]
    return asyncio.run(main())  # type: ignore[arg-type]


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.launch")
    parser.add_argument("kind", choices=("project", "baseline"))
    parser.add_argument("--users", type=int, default=0, help="seeded users, each with one open session")
    parser.add_argument("--tickets", type=int, default=0, help="seeded tickets")
    parser.add_argument("--db", default=":memory:", help="project: SQLite file or :memory:")
    parser.add_argument("--synchronous", choices=("normal", "full"), default="normal")
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument(
        "--experiment", action="append", default=[], choices=sorted(EXPERIMENTS), help="project: a what-if patch"
    )
    parser.add_argument("--welcome-size", type=int, default=300, help="baseline: bytes of the first reply")
    parser.add_argument("--event-sizes", type=_sizes, default=[], help="baseline: broadcast sizes, cycled")
    parser.add_argument("--reply-sizes", type=_sizes, default=[], help="baseline: reply sizes, cycled")
    return parser


async def _wait_for_stop() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def watch_stdin() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the bench closed our stdin or died
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    await stop.wait()


def _ready(url: str) -> None:
    import os

    print(f"READY {url} {os.getpid()}", flush=True)


async def _project(args: argparse.Namespace) -> None:
    config = ServerConfig(
        host="127.0.0.1",
        port=0,
        db=args.db,
        lock_ttl_s=3600.0,
        max_locks=1000,
        rate_per_s=1e9,
        rate_burst=1_000_000_000,
        create_rate_per_s=1e9,
        create_burst=1_000_000_000,
        search_share=1e9,  # the search scenario sends searches back to back
        change_rate_per_s=1e9,
        change_burst=1_000_000_000,
        max_connections=10_000,  # well above the largest fan-out
        max_connections_per_ip=1_000_000,  # every bench client comes from 127.0.0.1
        synchronous=args.synchronous,
    )

    async def prepare(store: Store) -> None:
        await seed.seed(store, users=args.users, tickets_count=args.tickets)

    async with run_server(config, prepare=prepare) as running:
        _ready(running.url)
        await _wait_for_stop()


async def _baseline(args: argparse.Namespace) -> None:
    server = BaselineServer(
        welcome_size=args.welcome_size,
        event_sizes=args.event_sizes,
        reply_sizes=args.reply_sizes,
        tickets=args.tickets,
        users=args.users,
    )
    async with run_baseline(server) as running:
        port = next(iter(running.sockets)).getsockname()[1]
        _ready(f"ws://127.0.0.1:{port}")
        await _wait_for_stop()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="server %(levelname)s %(name)s: %(message)s")
    raise_fd_limit()
    apply(args.experiment)
    run_loop(lambda: _project(args) if args.kind == "project" else _baseline(args), use_uvloop=args.uvloop)


if __name__ == "__main__":
    main()
