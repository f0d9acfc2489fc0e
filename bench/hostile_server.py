"""The hostile section's server: a real `lesbillets-server serve` process on a seeded SQLite file.

Unlike the other scenarios (which run `bench.launch` with the rate limits opened wide), this is the server as an
operator runs it, with its default limits, so attacks meet the defences a deployment has. Its stderr goes to a
file, so the bench can measure how many bytes of log an attack makes it write. Its open-file limit is set
explicitly (`NOFILE`), so the connection-flood result does not depend on the shell that started the bench.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import resource
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench import seed
from lesbillets_server.storage import SqliteStore

NOFILE: Final = 4096
"""The server's RLIMIT_NOFILE, soft and hard: a common default for services, and below the flood's 5,000."""
START_TIMEOUT_S: Final = 120.0
STOP_TIMEOUT_S: Final = 15.0
_READY: Final = re.compile(rb"serving on (wss?://\S+)")
_PR_SET_PDEATHSIG: Final = 1
_REPOSITORY: Final = Path(__file__).resolve().parents[1]


async def seed_database(path: Path, *, users: int, tickets: int) -> None:
    """A fresh database file with `users` users (one session each) and `tickets` tickets (bench/seed.py)."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    store = SqliteStore(path)
    try:
        await seed.seed(store, users=users, tickets_count=tickets)
    finally:
        await store.close()


def _limit_child() -> None:
    """In the server's process, before exec: its fd limit, and die with the bench (no orphan servers)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    # the hard limit too: the server raises its soft limit to the hard one, which would be the shell's again
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _proc_kib(pid: int, field: str) -> int:
    """A /proc/PID/status figure in KiB; 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass(frozen=True, slots=True)
class ServeProcess:
    url: str
    pid: int
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def rss_bytes(self) -> int:
        return _proc_kib(self.pid, "VmRSS") * 1024

    def peak_rss_bytes(self) -> int:
        """VmHWM: the most resident memory the process has had since it started."""
        return _proc_kib(self.pid, "VmHWM") * 1024

    def log_bytes(self) -> int:
        return self.log.stat().st_size

    def open_fds(self) -> int:
        """Open file descriptors now; 0 once the process is gone."""
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return 0

    def fd_limit(self) -> int:
        """The process's soft open-file limit, as it was actually set; 0 once the process is gone."""
        try:
            return resource.prlimit(self.pid, resource.RLIMIT_NOFILE)[0]
        except OSError:
            return 0

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def serve(db: Path, log: Path) -> AsyncIterator[ServeProcess]:
    """`lesbillets-server serve --port 0 --db db`, stderr to `log`, until the block exits (then SIGTERM)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("LESBILLETS_")}
    command = [sys.executable, "-m", "lesbillets_server", "serve", "--host", "127.0.0.1", "--port", "0"]
    stderr = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            "--db",
            str(db),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
            cwd=_REPOSITORY,
            env=env,
            preexec_fn=_limit_child,
        )
    finally:
        os.close(stderr)
    try:
        url = await _wait_ready(process, log)
        yield ServeProcess(url=url, pid=process.pid, log=log)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


def _read(log: Path) -> bytes:
    return log.read_bytes()


async def _wait_ready(process: asyncio.subprocess.Process, log: Path) -> str:
    # the server says where it listens only in its log; polling the file keeps that file the server's alone
    async with asyncio.timeout(START_TIMEOUT_S):
        while True:
            match = _READY.search(_read(log))
            if match:
                return match.group(1).decode()
            if process.returncode is not None:
                tail = _read(log)[-2000:].decode(errors="replace")
                raise RuntimeError(f"the server exited ({process.returncode}) before it was ready:\n{tail}")
            await asyncio.sleep(0.05)
