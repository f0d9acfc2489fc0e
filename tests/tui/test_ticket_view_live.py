"""The ticket view against a real server: comments without the lock, drafts that survive, history, presence."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.widgets import Static

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.ticket_view import TicketViewScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.widgets.comment_box import FLEETING_S, CommentBox
from lesbillets_tui.widgets.comment_view import CommentView
from protocol.client import ClientEvent
from protocol.messages import CommentAdded, CommentEdited, PresenceChanged, Status, TicketUnlocked, UnlockReason
from tests.support import ADMIN, ALICE, BOB, PausableProxy, ServerHarness
from tests.tui.helpers import SIZE, TIMEOUT, row_text, running_app, scripted_agent, table, until

T = TypeVar("T")


async def next_of(stream: AsyncIterator[ClientEvent], kind: type[T], ticket_id: uuid.UUID | None = None) -> T:
    """The scripted agent's next event or notice of ``kind`` (about ``ticket_id``, when given)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            item = await anext(stream)
            if isinstance(item, kind) and (ticket_id is None or _about(item) == ticket_id):
                return item


def _about(item: object) -> uuid.UUID | None:
    if isinstance(item, CommentAdded | CommentEdited):
        return item.comment.ticket_id
    return getattr(item, "ticket_id", None)


async def open_view(app: LesBilletsApp, pilot: Pilot[Any], ticket_id: uuid.UUID) -> TicketViewScreen:
    """enter on the ticket's row; wait until GetTicket and GetHistory have filled the view."""
    await until(pilot, lambda: table(app).select_ticket(ticket_id), "the row")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, TicketViewScreen), "the view")
    view = app.screen
    assert isinstance(view, TicketViewScreen)
    await until(pilot, lambda: view.thread.loaded and view.timeline.loaded, "the conversation and history")
    return view


def box_of(view: TicketViewScreen) -> CommentBox:
    return view.query_one(CommentBox)


def bodies(view: TicketViewScreen) -> list[str]:
    return [comment.comment.body for comment in view.query(CommentView)]


def fields(view: TicketViewScreen) -> str:
    return str(view.query_one("#fields").render())


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*("space" if character == " " else character for character in text))


