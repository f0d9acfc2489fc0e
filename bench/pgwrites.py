"""Durable writes on PostgreSQL beside SQLite, in one run: `python -m bench.pgwrites`.

The `writes` scenario (50 agents, lock → update → unlock as fast as replies come) against one server on a fresh
PostgreSQL schema, and against the same server on a SQLite file and on `:memory:`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench.replicas import schema
from bench.writes import run_writes


async def main(args: argparse.Namespace) -> None:
    results = []
    async with schema(args.pg, "lesbillets_bench_writes") as url:
        results.append(await run_writes(agents=args.agents, seconds=args.duration, db=url))
    results.append(await run_writes(agents=args.agents, seconds=args.duration, db="file"))
    results.append(await run_writes(agents=args.agents, seconds=args.duration, db=":memory:"))
    memory = results[-1].ops_per_s
    for result in results:
        print(
            f"durable writes, {args.agents} agents, {result.db}: {result.ops_per_s:,.0f} ops/s "
            f"(x{result.ops_per_s / memory:.2f} of :memory:), reply p99 {result.p99_ms:.1f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.pgwrites", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--duration", type=float, default=3.0)
    asyncio.run(main(parser.parse_args(sys.argv[1:])))
