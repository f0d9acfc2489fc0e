"""The ticket view as the agent sees it, with fixed data and a fixed clock (pytest --snapshot-update to accept)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from textual.pilot import Pilot

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import PresenceReceived
from lesbillets_tui.screens.ticket_view import TicketViewScreen
from protocol.messages import (
    Comment,
    FieldChange,
    HistoryEntry,
    HistoryKind,
    Lock,
    Priority,
    Status,
    TicketDetail,
    TicketPresence,
    UnlockReason,
    Viewer,
)
from tests.tui.factory import ADMIN, BOB, ME, make_ticket
from tests.tui.test_snapshots import NOW, offline_app, show_table

SnapCompare = Callable[..., bool]
TICKET = make_ticket(
    3,
    title="VPN drops every 20 minutes from home",
    description="Since Monday the VPN client disconnects every 20 minutes.\nReconnecting works at once.",
    status=Status.BLOCKED,
    priority=Priority.HIGH,
    assignee=ME.id,
    created_by=BOB.id,
    updated_at=NOW - timedelta(minutes=3),
    version=4,
    lock=Lock(user_id=BOB.id, user_name=BOB.name, expires_at=NOW + timedelta(seconds=151)),
)
TICKET = msgspec.structs.replace(TICKET, number=1042, due_at=NOW + timedelta(days=2), tags=["vpn", "home-office"])
TICKET_ID = TICKET.id


def comment(n: int, author: Any, body: str, minutes_ago: int, *, edited: bool = False) -> Comment:
    at = NOW - timedelta(minutes=minutes_ago)
    return Comment(
        id=uuid.UUID(int=5000 + n),
        ticket_id=TICKET_ID,
        author=author.id,
        author_name=author.name,
        body=body,
        created_at=at,
        edited_at=at + timedelta(minutes=1) if edited else None,
    )


COMMENTS = [
    comment(1, BOB, "Seen it on **three** laptops so far:\n\n- Dell 5440\n- two ThinkPads", 95),
    comment(2, ME, "Logs attached to the case. The client says `TLS handshake timeout`.", 60, edited=True),
    comment(3, ADMIN, "Known issue upstream, see [the vendor's note](https://vendor.example/kb/123).", 4),
]


def entry(seq: int, actor: Any, kind: HistoryKind, minutes_ago: int, **fields: Any) -> HistoryEntry:
    return HistoryEntry(
        seq=seq, at=NOW - timedelta(minutes=minutes_ago), actor=actor.id if actor else None, kind=kind, **fields
    )


HISTORY = [
    entry(1, BOB, HistoryKind.CREATED, 120, changes=[FieldChange(field="title", old=None, new=TICKET.title)]),
    entry(2, BOB, HistoryKind.COMMENTED, 95, comment=COMMENTS[0]),
    entry(3, ME, HistoryKind.LOCKED, 70),
    entry(
        4,
        ME,
        HistoryKind.UPDATED,
        69,
        changes=[
            FieldChange(field="status", old="open", new="blocked"),
            FieldChange(field="assignee", old=None, new=str(ME.id)),
        ],
    ),
    entry(5, ME, HistoryKind.UNLOCKED, 69, reason=UnlockReason.RELEASED),
    entry(6, ME, HistoryKind.COMMENTED, 60, comment=COMMENTS[1]),
    entry(7, ADMIN, HistoryKind.COMMENTED, 4, comment=COMMENTS[2]),
    entry(8, BOB, HistoryKind.LOCKED, 1),
]


async def open_view(pilot: Pilot[Any]) -> None:
    """The table, then the view of TICKET filled as GetTicket and GetHistory would, Bob on it."""
    await show_table(pilot)
    app = pilot.app
    assert isinstance(app, LesBilletsApp)
    app.desk.model.tickets[TICKET_ID] = TICKET
    viewers = [Viewer(user_id=BOB.id, name=BOB.name, editing=True), Viewer(user_id=ADMIN.id, name=ADMIN.name)]
    app.post_message(PresenceReceived([TicketPresence(ticket_id=TICKET_ID, viewers=viewers)], complete=True))
    app.desk.drafts[TICKET_ID].text = "Could it be the 20-minute DHCP lease?"  # the view picks up the draft
    screen = TicketViewScreen(app.desk, TICKET_ID)
    await app.push_screen(screen)
    await pilot.pause()
    screen.show_detail(TicketDetail(rid=3, ticket=TICKET, comments=COMMENTS, seq=40))
    screen.show_history(HISTORY)
    for widget in screen.query("TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


@pytest.mark.usefixtures("utc")
@pytest.mark.parametrize("size", [(140, 40), (80, 24)], ids=["140x40", "80x24"])
def test_ticket_view(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """Fields (number, due, tags, lock, who is here), description, Markdown conversation, history, a draft."""
    assert snap_compare(offline_app(), terminal_size=size, run_before=open_view)
