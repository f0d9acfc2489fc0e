"""One SQLite file, one server: SQLite cannot tell a second server what the first one committed.

`serve` on a SQLite file holds an exclusive `flock` on `<db>.server` for as long as it runs (the kernel drops it
when the process dies, even by SIGKILL) and writes there who it is, so a second `serve` on the same file refuses
with a sentence naming the running one. The `user` commands take no such lock: they work beside a running server.
PostgreSQL needs none of this: replicas share it through its event log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from lesbillets_server.errors import StoreError


def owner_file(db: str) -> Path:
    return Path(f"{db}.server")


def running_server(db: str) -> dict[str, object] | None:
    """Who serves this SQLite file now (pid, url, since), or None when no server does."""
    path = owner_file(db)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd) as file:
        try:
            fcntl.flock(file, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                owner = json.loads(file.read() or "{}")
            except ValueError:
                owner = {}
            return owner if isinstance(owner, dict) else {}
        return None


class Ownership:
    """The running server's claim on a SQLite file."""

    def __init__(self, db: str, fd: int) -> None:
        self.db = db
        self._fd = fd
        self._since = datetime.now(UTC).isoformat(timespec="seconds")

    def announce(self, url: str) -> None:
        """Say where this server listens, for the sentence a second server prints (and `make run` joins)."""
        record = json.dumps({"pid": os.getpid(), "url": url, "since": self._since}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, record, 0)


@contextlib.contextmanager
def claim(db: str) -> Iterator[Ownership]:
    """Hold the file for this server, or refuse to start with a sentence naming the server that holds it."""
    path = owner_file(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(_in_use(db, os.pread(fd, 4096, 0))) from None
        ownership = Ownership(db, fd)
        ownership.announce("")
        yield ownership
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing drops the lock


def _in_use(db: str, raw: bytes) -> str:
    try:
        owner = json.loads(raw or b"{}")
    except ValueError:
        owner = {}
    who = "another server"
    if isinstance(owner, dict) and owner.get("pid"):
        who = f"the server with pid {owner['pid']}"
        if owner.get("url"):
            who += f" at {owner['url']}"
        if owner.get("since"):
            who += f", running since {owner['since']}"
    return (
        f"The database {db} is already served by {who}. One SQLite file serves one server: connect to that one, "
        "stop it first, or give this one another --db (several servers share a postgresql:// database)."
    )
