"""The inbox's live notices in the app, offline (the test posts what the link worker would): the unread count,
the notification, and the terminal bell, which rings only when asked for."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from lesbillets_tui import app as app_module
from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import InboxNoticeReceived, InboxReceived
from lesbillets_tui.widgets.status_bar import StatusBar
from protocol.messages import Inbox, InboxChanged, InboxItem, InboxKind
from tests.tui.factory import BOB, T0
from tests.tui.helpers import Recorder, until
from tests.tui.test_snapshots import SIZE, URL, show_table


class BellCountingApp(LesBilletsApp):
    """The app with Textual's bell counted instead of sent to a terminal (headless, Textual sends nothing)."""

    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))
    bells = 0

    def bell(self) -> None:
        self.bells += 1


ITEM = InboxItem(
    seq=7,
    kind=InboxKind.MENTIONED,
    ticket_id=uuid.UUID(int=1001),
    number=1042,
    title="Printer jams",
    actor=BOB.id,
    actor_name=BOB.name,
    at=T0,
)


@pytest.mark.parametrize("bell", [False, True])
async def test_a_new_item_is_counted_announced_and_rings_only_when_asked(bell: bool) -> None:
    """The count goes up and a notification names it; the bell rings once with --bell, never without; a replayed
    notice of the same item is neither announced nor rung again."""
    app = BellCountingApp(URL, email="alice@example.com", autoconnect=False, bell=bell)
    recorder = Recorder()
    async with app.run_test(size=SIZE, message_hook=recorder) as pilot:
        await show_table(pilot)
        status = app.screen.query_one(StatusBar)
        app.post_message(InboxReceived(Inbox(rid=1, items=[], unread=0)))
        await until(pilot, lambda: status.unread == 0, "the inbox")
        for _ in range(2):
            app.post_message(InboxNoticeReceived(InboxChanged(unread=1, item=ITEM)))
        await until(pilot, lambda: status.unread == 1, "the count")
        await pilot.pause()
        assert recorder.notifications == ["Bob Dubois mentioned you on #1042 “Printer jams”."]
        assert app.bells == (1 if bell else 0)


async def test_the_bell_is_a_palette_toggle() -> None:
    """The palette's "Inbox bell" entry turns it on (and says so)."""
    app = BellCountingApp(URL, email="alice@example.com", autoconnect=False)
    async with app.run_test(size=SIZE) as pilot:
        await show_table(pilot)
        [toggle] = [c for c in app.get_system_commands(app.screen) if c.title.startswith("Inbox bell")]
        assert toggle.title == "Inbox bell: turn on"
        toggle.callback()
        assert app.inbox_bell
        app.post_message(InboxNoticeReceived(InboxChanged(unread=1, item=ITEM)))
        await until(pilot, lambda: app.bells == 1, "the bell")


async def test_no_inbox_no_count() -> None:
    """Until the inbox arrives (a server without one never sends it) the status bar shows no count at all."""
    app = LesBilletsApp(URL, email="alice@example.com", autoconnect=False)
    async with app.run_test(size=SIZE) as pilot:
        await show_table(pilot)
        label = app.screen.query_one("#status-inbox")
        assert not label.display
        app.post_message(InboxReceived(Inbox(rid=1, items=[ITEM], unread=1)))
        await until(pilot, lambda: label.display and "✉ 1 unread" in str(label.render()), "the count")
