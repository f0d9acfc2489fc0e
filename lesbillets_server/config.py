"""Server settings, one frozen record shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

MEMORY_DB = ":memory:"


def default_db_path() -> Path:
    """Where the database lives when `--db` is not given (created on first use)."""
    return platformdirs.user_data_path("lesbillets", appauthor=False) / "lesbillets.db"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    db: str = str(default_db_path())
    lock_ttl_s: float = 180.0
    """How long a lock lasts without `RenewLock`."""
    lock_grace_s: float = 30.0
    """How long a dropped session keeps its locks, waiting for a `Resume`."""
    max_locks: int = 5
    """Locks one user may hold at once, across all their sessions."""
    max_message: int = 1024 * 1024
    """Largest accepted frame in bytes; larger ones close the connection with 1009."""
    rate_per_s: float = 100.0
    """Requests a connection may send per second, sustained."""
    rate_burst: int = 200
    """Requests a connection may send at once before `rate_limited`; as many refusals again close it (1008)."""
    backlog_bytes: int = 4 * 1024 * 1024
    """Unsent bytes a connection may owe before it is closed with 4000 (resync); a snapshot being sent is exempt."""
    max_snapshots: int = 4
    """Snapshots (one `seq` in one encoding) encoded or sent at once; a `GetTickets` needing another waits."""
    create_rate_per_s: float = 5.0
    """Tickets one user may create per second, sustained, across all their connections."""
    create_burst: int = 50
    """Tickets one user may create at once before `rate_limited`."""
    search_share: float = 0.25
    """Seconds of search time each user's searches may use per second, across all their connections."""
    search_burst_s: float = 2.0
    """Seconds of search time a user may bank; a search needs `search_timeout_s` of it (or all of it) to start."""
    read_share: float = 0.25
    """Seconds each user's reads of histories, ticket details and the inbox may take per second."""
    read_burst_s: float = 2.0
    """Seconds of read time a user may bank."""
    search_timeout_s: float = 1.0
    """How long the database may work on one search before it is stopped (`bad_request`: too broad)."""
    comment_rate_per_s: float = 1.0
    """Comments one user may add or edit per second, sustained, across all their connections."""
    comment_burst: int = 20
    """Comments one user may add or edit at once before `rate_limited`."""
    change_rate_per_s: float = 20.0
    """Tickets one user may change per second with `ChangeTickets` (one request names up to 200), sustained."""
    change_burst: int = 200
    """Tickets one user may change at once with `ChangeTickets` before `rate_limited`."""
    max_connections: int = 2000
    """Open connections (logged in or not); more handshakes get HTTP 503. Kept below the open-file limit."""
    max_connections_per_ip: int = 100
    """Open connections from one IPv4 address or IPv6 /64; more handshakes get HTTP 503."""
    login_backoff_s: float = 0.5
    """After a refused `Login`, how long its connection waits before its next frame is read (a tarpit)."""
    login_timeout_s: float = 10.0
    keepalive_s: float = 5.0
    """A connection that answers nothing for this long is closed: a frozen laptop or a dropped network leaves
    presence (and starts its locks' grace) within it. A ping every 0.4 of it, answered within 0.4, then a close
    frame answered within 0.2."""
    """Seconds after the handshake to log in (and after a logout to log in again), else close 4001."""
    session_ttl_s: float = 30 * 24 * 3600.0
    log_retention_days: float = 30.0
    """How long the event log keeps an event: a client away longer resumes from a snapshot; history is cut too."""
    session_check_s: float = 0.25
    """How often the database is asked whether sessions ended elsewhere (`user passwd`, `user disable`)."""
    login_address_limit: int = 10
    """Failed logins one address may make at once, and again each minute, across all emails."""
    login_account_limit: int = 20
    """Failed logins on one account at once, and again each hour, from addresses it never logged in from."""
    login_workers: int = 1
    """Threads checking passwords (argon2: about 0.1 s of CPU and 64 MiB each)."""
    login_queue: int = 4
    """Logins that may wait for a password check; past that, `rate_limited` at once."""
    sweep_interval_s: float = 1.0
    """How often expired leases are looked for."""
    synchronous: str = "normal"
    """SQLite `PRAGMA synchronous` in WAL mode: `normal` survives a server crash, `full` also a power cut."""
    busy_timeout_s: float = 5.0
    """How long a write waits for another process holding the database's write lock, then `unavailable`."""
    certfile: Path | None = None
    keyfile: Path | None = None
