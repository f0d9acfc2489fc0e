"""Due times as the table and the preview say them: never rounded down to the hour below."""

from __future__ import annotations

from datetime import timedelta

from lesbillets_tui.timefmt import utc_now
from lesbillets_tui.widgets.ticket_preview import TicketPreview
from tests.support import BOB, ServerHarness
from tests.tui.helpers import row_text, running_app, scripted_agent, table, until


async def test_a_due_time_is_the_nearest_hour_in_the_table_and_to_the_minute_in_the_preview(
    server: ServerHarness,
) -> None:
    """Due in 2h 59m: "in 3h" in the Due column ("3h" at 80 columns), "in 2h 59m" in the preview; overdue alike."""
    now = utc_now().replace(microsecond=0)
    async with scripted_agent(server, BOB) as bob:
        await bob.create_ticket("Soon due", due_at=now + timedelta(hours=2, minutes=59))
        await bob.create_ticket("Long overdue", due_at=now - timedelta(hours=2, minutes=59))
    async with running_app(server, size=(140, 36), now=lambda: now) as (app, pilot, _):
        await until(pilot, lambda: app.desk.model.total == 2, "both tickets")
        await pilot.pause()
        assert " in 3h " in row_text(app, "Soon due") and " overdue 3h " in row_text(app, "Long overdue")
        preview = app.screen.query_one(TicketPreview)
        soon = next(ticket for ticket in app.desk.model.tickets.values() if ticket.title == "Soon due")
        assert table(app).select_ticket(soon.id)
        await until(pilot, lambda: "in 2h 59m" in str(preview.render()), "the minutes in the preview")
        late = next(ticket for ticket in app.desk.model.tickets.values() if ticket.title == "Long overdue")
        assert table(app).select_ticket(late.id)
        await until(pilot, lambda: "overdue 2h 59m" in str(preview.render()), "the minutes in the preview")
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: " 3h " in row_text(app, "Soon due"), "the short form at 80 columns")
        assert " -3h " in row_text(app, "Long overdue")
