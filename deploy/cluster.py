"""`make cluster`: three replicas on one PostgreSQL database behind HAProxy, seeded with the demo, and the app.

    python -m deploy.cluster [--user EMAIL] [--servers-only] [--port 8780] [--fresh] [--data .data/cluster]

PostgreSQL is `LESBILLETS_PG` (default the local server, database `test`). The cluster's tables live in their own
schema of that database, `lesbillets_cluster`: a schema needs no right to create databases, leaves the tests'
throwaway `t_…` schemas and the database's other tables alone, and `--fresh` drops it to start the demo over.
HAProxy comes from Debian's packages (installed with apt-get when missing); its config is generated from
`haproxy.cfg.template` beside this file. Replica 1 seeds the demo into the empty schema and answers /healthz before
the others start, so no two replicas race to seed. Logs and the generated config go to the data folder.
With `--servers-only` nothing but the cluster runs, until Ctrl+C; otherwise the app opens through the balancer
and quitting it stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import shlex
import shutil
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from lesbillets_server.storage.postgres import redacted
from lesbillets_tui.demo import DEMO_PASSWORDS, DEMO_USER
from lesbillets_tui.launch import STARTUP_TIMEOUT_S, LaunchError, free_port, log_tail, stop, wait_healthy

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA = "lesbillets_cluster"
REPLICAS = 3
DEFAULT_PORT = 8780
TEMPLATE = Path(__file__).with_name("haproxy.cfg.template")


@dataclass
class Replica:
    name: str
    port: int
    command: list[str]
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    url: str
    stats_url: str
    replicas: list[Replica]
    balancer: subprocess.Popen[bytes]
    balancer_log: Path

    def backends(self) -> dict[str, tuple[str, int]]:
        """Each replica's state and current connections, as HAProxy sees them (its stats page as CSV)."""
        with urllib.request.urlopen(f"{self.stats_url};csv", timeout=2) as response:
            text = response.read().decode().removeprefix("# ")
        return {
            row["svname"]: (row["status"], int(row["scur"] or 0))
            for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] == "replicas" and row["svname"] not in ("FRONTEND", "BACKEND")
        }


# --- PostgreSQL ------------------------------------------------------------------------------------------------


def _where(url: str) -> str:
    """host:port/database, never the password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def cluster_db(pg_url: str, schema: str = SCHEMA, *, fresh: bool = False) -> str:
    """Create the cluster's schema (dropping it first when `fresh`); the URL whose tables live there."""
    try:
        with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as conn:
            if fresh:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LaunchError(
            f"make cluster needs PostgreSQL at {_where(pg_url)} ({reason}): start it or set LESBILLETS_PG."
        ) from None
    return with_search_path(pg_url, schema)


# --- HAProxy ---------------------------------------------------------------------------------------------------


def haproxy_path() -> str | None:
    # /usr/sbin is not on every PATH, and Debian puts haproxy there
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


