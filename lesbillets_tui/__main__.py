"""`python -m lesbillets_tui` is `lesbillets`."""

from lesbillets_tui.cli import app

app(prog_name="lesbillets")