async def test_comment_while_another_agent_holds_the_lock(server: ServerHarness) -> None:
    """Bob holds the lock; Alice still comments from the view (c, type, ctrl+s); Bob sees it, his lock untouched."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("VPN drops", "Every 20 minutes.")
        await bob.lock(ticket.id)
        events = bob.events()
        async with running_app(server) as (app, pilot, _):
            view = await open_view(app, pilot, ticket.id)
            assert "Bob Dubois is editing this ticket" in fields(view)
            await pilot.press("c")
            await type_text(pilot, "Seen it on my laptop too.")
            await pilot.press("ctrl+s")
            added = await next_of(events, CommentAdded, ticket.id)
            assert (added.comment.body, added.comment.author_name) == ("Seen it on my laptop too.", ALICE.name)
            await until(pilot, lambda: bodies(view) == ["Seen it on my laptop too."], "the comment in the view")
            await until(pilot, lambda: box_of(view).text == "" and "Sent" in box_of(view).said, "an empty box")
            assert app.desk.model.get(ticket.id).lock.user_id == bob.user.id  # type: ignore[union-attr]

            await bob.add_comment(ticket.id, "Thanks, **checking** the gateway.")
            await until(pilot, lambda: len(bodies(view)) == 2, "Bob's comment, live")
            assert bodies(view)[-1] == "Thanks, **checking** the gateway."  # newest last


async def test_draft_survives_lock_break_reassignment_a_comment_restart_and_reopening(server: ServerHarness) -> None:
    """A half-written comment outlives a broken lock, a reassignment, a colleague's comment, a server restart and
    closing the view; then it is sent as typed."""
    async with scripted_agent(server, ADMIN) as admin, scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Printer jams", "Duplex only.")
        async with running_app(server) as (app, pilot, _):
            view = await open_view(app, pilot, ticket.id)
            await pilot.press("c")
            draft = "Half a thought about the duplex unit"
            await type_text(pilot, draft)

            await bob.lock(ticket.id)
            await until(pilot, lambda: "Bob Dubois is editing" in fields(view), "Bob's lock")
            await admin.unlock(ticket.id, force=True)
            await until(pilot, lambda: "is editing" not in fields(view), "the broken lock")
            locked = await admin.lock(ticket.id)
            await admin.update_ticket(ticket.id, locked.version, assignee=bob.user.id)  # type: ignore[union-attr]
            await admin.unlock(ticket.id)
            await until(pilot, lambda: "Bob Dubois" in fields(view).splitlines()[1], "the reassignment")
            await bob.add_comment(ticket.id, "I'll take it.")
            await until(pilot, lambda: bodies(view) == ["I'll take it."], "Bob's comment")
            assert box_of(view).text == draft and app.screen is view

            await server.stop()
            await until(pilot, lambda: not app.synced, "the lost connection")
            await server.start()
            await until(pilot, lambda: app.synced, "the reconnect", within=20)
            assert box_of(view).text == draft

            await pilot.press("escape", "escape")  # out of the box, then out of the view
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen), "the table")
            view = await open_view(app, pilot, ticket.id)
            assert box_of(view).text == draft
            await pilot.press("c", "space", "ctrl+s")

        async with scripted_agent(server, BOB) as bob_again:
            detail = await bob_again.get_ticket(ticket.id)
        assert [c.body for c in detail.comments] == ["I'll take it.", f"{draft} "]


async def test_an_open_comment_edit_survives_events_and_reopening(server: ServerHarness) -> None:
    """Editing her own comment, Alice gets a colleague's comment and a reassignment, closes and reopens the view:
    the edit is still open with her text, and saving it edits the comment (the earlier text stays in history)."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Badge reader")
        events = bob.events()
        async with running_app(server) as (app, pilot, _):
            view = await open_view(app, pilot, ticket.id)
            await pilot.press("c")
            await type_text(pilot, "Rebooted it")
            await pilot.press("ctrl+s")
            await next_of(events, CommentAdded, ticket.id)
            await until(pilot, lambda: box_of(view).text == "", "the sent comment")
            await pilot.press("escape", "E")  # edit my last comment
            await until(pilot, lambda: box_of(view).has_class("-editing"), "the edit form")
            await type_text(pilot, " twice")

            await bob.add_comment(ticket.id, "Still failing here.")
            locked = await bob.lock(ticket.id)
            await bob.update_ticket(ticket.id, locked.version, assignee=bob.user.id)  # type: ignore[union-attr]
            await bob.unlock(ticket.id)
            await until(pilot, lambda: len(bodies(view)) == 2 and "Bob Dubois" in fields(view), "the colleague")
            assert box_of(view).text == "Rebooted it twice" and box_of(view).has_class("-editing")

            await pilot.press("tab")  # out of the box (escape there would ask to drop the edit)
            assert app.focused is not box_of(view).area
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen), "the table")
            view = await open_view(app, pilot, ticket.id)
            assert box_of(view).text == "Rebooted it twice" and box_of(view).has_class("-editing")
            await pilot.press("ctrl+s")
            edited = await next_of(events, CommentEdited, ticket.id)
            assert edited.comment.body == "Rebooted it twice" and edited.comment.edited_at is not None
            await until(pilot, lambda: not box_of(view).has_class("-editing"), "the box back to a new comment")


