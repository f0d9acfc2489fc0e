"""The ticket table at the trial's narrow and wide sizes, with fixed data and a fixed clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest
from textual.pilot import Pilot

from lesbillets_tui.messages import SnapshotReceived
from protocol.messages import AllTickets
from tests.tui.test_snapshots import NOW, SnapCompare, offline_app, preview_in_full, show_table, tickets


@pytest.mark.usefixtures("utc")
@pytest.mark.parametrize("size", [(80, 24), (250, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_table(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """80x24: numbers without "#", names as initials, short ages, help and quit in the footer; 250x60: everything in
    full, with due times (one overdue) and tags; the preview shows the number, due time and tags."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await show_table(pilot)
        rows = tickets()
        rows[0] = msgspec.structs.replace(rows[0], due_at=NOW - timedelta(minutes=20), tags=["printer", "floor-3"])
        rows[1] = msgspec.structs.replace(rows[1], due_at=NOW + timedelta(hours=3), tags=["vpn"])
        pilot.app.post_message(SnapshotReceived(AllTickets(rid=3, seq=50, tickets=rows)))
        await pilot.pause()
        await pilot.press("G")  # the overdue ticket: its number, due time and tags in the preview too
        preview_in_full(pilot, rows)
        await pilot.pause()

    assert snap_compare(offline_app(), terminal_size=size, run_before=run_before)
