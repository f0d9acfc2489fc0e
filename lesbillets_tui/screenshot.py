"""Picture of the app for the README: the demo table, as SVG (the app's own screenshot) and PNG.

    python -m lesbillets_tui.screenshot docs/screenshot.png [--data .data/screenshot]

Runs a demo server, drives the app headless at 120x36 as the demo agent with a colleague holding a lock,
saves the SVG next to the PNG, and converts it with ``rsvg-convert`` (Debian: librsvg2-bin) when present.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.demo import DEMO_PASSWORDS, demo_server
from lesbillets_tui.screens.tickets import TicketsScreen
from protocol.client import connect

SIZE = (120, 36)


async def take(url: str, svg: Path) -> None:
    async with connect(url) as bob:
        await bob.login("bob@example.com", DEMO_PASSWORDS["bob@example.com"])
        tickets = sorted((await bob.get_tickets()).tickets, key=lambda t: t.updated_at, reverse=True)
        held = next((t for t in tickets[2:] if t.lock is None), None)
        if held is not None:
            await bob.lock(held.id)
        app = LesBilletsApp(url, email="alice@example.com", password=DEMO_PASSWORDS["alice@example.com"])
        async with app.run_test(size=SIZE) as pilot:
            async with asyncio.timeout(20):
                while not (isinstance(app.screen, TicketsScreen) and app.synced):
                    await pilot.pause(0.05)
            await pilot.press("j", "j")
            await pilot.pause(0.2)
            app.save_screenshot(filename=svg.name, path=str(svg.parent))
        if held is not None:
            await bob.unlock(held.id)


def to_png(svg: Path, png: Path) -> bool:
    """Convert with rsvg-convert; whitespace is kept as the terminal shows it (rsvg would collapse it)."""
    if shutil.which("rsvg-convert") is None:
        return False
    fixed = svg.with_suffix(".preserve.svg")
    fixed.write_text(svg.read_text().replace("<svg ", '<svg xml:space="preserve" ', 1))
    try:
        subprocess.run(["rsvg-convert", str(fixed), "-o", str(png)], check=True)
    finally:
        fixed.unlink()
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description="Screenshot the demo table.")
    parser.add_argument("png", type=Path)
    parser.add_argument("--data", type=Path, default=Path(".data/screenshot"))
    args = parser.parse_args()
    svg = args.png.with_suffix(".svg")
    svg.parent.mkdir(parents=True, exist_ok=True)
    with demo_server(args.data) as url:
        asyncio.run(take(url, svg))
    if not to_png(svg, args.png):
        print(f"Saved {svg}; install rsvg-convert (librsvg2-bin) to make the PNG.", file=sys.stderr)
        return 1
    print(f"Saved {svg} and {args.png}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
