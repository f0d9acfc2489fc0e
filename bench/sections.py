"""The scenarios as `python -m bench` runs them: each returns its summary rows and appends its run lines."""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

from bench import app as app_bench
from bench.fanout import FanoutResult, run_fanout
from bench.firstload import run_first_load
from bench.hostile import hostile
from bench.memory import MemoryResult, run_memory
from bench.report import Row, Target
from bench.search import run_search
from bench.snapshot import run_snapshot
from bench.stats import median, percentile
from bench.writes import WritesResult, run_writes

HAVE_UVLOOP: Final = importlib.util.find_spec("uvloop") is not None
"""uvloop is the optional `speed` extra; without it every run is on the stock asyncio loop."""

SCENARIOS: Final = ("fanout", "writes", "snapshot", "memory", "whatif", "app", "firstload", "hostile", "search")


def _loops(args: argparse.Namespace) -> list[bool]:
    return [False] if args.no_uvloop or not HAVE_UVLOOP else [False, True]


def _tag(use_uvloop: bool) -> str:
    return " [uvloop]" if use_uvloop else ""


async def warm_up() -> None:
    # On this kind of machine the first server run of a process measured about half speed, whatever the server;
    # one throwaway run takes that out of the numbers.
    await run_fanout("baseline", clients=10, seconds=0.3, latency_seconds=0.2, window=4)


def fanout_line(result: FanoutResult, use_uvloop: bool) -> str:
    return (
        f"fanout {result.server:8}{_tag(use_uvloop):9} clients={result.clients:5} "
        f"events/s={result.events_per_s:9,.0f} p50={result.p50_ms:6.2f}ms p99={result.p99_ms:6.2f}ms "
        f"(n={result.latency_samples}) loaded-p99={result.loaded_p99_ms:6.2f}ms "
        f"server-cpu={result.server_cpu:4.0%} client-cpu={result.client_cpu:4.0%} others={result.others_cpu:4.0%} "
        f"unexpected={result.unexpected}"
    )


async def fanout(args: argparse.Namespace, details: list[str]) -> list[Row]:
    await warm_up()
    rows: list[Row] = []
    best: dict[tuple[str, int, bool], float] = {}
    for use_uvloop in _loops(args):
        for clients in args.clients:
            runs: dict[str, list[FanoutResult]] = {"project": [], "baseline": []}
            for repeat in range(args.repeats):
                order = ("project", "baseline") if repeat % 2 == 0 else ("baseline", "project")
                for kind in order:
                    result = await run_fanout(
                        kind,
                        clients=clients,
                        seconds=args.duration,
                        latency_seconds=args.latency_duration,
                        window=args.window,
                        use_uvloop=use_uvloop,
                    )
                    runs[kind].append(result)
                    details.append(fanout_line(result, use_uvloop))
            rate = {kind: max(r.events_per_s for r in results) for kind, results in runs.items()}
            # the client process shares the machine, so events/s alone can hide what the server spends
            cpu_per_million = {
                kind: min(r.server_cpu / r.events_per_s * 1e6 for r in results) for kind, results in runs.items()
            }
            pooled = {kind: [x for r in results for x in r.latencies_ms] for kind, results in runs.items()}
            best.update({(kind, clients, use_uvloop): value for kind, value in rate.items()})
            big = clients == max(args.clients)
            label = f"fan-out {clients:,} clients{_tag(use_uvloop)}"
            rows += [
                Row(
                    f"{label}: events delivered/s (vs bare broadcast)",
                    "events/s",
                    rate["project"],
                    rate["baseline"],
                    Target("ratio", ">=", 0.9, "≥ 0.9 of baseline") if big else None,
                ),
                Row(
                    f"{label}: server CPU seconds per million deliveries (vs bare broadcast)",
                    "s",
                    cpu_per_million["project"],
                    cpu_per_million["baseline"],
                ),
                Row(
                    f"{label}: change → last client, p50 (vs bare broadcast)",
                    "ms",
                    percentile(pooled["project"], 50),
                    percentile(pooled["baseline"], 50),
                ),
                Row(
                    f"{label}: change → last client, p99 (vs bare broadcast)",
                    "ms",
                    percentile(pooled["project"], 99),
                    percentile(pooled["baseline"], 99),
                    Target("project", "<", 100, "< 100 ms") if big else None,
                ),
            ]
    if len(_loops(args)) == 2:
        clients = max(args.clients)
        rows.append(
            Row(
                f"fan-out {clients:,} clients: uvloop gain (project on uvloop vs on asyncio)",
                "events/s",
                best[("project", clients, True)],
                best[("project", clients, False)],
            )
        )
    return rows


