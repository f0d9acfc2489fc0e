"""Search in the app against a real server: `/` filters the rows at once and asks the server, whose hits by
description or comment join the rows with their snippet; a new comment makes its ticket match at once."""

from __future__ import annotations

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.search import SearchState
from lesbillets_tui.widgets.search_strip import SearchStrip
from protocol.messages import Status
from tests.support import BOB, ServerHarness
from tests.tui.helpers import running_app, scripted_agent, table, until


def strip_text(app: LesBilletsApp) -> str:
    assert app.tickets_screen is not None
    return str(app.tickets_screen.query_one(SearchStrip).render())


async def test_search_finds_a_ticket_by_a_word_in_a_comment(server: ServerHarness) -> None:
    """ "docking" is only in a comment: the ticket joins the rows, and its snippet shows with the cursor on it."""
    async with scripted_agent(server, BOB) as bob:
        laptop = await bob.create_ticket("Laptop will not start", "Since Monday.")
        await bob.create_ticket("Printer jams")
        await bob.create_ticket("Docking station order")  # matches by its title, in the loaded rows
        await bob.add_comment(laptop.id, "Tried another docking station: same thing.")
        async with running_app(server) as (app, pilot, _):
            await pilot.press("slash", *"docking")
            model = app.desk.model
            assert [model.row(n).title for n in range(len(model))] == ["Docking station order"]  # at once
            screen = app.tickets_screen
            assert screen is not None
            await until(pilot, lambda: screen.search.state is SearchState.DONE, "the server's answer")
            assert {model.row(n).id for n in range(len(model))} >= {laptop.id}
            await pilot.press("enter")
            assert table(app).select_ticket(laptop.id)
            await until(pilot, lambda: "in a comment" in strip_text(app), "the snippet")
            assert "docking station: same thing" in strip_text(app)


async def test_a_new_comment_makes_its_ticket_match_without_searching_again(server: ServerHarness) -> None:
    """With "keyboard" in the box, Bob's comment saying it adds the ticket to the rows, with the comment's snippet."""
    async with scripted_agent(server, BOB) as bob:
        ticket = await bob.create_ticket("Desk phone is dead")
        async with running_app(server) as (app, pilot, _):
            screen = app.tickets_screen
            assert screen is not None
            await pilot.press("slash", *"keyboard", "enter")
            await until(pilot, lambda: screen.search.state is SearchState.DONE, "the server's answer")
            assert len(app.desk.model) == 0
            await bob.add_comment(ticket.id, "And now the keyboard is dead too.")
            await until(pilot, lambda: app.desk.model.position_of(ticket.id) is not None, "the ticket in the rows")
            assert screen.search.state is SearchState.DONE
            table(app).select_ticket(ticket.id)
            await until(pilot, lambda: "keyboard is dead" in strip_text(app), "the comment's snippet")


async def test_a_new_comment_joins_only_where_the_servers_search_finds_it(server: ServerHarness) -> None:
    """With "status:closed quokka" in the box, the comment on an open ticket adds nothing (the strip counted it);
    the one on a closed ticket adds its ticket; a fresh search on the server finds that one alone too."""
    async with scripted_agent(server, BOB) as bob:
        still_open = await bob.create_ticket("Cable chewed through")
        closed = await bob.create_ticket("Cable chewed again", status=Status.CLOSED)
        async with running_app(server) as (app, pilot, _):
            screen = app.tickets_screen
            assert screen is not None
            query = "status:closed quokka"
            await pilot.press("slash", *("space" if character == " " else character for character in query))
            await pilot.press("enter")
            await until(pilot, lambda: screen.search.state is SearchState.DONE, "the server's answer")
            assert len(app.desk.model) == 0
            await bob.add_comment(still_open.id, "a quokka ate the cable")
            await bob.add_comment(closed.id, "a quokka ate the new cable too")  # comes after: the first was seen
            await until(pilot, lambda: app.desk.model.position_of(closed.id) is not None, "the closed ticket")
            assert set(screen.search.hits) == {closed.id} and len(app.desk.model) == 1
            assert "The server found 1 ticket · 1 by their description or a comment" in strip_text(app)
            assert [hit.ticket_id for hit in await bob.search(query)] == [closed.id]