async def test_history_lines_appear_live(server: ServerHarness) -> None:
    """The timeline starts from GetHistory and gains a line per field change and per comment as they happen."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Wi-Fi slow")
        async with running_app(server) as (app, pilot, _):
            view = await open_view(app, pilot, ticket.id)
            lines = view.timeline.text
            assert lines()[0].startswith("Bob Dubois · created the ticket · ")

            locked = await bob.lock(ticket.id)
            await bob.update_ticket(ticket.id, locked.version, status=Status.BLOCKED, title="Wi-Fi slow in room B")
            await bob.unlock(ticket.id)
            await bob.add_comment(ticket.id, "Access point replaced.\nWatching it.")
            expected = [
                "Bob Dubois · took the lock · just now",
                "Bob Dubois · title “Wi-Fi slow” → “Wi-Fi slow in room B” · just now",
                "Bob Dubois · status open → blocked · just now",
                "Bob Dubois · released the lock · just now",
                "Bob Dubois · commented: “Access point replaced.…” · just now",
            ]
            await until(pilot, lambda: lines()[1:] == expected, "the new history lines")


async def test_presence_appears_and_vanishes(server: ServerHarness) -> None:
    """Bob on a ticket shows in Alice's table row and view, and goes when he leaves; Alice's view and edit form
    show on Bob's side, and closing the view takes her off."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Laptop battery swells")
        other = await bob.create_ticket("Monitor flickers")
        events = bob.events()
        async with running_app(server) as (app, pilot, _):
            await bob.set_presence(ticket.id)
            await until(pilot, lambda: "○ Bob Dubois" in row_text(app, "Laptop battery"), "Bob in the row")
            async with scripted_agent(server, ADMIN) as admin:
                await admin.lock(ticket.id)  # a lock holder's name comes first, the colleague beside it
                row = lambda: row_text(app, "Laptop battery")  # noqa: E731
                await until(
                    pilot, lambda: row().startswith(f" #{ticket.number} ● Camill… ") and " ○BD " in row(), "Bob beside"
                )
                await admin.unlock(ticket.id)
            assert "○" not in row_text(app, "Monitor flickers")

            view = await open_view(app, pilot, ticket.id)
            seen = await next_of(events, PresenceChanged, ticket.id)
            while ALICE.name not in [viewer.name for viewer in seen.viewers]:
                seen = await next_of(events, PresenceChanged, ticket.id)
            await until(pilot, lambda: "Also here: Bob Dubois" in fields(view), "Bob in the view")

            await bob.set_presence(other.id, editing=True)
            await until(pilot, lambda: "Also here" not in fields(view), "Bob gone from the view")

            await pilot.press("e")  # Alice's edit form: Bob sees her editing
            await until(pilot, lambda: isinstance(app.screen, EditorScreen), "the edit form")
            editing = await next_of(events, PresenceChanged, ticket.id)
            while not any(viewer.editing and viewer.name == ALICE.name for viewer in editing.viewers):
                editing = await next_of(events, PresenceChanged, ticket.id)
            await pilot.press("escape")
            assert (await next_of(events, TicketUnlocked, ticket.id)).reason is UnlockReason.RELEASED
            await until(pilot, lambda: app.screen is view, "back in the view")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen), "the table")
            left = await next_of(events, PresenceChanged, ticket.id)
            while ALICE.name in [viewer.name for viewer in left.viewers]:
                left = await next_of(events, PresenceChanged, ticket.id)
            await until(pilot, lambda: "○ Bob Dubois" in row_text(app, "Monitor flickers"), "Bob's new ticket")
            assert "○" not in row_text(app, "Laptop battery")


async def test_a_comment_whose_reply_was_lost_is_not_sent_twice(server: ServerHarness) -> None:
    """The connection drops after the server took the comment but before its reply came: the box keeps the text and
    says it may have arrived; after the reconnect the replayed event empties the box, and the comment exists once."""
    async with scripted_agent(server, BOB) as bob, PausableProxy(server.config.port) as proxy:
        ticket = await bob.create_ticket("Badge reader")
        events = bob.events()
        app = LesBilletsApp(proxy.url, email=ALICE.email, password=ALICE.password)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen) and app.synced, "the table")
            view = await open_view(app, pilot, ticket.id)
            await pilot.press("c")
            await type_text(pilot, "Reseated the cable")
            proxy.pause()  # the server's answers wait in the proxy
            await pilot.press("ctrl+s")
            await next_of(events, CommentAdded, ticket.id)  # the server has it
            proxy.cut()  # the reply is lost; the reconnect waits behind the stalled proxy
            await until(pilot, lambda: "may have arrived" in box_of(view).said, "the send in doubt")
            proxy.resume()
            assert box_of(view).text == "Reseated the cable"
            await until(pilot, lambda: box_of(view).text == "" and "did arrive" in box_of(view).said, "the settling")
            assert bodies(view) == ["Reseated the cable"]
        assert [c.body for c in (await bob.get_ticket(ticket.id)).comments] == ["Reseated the cable"]


