"""`make run`'s launcher: a second one joins the demo server that is already running."""

from __future__ import annotations

from pathlib import Path

from lesbillets_server.ownership import running_server
from lesbillets_tui.demo import demo_server


def test_a_second_make_run_joins_the_running_demo_server(tmp_path: Path) -> None:
    """While one demo server runs on the data folder, another launcher yields its URL and starts nothing."""
    with demo_server(tmp_path) as first:
        owner = running_server(str(tmp_path / "demo.db"))
        assert owner is not None and owner["url"] == first
        with demo_server(tmp_path) as second:
            assert second == first
        assert running_server(str(tmp_path / "demo.db")) == owner  # leaving the second stopped nothing
    assert running_server(str(tmp_path / "demo.db")) is None