def writes_line(result: WritesResult, use_uvloop: bool) -> str:
    return (
        f"writes {result.db:15}{_tag(use_uvloop):9} agents={result.agents} ops/s={result.ops_per_s:8,.0f} "
        f"p50={result.p50_ms:6.2f}ms p99={result.p99_ms:6.2f}ms ops={result.ops} "
        f"server-cpu={result.server_cpu:4.0%} client-cpu={result.client_cpu:4.0%} others={result.others_cpu:4.0%}"
    )


async def writes(args: argparse.Namespace, details: list[str]) -> list[Row]:
    rows: list[Row] = []
    normal: dict[bool, WritesResult] = {}
    for use_uvloop in _loops(args):
        durable = await run_writes(agents=args.agents, seconds=args.duration, db="file", use_uvloop=use_uvloop)
        memory = await run_writes(agents=args.agents, seconds=args.duration, db=":memory:", use_uvloop=use_uvloop)
        echo = await run_writes(agents=args.agents, seconds=args.duration, db="echo", use_uvloop=use_uvloop)
        normal[use_uvloop] = durable
        details += [writes_line(durable, use_uvloop), writes_line(memory, use_uvloop), writes_line(echo, use_uvloop)]
        label = f"durable writes, {args.agents} agents{_tag(use_uvloop)}"
        rows += [
            Row(
                f"{label}: ops/s (vs :memory:)",
                "ops/s",
                durable.ops_per_s,
                memory.ops_per_s,
                Target("project", ">=", 5000, "≥ 5,000 ops/s"),
            ),
            Row(f"{label}: reply p99 (vs :memory:)", "ms", durable.p99_ms, memory.p99_ms),
            Row(f"{label}: ops/s (vs bare request/reply echo server)", "ops/s", durable.ops_per_s, echo.ops_per_s),
        ]
    full = await run_writes(agents=args.agents, seconds=args.duration, db="file", synchronous="full")
    details.append(writes_line(full, False))
    rows.append(
        Row(
            f"durable writes, {args.agents} agents: synchronous=full (vs normal)",
            "ops/s",
            full.ops_per_s,
            normal[False].ops_per_s,
        )
    )
    return rows


async def snapshot(args: argparse.Namespace, details: list[str]) -> list[Row]:
    project = await run_snapshot("project", tickets=args.tickets, repeats=3)
    baseline = await run_snapshot("baseline", tickets=args.tickets, repeats=3)
    rows: list[Row] = []
    for mine, theirs in zip(project, baseline, strict=True):
        for result in (mine, theirs):
            details.append(
                f"snapshot {result.server:8} {result.encoding:11} tickets={result.tickets} bytes={result.bytes:,} "
                f"total={result.total_s:.3f}s (transfer {result.transfer_s:.3f}s + decode {result.decode_s:.3f}s)"
            )
        label = f"snapshot {args.tickets:,} tickets, {mine.encoding}"
        rows += [
            Row(
                f"{label}: GetTickets → decoded (vs pre-encoded)",
                "s",
                mine.total_s,
                theirs.total_s,
                Target("project", "<", 1.0, "< 1 s"),
            ),
            Row(f"{label}: bytes on the wire", "MB", mine.bytes / 1e6, theirs.bytes / 1e6),
        ]
    return rows


async def memory(args: argparse.Namespace, details: list[str]) -> list[Row]:
    connections = max(args.clients)
    rows: list[Row] = []
    for use_uvloop in _loops(args):
        results: dict[str, MemoryResult] = {}
        for kind in ("project", "baseline"):
            results[kind] = result = await run_memory(kind, connections=connections, use_uvloop=use_uvloop)
            details.append(
                f"memory {kind:8}{_tag(use_uvloop):9} connections={connections} rss {result.rss_before / 2**20:.1f}"
                f" → {result.rss_after / 2**20:.1f} MiB = {result.per_connection / 1024:.1f} KiB per connection"
            )
        rows.append(
            Row(
                f"memory per idle logged-in connection, {connections:,}{_tag(use_uvloop)}",
                "KiB",
                results["project"].per_connection / 1024,
                results["baseline"].per_connection / 1024,
                Target("project", "<=", 32, "≤ 32 KiB"),
            )
        )
    return rows


