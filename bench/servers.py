"""Start and stop a `bench.launch` server process, and read its memory and CPU use from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
START_TIMEOUT_S = 120.0
_REPOSITORY = Path(__file__).resolve().parents[1]


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, all processes)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / _TICKS


@dataclass(frozen=True, slots=True)
class ServerProcess:
    url: str
    pid: int
    """The server's own pid (not py-spy's, when profiled)."""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS


@contextlib.asynccontextmanager
async def launch(
    kind: str, *options: str, use_uvloop: bool = False, profile_to: Path | None = None
) -> AsyncIterator[ServerProcess]:
    """Run `python -m bench.launch kind options...` until the block exits."""
    command: Sequence[str] = [sys.executable, "-m", "bench.launch", kind, *options]
    if use_uvloop:
        command = [*command, "--uvloop"]
    if profile_to is not None:
        py_spy = Path(sys.executable).with_name("py-spy")
        command = [str(py_spy), "record", "--rate", "200", "--format", "raw", "-o", str(profile_to), "--", *command]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=_REPOSITORY,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                line = (await process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"the {kind} server exited before it was ready (see its stderr above)")
                if line.startswith("READY "):
                    break
        _, url, pid = line.split()
        yield ServerProcess(url=url, pid=int(pid))
    finally:
        process.stdin.close()
        try:
            async with asyncio.timeout(30.0 if profile_to else 10.0):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
