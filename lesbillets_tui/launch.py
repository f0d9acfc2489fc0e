"""Local server processes for the launchers (`make run` in demo.py, `make cluster` in deploy/cluster.py).

A free port, waiting for a started process to answer over HTTP, finding the server that already serves a
SQLite file, and stopping it cleanly. Errors are `LaunchError`s whose message is a sentence for the person at
the terminal. The app package talks to the server only as a process and over the wire: nothing here imports
`lesbillets_server`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT_S = 30.0


class LaunchError(Exception):
    """A local server could not be started; the message says why."""


def running_server_url(db: Path) -> str | None:
    """The URL of the server that holds the SQLite file ``db`` now, or None when none does (or it has no URL yet).

    Reads the record a running server keeps beside its database (`lesbillets_server/ownership.py`: JSON with
    its pid and url in `<db>.server`, under an exclusive `flock` for as long as it runs). The server's side of
    this contract is tested against this reader in tests/tui/test_demo.py.
    """
    try:
        fd = os.open(f"{db}.server", os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd) as file:
        try:
            fcntl.flock(file, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # a server holds it: its record says where
            try:
                owner = json.loads(file.read() or "{}")
            except ValueError:
                return None
            url = owner.get("url") if isinstance(owner, dict) else None
            return url if isinstance(url, str) and url else None
        return None  # a record left by a server that has stopped


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(log_path: Path, lines: int = 5) -> str:
    tail = log_path.read_text(errors="replace").strip().splitlines()[-lines:]
    return "\n  ".join(tail)


def wait_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path, *, name: str = "The demo server") -> None:
    """Return once `url` answers 200; a sentence naming `name` if the process dies or stays silent."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LaunchError(f"{name} stopped at once:\n  {log_tail(log_path)}")
        with contextlib.suppress(urllib.error.URLError, OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.1)  # polling a process we started; there is nothing to wait on instead
    raise LaunchError(f"{name} did not answer {url} within {STARTUP_TIMEOUT_S:g} s (see {log_path}).")


def stop(*processes: subprocess.Popen[bytes]) -> None:
    """SIGINT to each (the server's clean shutdown path) at once, then SIGKILL to any still running after 10 s."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 10
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
