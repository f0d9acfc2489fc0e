"""`make run`'s launcher: a second one joins the demo server that is already running; its contracts with the server."""

from __future__ import annotations

from pathlib import Path

from lesbillets_server.demo import DEMO_USERS
from lesbillets_server.ownership import running_server
from lesbillets_tui.demo import DEMO_PASSWORDS, demo_server
from lesbillets_tui.launch import running_server_url


def test_a_second_make_run_joins_the_running_demo_server(tmp_path: Path) -> None:
    """While one demo server runs on the data folder, another launcher yields its URL and starts nothing."""
    with demo_server(tmp_path) as first:
        owner = running_server(str(tmp_path / "demo.db"))
        assert owner is not None and owner["url"] == first
        assert running_server_url(tmp_path / "demo.db") == first  # the launcher reads the server's record
        with demo_server(tmp_path) as second:
            assert second == first
        assert running_server(str(tmp_path / "demo.db")) == owner  # leaving the second stopped nothing
    assert running_server(str(tmp_path / "demo.db")) is None
    assert running_server_url(tmp_path / "demo.db") is None


def test_the_launcher_knows_the_passwords_the_demo_server_seeds() -> None:
    """The app side's own copy of the demo passwords matches what `serve --demo` creates."""
    assert {email: password for email, _name, password, _role in DEMO_USERS} == DEMO_PASSWORDS
