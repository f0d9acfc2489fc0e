"""The inbox against a real server: an assignment by a scripted agent lands, `i` lists it, enter jumps to it."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from lesbillets_tui.screens.inbox import InboxScreen
from lesbillets_tui.screens.ticket_view import TicketViewScreen
from lesbillets_tui.screens.tickets import TicketsScreen
from lesbillets_tui.widgets.filter_bar import FilterBar
from lesbillets_tui.widgets.inbox_list import InboxList
from lesbillets_tui.widgets.status_bar import StatusBar
from protocol.client import Client
from protocol.messages import InboxChanged, InboxKind
from tests.support import ALICE, BOB, ServerHarness
from tests.tui.helpers import TIMEOUT, running_app, scripted_agent, table, until

T = TypeVar("T")


async def user_id(client: Client, email: str) -> object:
    return next(user.id for user in await client.get_users() if user.email == email)


async def next_inbox_notice(client: Client) -> InboxChanged:
    async with asyncio.timeout(TIMEOUT):
        async for item in client.events():
            if isinstance(item, InboxChanged):
                return item
    raise AssertionError("the event stream ended")


async def test_an_assignment_lands_in_the_inbox_and_enter_jumps_to_the_ticket(server: ServerHarness) -> None:
    """Bob assigns a ticket to Alice: counted in the status bar, announced, listed by i; enter shows it (clearing
    a filter that hid it), opens its view and marks it read on the server."""
    async with scripted_agent(server, BOB) as bob, scripted_agent(server, ALICE) as alice_elsewhere:
        alice = await user_id(bob, ALICE.email)
        await bob.create_ticket("Some other ticket")
        async with running_app(server) as (app, pilot, recorder):
            status = app.screen.query_one(StatusBar)
            await until(pilot, lambda: status.unread == 0, "the inbox fetched at login")
            await pilot.press("slash", *"other", "enter")
            await until(pilot, lambda: len(app.desk.model) == 1, "the filter")

            ticket = await bob.create_ticket("Printer jams", assignee=alice)  # type: ignore[arg-type]
            await until(pilot, lambda: status.unread == 1, "the unread count")
            assert "✉ 1 unread" in str(status.query_one("#status-inbox").render())
            assert any("Bob Dubois assigned" in note and "Printer jams" in note for note in recorder.notifications)

            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, InboxScreen), "the inbox screen")
            [item] = app.desk.inbox.items
            assert item.kind is InboxKind.ASSIGNED and item.ticket_id == ticket.id and not item.read
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TicketViewScreen), "the ticket's view")
            assert table(app).cursor_id == ticket.id
            assert app.desk.model.query == "" and not app.screen_stack[-2].query_one(FilterBar).value
            assert status.unread == 0

            while (notice := await next_inbox_notice(alice_elsewhere)).item is not None:
                pass  # the assignment's own notice comes first
            assert notice.unread == 0  # marked read: Alice's other connection is told
            assert (await alice_elsewhere.get_inbox()).items[0].read


async def test_mark_all_read(server: ServerHarness) -> None:
    """R in the inbox marks every item read, here and on the server."""
    async with scripted_agent(server, BOB) as bob, scripted_agent(server, ALICE) as alice_elsewhere:
        alice = await user_id(bob, ALICE.email)
        for title in ("One", "Two"):
            await bob.create_ticket(title, assignee=alice)  # type: ignore[arg-type]
        async with running_app(server) as (app, pilot, _):
            status = app.screen.query_one(StatusBar)
            await until(pilot, lambda: status.unread == 2, "two unread items at login")
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, InboxScreen), "the inbox screen")
            await pilot.press("R")
            assert app.desk.inbox.unread == 0 and all(item.read for item in app.desk.inbox.items)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, TicketsScreen) and status.unread == 0, "the count")
            while (notice := await next_inbox_notice(alice_elsewhere)).item is not None:
                pass  # the two assignments' own notices come first
            assert notice.unread == 0
            assert not (await alice_elsewhere.get_inbox()).unread


async def test_the_inbox_names_a_renamed_ticket_by_its_title_now(server: ServerHarness) -> None:
    """Bob assigns a ticket to Alice, then renames it: her inbox lists it under its new title."""
    async with scripted_agent(server, BOB) as bob:
        alice = await user_id(bob, ALICE.email)
        ticket = await bob.create_ticket("Printer jams", assignee=alice)  # type: ignore[arg-type]
        async with running_app(server) as (app, pilot, _):
            await until(pilot, lambda: app.desk.inbox.unread == 1, "the assignment")
            locked = await bob.lock(ticket.id)
            await bob.update_ticket(ticket.id, locked.version, title="Printer on 3rd floor jams")
            await bob.unlock(ticket.id)
            await until(pilot, lambda: app.desk.model.get(ticket.id).title.startswith("Printer on"), "the rename")  # type: ignore[union-attr]
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, InboxScreen), "the inbox screen")
            line = str(app.screen.query_one(InboxList).get_option_at_index(0).prompt)
            assert "Printer on 3rd floor jams" in line, line
