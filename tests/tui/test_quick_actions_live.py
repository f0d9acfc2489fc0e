"""Quick changes from the table against a real server: one key on the selected ticket, or on every marked one;
a ticket another agent holds is refused with the holder's name."""

from __future__ import annotations

import uuid

from textual.widgets import Label

from lesbillets_tui.screens.field_prompt import FieldPrompt
from protocol.messages import Priority, Status
from tests.support import ALICE, BOB, ServerHarness
from tests.tui.helpers import running_app, scripted_agent, table, until


async def test_close_refused_by_a_lock_held_by_another_agent(server: ServerHarness) -> None:
    """Bob holds the ticket: c changes nothing and the notification names Bob."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Printer jams")
        await bob.lock(ticket.id)
        async with running_app(server) as (app, pilot, recorder):
            assert table(app).select_ticket(ticket.id)
            await pilot.press("c")
            await until(pilot, lambda: any("locked by Bob Dubois" in note for note in recorder.notifications))
            note = next(note for note in recorder.notifications if "locked by" in note)
            assert note.startswith(f"#{ticket.number} is locked by Bob Dubois")
            current = app.desk.model.get(ticket.id)
            assert current is not None and current.status is Status.OPEN


async def test_marked_tickets_are_changed_together(server: ServerHarness) -> None:
    """Space marks two tickets; c closes both (the third stays open); escape clears the marks; marked again, a then
    p u make both mine and urgent, however soon the keys follow each other."""
    async with scripted_agent(server, BOB) as bob:
        first = await bob.create_ticket("First")
        second = await bob.create_ticket("Second")
        third = await bob.create_ticket("Third")
        async with running_app(server) as (app, pilot, _):
            model = app.desk.model
            assert table(app).select_ticket(third.id)
            await pilot.press("space", "space")  # marks Third, moves down; marks Second
            assert app.tickets_screen is not None and app.tickets_screen.marked == {third.id, second.id}
            await pilot.press("c")

            def status(ticket_id: object) -> Status | None:
                ticket = model.get(ticket_id)  # type: ignore[arg-type]
                return ticket.status if ticket is not None else None

            await until(pilot, lambda: status(second.id) is status(third.id) is Status.CLOSED, "both closed")
            assert status(first.id) is Status.OPEN
            assert app.tickets_screen.marked == {second.id, third.id}  # marks stay for the next change
            await pilot.press("escape")
            assert not app.tickets_screen.marked

            # both marked tickets at once again: assign to me, then urgent
            for ticket in (first, third):
                assert table(app).select_ticket(ticket.id)
                await pilot.press("space")
            marked = {first.id, third.id}
            assert app.tickets_screen.marked == marked  # type: ignore[union-attr]
            await pilot.press("a", "p", "u")
            me = app.desk.user
            assert me is not None

            def mine_and_urgent(ticket_id: object) -> bool:
                ticket = model.get(ticket_id)  # type: ignore[arg-type]
                return ticket is not None and ticket.assignee == me.id and ticket.priority is Priority.URGENT

            await until(pilot, lambda: all(mine_and_urgent(ticket_id) for ticket_id in marked), "mine and urgent")
            others = {first.id, second.id, third.id} - marked
            assert not any(mine_and_urgent(ticket_id) for ticket_id in others)


async def test_reopen_and_priority_on_the_selected_ticket(server: ServerHarness) -> None:
    """Without marks, o and p act on the ticket under the cursor only."""
    async with scripted_agent(server, BOB) as bob:
        closed = await bob.create_ticket("Closed one", status=Status.CLOSED)
        other = await bob.create_ticket("Other", status=Status.CLOSED)
        async with running_app(server, ALICE) as (app, pilot, _):
            model = app.desk.model
            assert table(app).select_ticket(closed.id)
            await pilot.press("o")
            await until(pilot, lambda: model.get(closed.id).status is Status.OPEN, "reopened")  # type: ignore[union-attr]
            await pilot.press("p", "l")
            await until(pilot, lambda: model.get(closed.id).priority is Priority.LOW, "low")  # type: ignore[union-attr]
            assert model.get(other.id).status is Status.CLOSED  # type: ignore[union-attr]


async def test_due_time_and_tags_without_the_editor(server: ServerHarness) -> None:
    """Two marked tickets: d +3h sets both due in three hours; t "vpn -printer" adds one tag and removes another;
    a wrong due time is said in the prompt and changes nothing; d then an empty line clears the due time."""
    async with scripted_agent(server, BOB) as bob:
        first = await bob.create_ticket("First", tags=["printer"])
        second = await bob.create_ticket("Second")
        async with running_app(server, ALICE) as (app, pilot, _):
            model = app.desk.model
            for ticket in (first, second):
                assert table(app).select_ticket(ticket.id)
                await pilot.press("space")
            await pilot.press("d", *"tomorrow", "enter")
            assert isinstance(app.screen, FieldPrompt)
            assert "is not one" in str(app.screen.query_one("#field-prompt-error", Label).content)
            await pilot.press(*["backspace"] * len("tomorrow"), *"+3h", "enter")

            def due_in_about_3h(ticket_id: uuid.UUID) -> bool:
                ticket = model.get(ticket_id)
                if ticket is None or ticket.due_at is None:
                    return False
                return abs((ticket.due_at - app.desk.now()).total_seconds() - 3 * 3600) < 120

            await until(pilot, lambda: due_in_about_3h(first.id) and due_in_about_3h(second.id), "both due in 3h")
            await pilot.press("t", *"vpn -printer", "enter")

            def tags(ticket_id: uuid.UUID) -> list[str] | None:
                ticket = model.get(ticket_id)
                return list(ticket.tags) if ticket is not None else None

            await until(pilot, lambda: tags(first.id) == tags(second.id) == ["vpn"], "vpn on both, printer gone")
            await pilot.press("escape")  # the marks
            assert table(app).select_ticket(first.id)
            await pilot.press("d", *["backspace"] * 20, "enter")
            await until(pilot, lambda: model.get(first.id).due_at is None, "due time cleared")  # type: ignore[union-attr]
            assert due_in_about_3h(second.id)


async def test_due_time_refused_by_a_lock_names_the_holder(server: ServerHarness) -> None:
    """Bob holds the ticket: d +1d changes nothing and the notification names him."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Held")
        await bob.lock(ticket.id)
        async with running_app(server, ALICE) as (app, pilot, recorder):
            assert table(app).select_ticket(ticket.id)
            await pilot.press("d", *"+1d", "enter")
            await until(pilot, lambda: any("locked by Bob Dubois" in note for note in recorder.notifications))
            assert app.desk.model.get(ticket.id).due_at is None  # type: ignore[union-attr]
