"""`python -m bench`: run every scenario, print one summary table, write bench/RESULTS.md.

    python -m bench                                  # everything, defaults (~6 min on 2 cores)
    python -m bench --only fanout,writes --clients 100,1000 --duration 4
    python -m bench --only hostile --attacks login-flood,guessing --hostile-scale 0.25
    python -m bench --only search                    # search alone (~1 min): 100k tickets, 300k comments
    python -m bench --only search --search-engines sqlite,postgresql
    python -m bench --profile                        # py-spy the server under fan-out and writes

RESULTS.md is rewritten only by a full run (no --only), so a partial run never hides the latest full numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bench.fanout import run_fanout
from bench.hostile import ATTACKS
from bench.hostile_server import NOFILE
from bench.launch import raise_fd_limit
from bench.profile import summarise
from bench.report import RESULTS, Row, text_table, write_results
from bench.sections import HAVE_UVLOOP, SCENARIOS, SECTIONS, fanout_line, warm_up, writes_line
from bench.writes import run_writes

T = TypeVar("T")


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--clients", type=_ints, default=[100, 1000], help="fan-out sizes; the largest is memory's")
    parser.add_argument("--agents", type=int, default=50, help="concurrent agents in the writes scenario")
    parser.add_argument(
        "--tickets", type=int, default=100_000, help="tickets in the snapshot scenario and the hoarders'"
    )
    parser.add_argument("--app-tickets", type=_ints, default=[10_000, 100_000], help="table sizes in the app scenario")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of each throughput measurement")
    parser.add_argument("--latency-duration", type=float, default=2.0, help="seconds of each fan-out latency phase")
    parser.add_argument("--window", type=int, default=16, help="fan-out: events in flight in the throughput phase")
    parser.add_argument("--repeats", type=int, default=2, help="fan-out runs per configuration (alternating)")
    parser.add_argument("--attacks", default=",".join(ATTACKS), help=f"hostile: a subset of {','.join(ATTACKS)}")
    parser.add_argument("--hostile-scale", type=float, default=1.0, help="hostile: scales the attackers' sizes")
    parser.add_argument("--search-tickets", type=int, default=100_000, help="search: tickets seeded")
    parser.add_argument("--search-comments", type=int, default=300_000, help="search: comments seeded")
    parser.add_argument("--search-repeats", type=int, default=60, help="search: times each query is sent")
    parser.add_argument(
        "--search-engines", default="sqlite", help="search: sqlite, postgresql (on --pg), or both, comma-separated"
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test", help="search: PostgreSQL server")
    parser.add_argument("--no-uvloop", action="store_true", help="skip the uvloop variants")
    parser.add_argument("--profile", action="store_true", help="profile the server with py-spy instead")
    parser.add_argument("--profile-dir", type=Path, default=Path(tempfile.gettempdir()) / "lesbillets-profiles")
    return parser


def _client_loop(main: Callable[[], Awaitable[T]]) -> T:
    """Clients run on uvloop when it is installed: cheaper clients leave the measured server as the bottleneck."""
    if HAVE_UVLOOP:
        import uvloop

        return uvloop.run(main())  # type: ignore[arg-type]
    return asyncio.run(main())  # type: ignore[arg-type]


# --- the machine's other load, so a noisy run says so ----------------------------------------------------------


def _busy_jiffies() -> tuple[int, int]:
    """(busy, steal) CPU jiffies of the whole machine since boot."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq, steal


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


# --- profile ---------------------------------------------------------------------------------------------------


async def profile(args: argparse.Namespace) -> None:
    """Run fan-out (largest size) and durable writes with the server under py-spy; print where its time goes."""
    args.profile_dir.mkdir(parents=True, exist_ok=True)
    await warm_up()
    clients = max(args.clients)
    fan = args.profile_dir / f"fanout-{clients}.txt"
    result = await run_fanout(
        "project", clients=clients, seconds=args.duration * 2, latency_seconds=1.0, window=args.window, profile_to=fan
    )
    print(fanout_line(result, False))
    wr = args.profile_dir / f"writes-{args.agents}.txt"
    written = await run_writes(agents=args.agents, seconds=args.duration * 2, db="file", profile_to=wr)
    print(writes_line(written, False))
    for path in (fan, wr):
        print()
        print(summarise(path))


# --- main ------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    raise_fd_limit()
    if args.profile:
        if not (Path(sys.executable).parent / "py-spy").exists():
            print("py-spy is not installed in this environment: `pip install py-spy`, then try again.", file=sys.stderr)
            return 1
        _client_loop(lambda: profile(args))
        print(f"\nRaw profiles (collapsed stacks) are in {args.profile_dir}.")
        return 0
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(SCENARIOS))
    if unknown:
        print(f"Unknown scenario(s): {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}.", file=sys.stderr)
        return 2
    unknown = sorted({name.strip() for name in args.attacks.split(",") if name.strip()} - set(ATTACKS))
    if unknown:
        print(f"Unknown attack(s): {', '.join(unknown)}; choose from {', '.join(ATTACKS)}.", file=sys.stderr)
        return 2
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    started = dt.datetime.now(dt.UTC)
    wall = time.perf_counter()
    load_before = os.getloadavg()[0]
    busy_before, steal_before = _busy_jiffies()
    own_before = _own_cpu_s()
    rows: list[Row] = []
    details: list[str] = []
    for name in SCENARIOS:
        if name not in only:
            continue
        print(f"bench: {name}…", file=sys.stderr, flush=True)
        section = SECTIONS[name]
        try:
            if name in ("app", "firstload"):  # Textual wants the stock loop
                rows += asyncio.run(section(args, details))  # type: ignore[arg-type]
            else:
                rows += _client_loop(lambda section=section: section(args, details))  # type: ignore[misc]
        except Exception as exc:
            details.append(f"{name}: FAILED {type(exc).__name__}: {exc}")
            traceback.print_exc()
            rows.append(Row(f"{name}: failed ({type(exc).__name__}), see the details", "s", None))
        print("\n".join(details[-4:]), file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - wall
    busy_after, steal_after = _busy_jiffies()
    ticks, cores = os.sysconf("SC_CLK_TCK"), os.cpu_count() or 1
    others = max(0.0, (busy_after - busy_before) / ticks - (_own_cpu_s() - own_before)) / (elapsed * cores)
    notes = [
        f"clients: one process on {'uvloop' if HAVE_UVLOOP else 'asyncio'}, raw websocket frames"
        " (bench/wsclient.py); servers: one process each, `python -m bench.launch`",
        f"fan-out: best of {args.repeats} alternating runs for events/s, latencies pooled; window {args.window};"
        f" {args.duration:g} s throughput + {args.latency_duration:g} s latency phases",
        f"machine load: load average {load_before:.2f} at start; other processes used {others:.0%} of the machine's"
        f" CPU during the run; steal {(steal_after - steal_before) / ticks / (elapsed * cores):.0%}",
    ]
    if "hostile" in only:
        notes.append(
            "hostile: a fresh `lesbillets-server serve` per attack with its default limits and an open-file limit"
            f" of {NOFILE}; each attacker is its own process on its own loopback address; attack sizes"
            f" scaled by {args.hostile_scale:g}"
        )
    print()
    print(text_table(rows))
    print()
    print("\n".join(notes))
    if set(only) == set(SCENARIOS):
        path = write_results(rows, details, command=command, started=started, elapsed_s=elapsed, notes=notes)
        print(f"\nWrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}.")
    else:
        print(f"\nPartial run (--only): {RESULTS.name} left as it was.")
    print(f"Took {elapsed / 60:.1f} min.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