def install_haproxy(log_path: Path) -> str:
    """HAProxy from Debian's packages; a sentence when that cannot be done here."""
    if shutil.which("apt-get") is None:
        raise LaunchError("make cluster needs HAProxy 2.2 or later and there is no apt-get here: install it yourself.")
    if os.geteuid() != 0:
        raise LaunchError("make cluster needs HAProxy: install it with `sudo apt-get install haproxy`, then run again.")
    print(f"Installing HAProxy with apt-get (log in {log_path})...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with log_path.open("ab") as log:

        def apt(*args: str) -> bool:
            done = subprocess.run(
                ["apt-get", *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
            return done.returncode == 0

        # the package lists may be stale or absent (fresh containers): refresh them only when the install fails
        installed = apt("install", "-y", "haproxy") or (apt("update") and apt("install", "-y", "haproxy"))
    found = haproxy_path()
    if not installed or found is None:
        raise LaunchError(f"Could not install HAProxy with apt-get (see {log_path}): install haproxy, then run again.")
    return found


def haproxy_config(port: int, stats_port: int, replicas: Sequence[tuple[str, int]]) -> str:
    servers = "\n".join(f"    server {name} 127.0.0.1:{replica_port}" for name, replica_port in replicas)
    return string.Template(TEMPLATE.read_text()).substitute(
        bind=f"127.0.0.1:{port}", stats_bind=f"127.0.0.1:{stats_port}", servers=servers
    )


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as HAProxy binds: the last run's connections in TIME_WAIT must not count as taken
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            raise LaunchError(
                f"Port {port} is taken (another make cluster?): stop it, or set LESBILLETS_CLUSTER_PORT "
                "to another port (0 picks a free one)."
            ) from None


def _start_balancer(haproxy: str, config: Path, log_path: Path) -> subprocess.Popen[bytes]:
    check = subprocess.run([haproxy, "-c", "-q", "-f", str(config)], capture_output=True, stdin=subprocess.DEVNULL)
    if check.returncode != 0:
        output = (check.stdout + check.stderr).decode(errors="replace").strip().splitlines()[-5:]
        raise LaunchError(f"HAProxy refuses {config} (it needs version 2.2 or later):\n  " + "\n  ".join(output))
    with log_path.open("ab") as log:
        # -db: stay in the foreground, so stopping this process stops HAProxy
        return subprocess.Popen(
            [haproxy, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


def _wait_all_up(cluster: Cluster) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if cluster.balancer.poll() is not None:
            raise LaunchError(f"HAProxy stopped at once:\n  {log_tail(cluster.balancer_log)}")
        with contextlib.suppress(urllib.error.URLError, OSError):
            states = cluster.backends()
            if len(states) == len(cluster.replicas) and all(state == "UP" for state, _ in states.values()):
                return
        time.sleep(0.1)  # polling HAProxy's stats: it has no way to tell us its checks passed
    raise LaunchError(
        f"HAProxy did not report every replica UP within {STARTUP_TIMEOUT_S:g} s (see {cluster.balancer_log})."
    )


# --- the replicas ----------------------------------------------------------------------------------------------


def _start_replica(name: str, db: str, data: Path, *, demo: bool) -> Replica:
    port = free_port()
    log_path = data / f"{name}.log"
    command = [
        sys.executable, "-m", "lesbillets_server", "serve", *(["--demo"] if demo else []),
        "--host", "127.0.0.1", "--port", str(port), "--db", db,
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Replica(name, port, command, process, log_path)


def _wait_replica(replica: Replica) -> None:
    url = f"http://127.0.0.1:{replica.port}/healthz"
    wait_healthy(replica.process, url, replica.log_path, name=f"Replica {replica.name}")


@contextlib.contextmanager
def cluster_servers(
    db: str, data: Path, *, haproxy: str, port: int = DEFAULT_PORT, replicas: int = REPLICAS
) -> Iterator[Cluster]:
    """Replicas on `db` (the first seeds the demo) and HAProxy on `port` in front, until the block ends."""
    data.mkdir(parents=True, exist_ok=True)
    if port:
        _check_port_free(port)
    port = port or free_port()
    started: list[subprocess.Popen[bytes]] = []
    try:
        first = _start_replica("replica-1", db, data, demo=True)
        started.append(first.process)
        _wait_replica(first)  # seeded, so the others find a full database
        others = [_start_replica(f"replica-{n}", db, data, demo=False) for n in range(2, replicas + 1)]
        started.extend(replica.process for replica in others)
        for replica in others:
            _wait_replica(replica)
        every = [first, *others]
        config, stats_port = data / "haproxy.cfg", free_port()
        config.write_text(haproxy_config(port, stats_port, [(replica.name, replica.port) for replica in every]))
        balancer_log = data / "haproxy.log"
        balancer = _start_balancer(haproxy, config, balancer_log)
        started.insert(0, balancer)  # stopped first: agents are cut off before their replicas go
        cluster = Cluster(f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{stats_port}/", every, balancer, balancer_log)
        _wait_all_up(cluster)
        yield cluster
    finally:
        stop(*started)


# --- make cluster / make cluster-servers -----------------------------------------------------------------------


def _exit_reason(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


def _lesbillets() -> str:
    beside = Path(sys.executable).with_name("lesbillets")
    return str(beside) if beside.exists() else "lesbillets"


def _print_banner(cluster: Cluster, pg_url: str) -> None:
    lines = [
        f"Les Billets cluster: {len(cluster.replicas)} replicas on PostgreSQL {_where(pg_url)} "
        f"(schema {SCHEMA}) behind HAProxy.",
        f"  balancer       {cluster.url}   <- agents connect here",
        *(
            f"  {replica.name:14} {replica.url}   pid {replica.process.pid}, log {replica.log_path}"
            for replica in cluster.replicas
        ),
        f"  HAProxy stats  {cluster.stats_url}   log {cluster.balancer_log}",
        "Open the app in other terminals (demo users: "
        + ", ".join(f"{email} / {password}" for email, password in DEMO_PASSWORDS.items())
        + "):",
        f"  {_lesbillets()} {cluster.url} --user bob@example.com",
        "Ctrl+C stops the cluster.",
    ]
    print("\n".join(lines), flush=True)


def _watch(cluster: Cluster) -> None:
    """Until Ctrl+C: say when a replica stops and how to start it again; end if HAProxy stops."""
    reported: set[str] = set()
    while cluster.balancer.poll() is None:
        for replica in cluster.replicas:
            code = replica.process.poll()
            if code is not None and replica.name not in reported:
                reported.add(replica.name)
                # without --demo (the database is seeded), quoted for the shell, the password hidden
                command = shlex.join(
                    redacted(part) if part.startswith("postgres") else part
                    for part in replica.command
                    if part != "--demo"
                )
                print(
                    f"{replica.name} stopped ({_exit_reason(code)}): HAProxy takes it out of rotation and its "
                    f"agents reconnect to the others. To start it again on the same port:\n  {command}",
                    flush=True,
                )
        time.sleep(0.5)  # watching processes we started for the person at the terminal; nothing waits on this
    raise LaunchError(
        f"HAProxy stopped ({_exit_reason(cluster.balancer.returncode)}):\n  {log_tail(cluster.balancer_log)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Three Les Billets replicas on PostgreSQL behind HAProxy.")
    parser.add_argument("--user", default=os.environ.get("LESBILLETS_DEMO_USER", DEMO_USER), help="demo agent email")
    parser.add_argument("--servers-only", action="store_true", help="run the cluster without the app")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("LESBILLETS_CLUSTER_PORT", DEFAULT_PORT)),
        help="the balancer's port (0 picks a free one)",
    )
    parser.add_argument("--fresh", action="store_true", help=f"drop the {SCHEMA} schema first: a new demo")
    parser.add_argument("--data", type=Path, default=Path(".data/cluster"), help="folder for logs and the config")
    args = parser.parse_args(argv)
    password = DEMO_PASSWORDS.get(args.user)
    if password is None:
        parser.error(f"--user must be one of {', '.join(DEMO_PASSWORDS)}")
    pg_url = os.environ.get("LESBILLETS_PG", DEFAULT_PG)
    args.data.mkdir(parents=True, exist_ok=True)
    try:
        db = cluster_db(pg_url, fresh=args.fresh)
        haproxy = haproxy_path() or install_haproxy(args.data / "apt.log")
        with cluster_servers(db, args.data, haproxy=haproxy, port=args.port) as cluster:
            if args.servers_only:
                _print_banner(cluster, pg_url)
                _watch(cluster)
            else:
                from lesbillets_tui.app import LesBilletsApp
                from lesbillets_tui.session_store import SessionStore

                # a session file of its own: the cluster never touches the agent's real remembered session
                store = SessionStore(args.data / "tui-session.json")
                LesBilletsApp(cluster.url, email=args.user, password=password, store=store).run()
    except LaunchError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nCluster stopped; logs in {args.data}/.", file=sys.stderr)
        return 130
    print(f"Cluster stopped; logs in {args.data}/.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
