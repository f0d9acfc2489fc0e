"""Comments are Markdown from anyone: formatted, but links, images, HTML, markup and controls never act."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Markdown, Static

from lesbillets_tui.app import LesBilletsApp
from lesbillets_tui.markdown_safe import MAX_BLOCKS, block_count, comment_parser, formattable
from lesbillets_tui.screens.ticket_view import TicketViewScreen
from lesbillets_tui.widgets.comment_view import CommentView
from protocol.messages import Comment, TicketDetail
from tests.tui.factory import BOB, make_ticket
from tests.tui.helpers import terminal_output, until
from tests.tui.test_snapshots import NOW, offline_app, show_table

TICKET = make_ticket(5, title="Phishing report")


def inline_text(markdown: str) -> str:
    """The text Textual would show for one paragraph, after the defusing rule."""
    tokens = comment_parser().parse(markdown)
    inline = next(token for token in tokens if token.type == "inline")
    assert inline.children is not None
    return "".join(child.content for child in inline.children)


def inline_types(markdown: str) -> set[str]:
    tokens = comment_parser().parse(markdown)
    return {child.type for token in tokens for child in token.children or ()}


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        ("see [your bank](https://evil.example/login)", "see your bank <https://evil.example/login>"),
        ("at https://vendor.example/kb/1 now", "at https://vendor.example/kb/1 now"),
        ("mail ops@example.com", "mail ops@example.com"),
        ("![logo](https://tracker.example/pixel.png)", "🖼 logo <https://tracker.example/pixel.png>"),
        ("[js](javascript:alert(1))", "[js](javascript:alert(1))"),
        ("<b>bold?</b> <img src=x onerror=alert(1)>", "<b>bold?</b> <img src=x onerror=alert(1)>"),
        ("[bold red]markup[/] stays", "[bold red]markup[/] stays"),
    ],
    ids=["link", "bare link", "bare email", "image", "javascript link", "raw html", "textual markup"],
)
def test_links_images_and_html_become_plain_text(markdown: str, shown: str) -> None:
    """A link shows its target and is no link; an image is never fetched; HTML and markup are text."""
    assert inline_text(markdown) == shown
    assert not inline_types(markdown) & {"link_open", "image", "html_inline"}


def test_too_much_formatting_is_plain_text() -> None:
    """A comment that would build more than MAX_BLOCKS widgets is not formatted."""
    assert formattable("- a\n" * (MAX_BLOCKS // 3))
    hostile = "- a\n" * MAX_BLOCKS
    assert block_count(hostile) > MAX_BLOCKS and not formattable(hostile)


def note(n: int, body: str) -> Comment:
    return Comment(
        id=uuid.UUID(int=9000 + n),
        ticket_id=TICKET.id,
        author=BOB.id,
        author_name=BOB.name,
        body=body,
        created_at=NOW - timedelta(minutes=n),
    )


HOSTILE = note(
    1,
    "Please log in at [the intranet](https://evil.example/login) and see ![x](https://tracker.example/p.png)\n\n"
    "<script>alert(1)</script> [bold red]not markup[/] \x1b]0;owned\x07 \x1b[2J",
)
TOO_BIG = note(2, "- item\n" * (MAX_BLOCKS + 1))


async def open_hostile_view(pilot: Pilot[Any]) -> TicketViewScreen:
    await show_table(pilot)
    app = pilot.app
    assert isinstance(app, LesBilletsApp)
    screen = TicketViewScreen(app.desk, TICKET.id)
    await app.push_screen(screen)
    screen.show_detail(TicketDetail(rid=1, ticket=TICKET, comments=[TOO_BIG, HOSTILE], seq=1))
    await until(pilot, lambda: len(screen.query(CommentView)) == 2 and screen.query(Markdown), "the comments")
    await pilot.pause()
    return screen


async def test_a_hostile_comment_cannot_act_on_the_terminal_or_open_anything() -> None:
    """Targets are shown; no hyperlink, no control sequence, no markup reaches the terminal; a click opens nothing."""
    app = offline_app()
    opened: list[str] = []
    app.open_url = lambda url, *, new_tab=True: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(140, 60)) as pilot:
        screen = await open_hostile_view(pilot)
        text, raw = terminal_output(app)
        assert "the intranet <https://evil.example/login>" in text
        assert "🖼 x" in text and "<https://tracker.example/p.png>" in text
        assert "<script>alert(1)</script> [bold red]not markup[/] ␛]0;owned␇ ␛[2J" in text
        for sequence in ("\x1b]8;", "\x1b]0;owned", "\x1b[2J", "\x07"):
            assert sequence not in raw
        hostile = next(view for view in screen.query(CommentView) if view.comment.id == HOSTILE.id)
        paragraph = hostile.query("MarkdownParagraph").first()
        await pilot.click(paragraph, offset=(25, 0))  # on "the intranet"
        await pilot.pause()
        assert opened == []


async def test_a_comment_with_too_many_blocks_is_drawn_as_plain_text() -> None:
    """The widget-hungry comment shows as its text with a note, not as hundreds of Markdown widgets."""
    app = offline_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_hostile_view(pilot)
        big = next(view for view in screen.query(CommentView) if view.comment.id == TOO_BIG.id)
        assert not big.query(Markdown)
        shown = str(big.query_one(".comment-plain", Static).render())
        assert shown.startswith("- item\n- item") and "shown as plain text" in shown


def test_bare_urls_stay_text_so_parsing_stays_linear() -> None:
    """Bare URLs are not looked for (linkify): made links they looked the same, as their text, and linkify's scan
    is quadratic, so a comment repeating "<http://" took 0.8 s to parse, twice for each time it was shown."""
    assert "linkify" not in comment_parser().get_active_rules()["core"]
    tokens = comment_parser().parse("see https://vendor.example/kb/1 now")
    assert [child.content for token in tokens for child in token.children or ()] == [
        "see https://vendor.example/kb/1 now"
    ]