async def whatif(args: argparse.Namespace, details: list[str]) -> list[Row]:
    """What an adopted optimisation gained: the server as it is against bench/experiments.py's undoing of it."""
    rows: list[Row] = []
    combined = await run_writes(agents=args.agents, seconds=args.duration, db="file")
    per_frame = await run_writes(agents=args.agents, seconds=args.duration, db="file", experiments=["per-frame-writes"])
    details += [writes_line(combined, False) + " as-is", writes_line(per_frame, False) + " per-frame-writes"]
    rows += [
        Row(
            f"gain of write combining: durable writes, {args.agents} agents (vs one write per frame)",
            "ops/s",
            combined.ops_per_s,
            per_frame.ops_per_s,
        ),
        Row(
            "gain of write combining: durable writes reply p99 (vs one write per frame)",
            "ms",
            combined.p99_ms,
            per_frame.p99_ms,
        ),
    ]
    clients = max(args.clients)
    names = ["as-is", "per-frame-writes"]
    fanouts: dict[str, list[FanoutResult]] = {name: [] for name in names}
    for repeat in range(args.repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            result = await run_fanout(
                "project",
                clients=clients,
                seconds=args.duration,
                latency_seconds=args.latency_duration,
                window=args.window,
                experiments=[] if name == "as-is" else [name],
            )
            fanouts[name].append(result)
            details.append(fanout_line(result, False) + f" {name}")
    rate = {name: max(result.events_per_s for result in results) for name, results in fanouts.items()}
    rows.append(
        Row(
            f"gain of write combining: fan-out {clients:,} clients (vs one write per frame)",
            "events/s",
            rate["as-is"],
            rate["per-frame-writes"],
        )
    )
    return rows


async def app(args: argparse.Namespace, details: list[str]) -> list[Row]:
    missing = app_bench.ticket_table_available()
    if missing is not None:
        details.append(f"app: not measured, the TicketTable widget cannot be imported ({missing})")
        return [Row("app: not measured (widget missing)", "s", None)]
    rows: list[Row] = []
    repaints = 60
    datatable_10k_s: float | None = None
    for count in args.app_tickets:
        tickets = app_bench.make_tickets(count)
        mine = await app_bench.measure_ticket_table(tickets, repaints)
        theirs = None
        note = ""
        predicted = None if datatable_10k_s is None else datatable_10k_s * count / 10_000
        if predicted is None or predicted <= app_bench.DATATABLE_BUDGET_S:
            theirs = await app_bench.measure_data_table(tickets, repaints)
            if count == 10_000:
                datatable_10k_s = theirs.first_paint_s
        for result in (mine, theirs):
            if result is not None:
                details.append(
                    f"app {result.widget:11} tickets={count:7} first-paint={result.first_paint_s:.3f}s "
                    f"repaint p50={median(result.repaint_ms):.1f}ms p95={percentile(result.repaint_ms, 95):.1f}ms "
                    f"max={max(result.repaint_ms):.1f}ms "
                    f"(n={len(result.repaint_ms)})"
                )
        datatable_first = theirs.first_paint_s if theirs else predicted
        if theirs is None:
            note = ""
            details.append(f"app DataTable   tickets={count:7} not run: extrapolated from 10k, {predicted:.1f}s")
        big = count == max(args.app_tickets)
        label = f"app, {count:,} tickets"
        rows += [
            Row(
                f"{label}: first paint (vs DataTable{'' if theirs else ', extrapolated'})",
                "s",
                mine.first_paint_s,
                datatable_first,
                Target("project", "<", 0.5, "< 0.5 s") if big else None,
                note,
            ),
            Row(
                f"{label}: event → repaint, p50 (vs DataTable)",
                "ms",
                median(mine.repaint_ms),
                median(theirs.repaint_ms) if theirs else None,
            ),
            Row(
                f"{label}: event → repaint, p95 of {repaints} (vs DataTable)",
                "ms",
                percentile(mine.repaint_ms, 95),
                percentile(theirs.repaint_ms, 95) if theirs else None,
                Target("project", "<", 20, "< 20 ms") if big else None,
            ),
        ]
    return rows


async def firstload(args: argparse.Namespace, details: list[str]) -> list[Row]:
    """Issue 9's first load: login → first rows painted, and the whole table's bytes, rows against AllTickets."""
    result = await run_first_load(tickets=args.tickets, repeats=args.repeats + 1)
    for name, times in (
        ("login, Rows", result.login_rows),
        ("login, AllTickets", result.login_snapshot),
        ("resume, Rows", result.resume_rows),
        ("resume, AllTickets", result.resume_snapshot),
    ):
        details.append(
            f"firstload {name:18} tickets={result.tickets} first-rows={times.first_rows_s:.3f}s "
            f"whole-table={times.whole_s:.3f}s (median of {result.repeats})"
        )
    for encoding, size in result.rows_bytes.items():
        details.append(
            f"firstload bytes {encoding:11} Rows={size:,} in {result.pages} pages, "
            f"AllTickets={result.snapshot_bytes[encoding]:,}"
        )
    details.append(
        f"firstload JSON GetRows → first page {result.first_page_s * 1000:.1f}ms, "
        f"GetTickets → AllTickets read {result.snapshot_s * 1000:.1f}ms"
    )
    label = f"first load, {result.tickets:,} tickets"
    rows = [
        Row(
            f"{label}: login → first rows painted in the app (vs GetTickets)",
            "s",
            result.login_rows.first_rows_s,
            result.login_snapshot.first_rows_s,
            Target("project", "<", 0.3, "< 0.3 s"),
        ),
        Row(
            f"{label}: saved session (resume) → first rows painted (vs GetTickets)",
            "s",
            result.resume_rows.first_rows_s,
            result.resume_snapshot.first_rows_s,
        ),
        Row(
            f"{label}: login → whole table in the app (vs GetTickets)",
            "s",
            result.login_rows.whole_s,
            result.login_snapshot.whole_s,
        ),
        Row(
            f"{label}: GetRows → first page read (vs GetTickets → AllTickets read), JSON",
            "s",
            result.first_page_s,
            result.snapshot_s,
        ),
    ]
    for encoding, size in result.rows_bytes.items():
        rows.append(
            Row(
                f"{label}: bytes of the whole table, {encoding} (Rows pages vs AllTickets)",
                "MB",
                size / 1e6,
                result.snapshot_bytes[encoding] / 1e6,
                Target("ratio", "<=", 1 / 3, "≤ 1/3 of AllTickets") if encoding == "JSON" else None,
            )
        )
    return rows


async def search(args: argparse.Namespace, details: list[str]) -> list[Row]:
    rows: list[Row] = []
    for engine in [name.strip() for name in args.search_engines.split(",") if name.strip()]:
        with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
            result = await run_search(
                engine=engine,
                tickets=args.search_tickets,
                comments=args.search_comments,
                repeats=args.search_repeats,
                workdir=Path(tmp),
                pg=args.pg,
            )
        details.append(
            f"search {engine}: seeded {result.tickets:,} tickets and {result.comments:,} comments in"
            f" {result.seed_s:.1f}s (comments straight into the table)"
        )
        for query in result.queries:
            details.append(
                f"search {engine} {query.text!r:34} hits={query.hits:3} p50={median(query.search_ms):6.2f}ms"
                f" p95={percentile(query.search_ms, 95):6.2f}ms max={max(query.search_ms):6.2f}ms"
                f" (n={len(query.search_ms)}) | LIKE scan rows={query.like_rows:3}"
                f" p50={median(query.like_ms):8.1f}ms p95={percentile(query.like_ms, 95):8.1f}ms"
                f" (n={len(query.like_ms)})"
            )
            rows.append(
                Row(
                    f"search {result.tickets // 1000:,}k tickets + {result.comments // 1000:,}k comments"
                    f"{'' if engine == 'sqlite' else ', ' + engine}, {query.name} `{query.text}`: p95 (vs LIKE scan)",
                    "ms",
                    percentile(query.search_ms, 95),
                    percentile(query.like_ms, 95),
                    Target("project", "<", 50, "< 50 ms"),
                )
            )
    return rows


SECTIONS: Final[dict[str, Callable[[argparse.Namespace, list[str]], Awaitable[list[Row]]]]] = {
    "fanout": fanout,
    "writes": writes,
    "snapshot": snapshot,
    "memory": memory,
    "whatif": whatif,
    "app": app,
    "firstload": firstload,
    "hostile": hostile,
    "search": search,
}
