"""A long conversation opens with its newest comments and shows earlier ones on demand."""

from __future__ import annotations

import uuid
from datetime import timedelta

from textual.widgets import Button

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.messages import CommentEventReceived
from lesbillets_tui.screens.ticket_view import TicketViewScreen
from lesbillets_tui.widgets.comment_view import CommentView
from lesbillets_tui.widgets.conversation import WINDOW
from protocol.messages import Comment, CommentAdded, TicketDetail
from tests.tui.factory import BOB, make_ticket
from tests.tui.helpers import until
from tests.tui.test_snapshots import NOW, offline_app, show_table

TICKET = make_ticket(6, title="A long story")
COUNT = 2 * WINDOW + 15


def note(n: int) -> Comment:
    return Comment(
        id=uuid.UUID(int=20_000 + n),
        ticket_id=TICKET.id,
        author=BOB.id,
        author_name=BOB.name,
        body=f"comment {n}",
        created_at=NOW - timedelta(minutes=COUNT - n),
    )


async def test_the_newest_comments_first_then_earlier_on_demand() -> None:
    """WINDOW newest shown in order; the button adds WINDOW earlier ones at a time; live ones always join."""
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show_table(pilot)
        assert isinstance(app, LesBilletsApp)
        view = TicketViewScreen(app.desk, TICKET.id)
        await app.push_screen(view)
        view.show_detail(TicketDetail(rid=1, ticket=TICKET, comments=[note(n) for n in range(COUNT)], seq=1))
        shown = lambda: [c.comment.body for c in view.query(CommentView)]  # noqa: E731
        await until(pilot, lambda: len(shown()) == WINDOW, "the newest comments")
        assert shown() == [f"comment {n}" for n in range(COUNT - WINDOW, COUNT)]
        earlier = view.query_one("#conversation-earlier", Button)
        assert str(earlier.label) == f"Show {WINDOW} earlier comments ({COUNT - WINDOW} not shown)"

        earlier.press()
        await until(pilot, lambda: len(shown()) == 2 * WINDOW, "earlier comments")
        assert shown() == [f"comment {n}" for n in range(COUNT - 2 * WINDOW, COUNT)]

        app.post_message(CommentEventReceived(CommentAdded(seq=2, comment=note(COUNT))))
        await until(pilot, lambda: shown()[-1] == f"comment {COUNT}", "the live comment")
        earlier.press()
        await until(pilot, lambda: len(shown()) == COUNT + 1, "every comment")
        assert shown() == [f"comment {n}" for n in range(COUNT + 1)] and not earlier.display
