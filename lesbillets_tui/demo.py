"""`make run`: a demo server in the background and the app logged in as a demo agent.

    python -m lesbillets_tui.demo [--user alice@example.com] [--data .data]

Starts ``lesbillets-server serve --demo`` (same Python) on a free local port with its database and log
under the data folder, waits for ``/healthz``, runs the app, and stops the server when the app exits,
whatever the reason (quit, error, ctrl+c).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from lesbillets_tui.launch import LaunchError, free_port, running_server_url, stop, wait_healthy

DEMO_USER = "alice@example.com"
DEMO_PASSWORDS = {"alice@example.com": "alice", "bob@example.com": "bob", "admin@example.com": "admin"}
"""What `serve --demo` seeds (lesbillets_server/demo.py, also in the README); a test keeps the two the same."""


@contextlib.contextmanager
def demo_server(data: Path, port: int | None = None) -> Iterator[str]:
    """Run a demo server until the block ends; yields its ws:// URL.

    When a server already serves this demo database (another `make run`, or `make server`), join it instead:
    a second server on the same SQLite file would refuse to start.
    """
    data.mkdir(parents=True, exist_ok=True)
    running = running_server_url(data / "demo.db")
    if running is not None:
        print(f"Joining the demo server already running at {running}.", file=sys.stderr)
        yield running
        return
    port = port or free_port()
    log_path = data / "server.log"
    command = [
        sys.executable, "-m", "lesbillets_server", "serve", "--demo",
        "--host", "127.0.0.1", "--port", str(port), "--db", str(data / "demo.db"),
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_healthy(process, f"http://127.0.0.1:{port}/healthz", log_path)
        yield f"ws://127.0.0.1:{port}"
    finally:
        stop(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Les Billets demo: server plus app, logged in.")
    parser.add_argument("--user", default=os.environ.get("LESBILLETS_DEMO_USER", DEMO_USER), help="demo agent email")
    parser.add_argument("--data", type=Path, default=Path(".data"), help="folder for the database, log and session")
    args = parser.parse_args(argv)
    password = DEMO_PASSWORDS.get(args.user)
    if password is None:
        parser.error(f"--user must be one of {', '.join(DEMO_PASSWORDS)}")

    from lesbillets_tui.app import LesBilletsApp
    from lesbillets_tui.session_store import SessionStore

    try:
        with demo_server(args.data) as url:
            # A session file of its own: the demo never touches the agent's real remembered session.
            store = SessionStore(args.data / "tui-session.json")
            LesBilletsApp(url, email=args.user, password=password, store=store).run()
    except LaunchError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