def header(view: TicketViewScreen, comment_id: uuid.UUID) -> str:
    shown = view.conversation.view_of(comment_id)
    assert shown is not None
    return str(shown.query_one(".comment-header", Static).render())


async def test_a_saved_edit_drops_the_unsaved_note_at_once(server: ServerHarness) -> None:
    """E, a change, ctrl+s: the box says "Saved." and the comment's header no longer says the edit is unsaved."""
    async with scripted_agent(server, ALICE) as alice_elsewhere:
        ticket = await alice_elsewhere.create_ticket("Badge reader")
        mine = await alice_elsewhere.add_comment(ticket.id, "Rebooted it")
    async with running_app(server) as (app, pilot, _):
        view = await open_view(app, pilot, ticket.id)
        await pilot.press("E")
        await until(pilot, lambda: box_of(view).has_class("-editing"), "the edit form")
        await type_text(pilot, " twice")
        await until(pilot, lambda: "your edit is not saved yet" in header(view, mine.id), "the unsaved note")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: box_of(view).said == "Saved.", "the save")
        assert bodies(view) == ["Rebooted it twice"]
        assert "· edited just now" in header(view, mine.id)
        assert "not saved" not in header(view, mine.id)


async def test_connected_again_goes_after_a_while_or_at_a_keystroke(server: ServerHarness) -> None:
    """After a reconnect "Connected again." goes by itself within seconds; after the next, at the next keystroke."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Scanner offline")
    async with running_app(server) as (app, pilot, _):
        view = await open_view(app, pilot, ticket.id)
        for keystroke in (False, True):
            await server.stop()
            await until(pilot, lambda: box_of(view).said.startswith("Reconnecting"), "the lost connection")
            if keystroke:
                await pilot.press("c")  # into the box, before the reconnect: the key that follows it is typed
            await server.start()
            await until(pilot, lambda: box_of(view).said == "Connected again.", "the reconnect", within=20)
            if keystroke:
                await pilot.press("x")
                await until(pilot, lambda: box_of(view).said == "", "the sentence gone", within=FLEETING_S / 2)
                assert box_of(view).text == "x"
            else:
                await until(pilot, lambda: box_of(view).said == "", "the sentence gone", within=FLEETING_S + 5)


async def test_a_comment_sent_while_the_server_is_down_is_said_not_sent(server: ServerHarness) -> None:
    """ctrl+s with the server down: after the request's timeout the box says the comment never left (not that it
    may have arrived) and keeps it; once the server is back ctrl+s sends it, once."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Projector flickers")
    async with running_app(server) as (app, pilot, _):
        view = await open_view(app, pilot, ticket.id)
        await pilot.press("c")
        await type_text(pilot, "Swapped the HDMI cable")
        await server.stop()
        await until(pilot, lambda: not app.synced, "the lost connection")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: box_of(view).said.startswith("Not sent"), "the request's timeout", within=20)
        assert "never left" in box_of(view).said and "may have arrived" not in box_of(view).said
        assert box_of(view).text == "Swapped the HDMI cable" and app.desk.drafts[ticket.id].sending is None
        await server.start()
        await until(pilot, lambda: app.synced, "the reconnect", within=20)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: box_of(view).said == "Sent.", "the comment sent")
    async with scripted_agent(server, BOB) as bob_again:
        assert [c.body for c in (await bob_again.get_ticket(ticket.id)).comments] == ["Swapped the HDMI cable"]
