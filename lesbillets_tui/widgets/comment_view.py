"""One comment of the conversation: who wrote it and when, then its Markdown (defused: see markdown_safe)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Markdown, Static

from lesbillets_tui.markdown_safe import comment_parser, formattable
from lesbillets_tui.palette import MUTED
from lesbillets_tui.safe_text import safe_block, safe_line
from lesbillets_tui.timefmt import ago
from protocol.messages import Comment


def comment_header(comment: Comment, *, mine: bool, now: datetime, unsaved_edit: bool = False) -> Content:
    """The line above a comment: "Bob Dubois · 3m ago · edited", "(you)", and a note of an unsaved edit."""
    parts: list[tuple[str, str]] = [(safe_line(comment.author_name), "bold $text-accent" if mine else "bold")]
    if mine:
        parts.append((" (you)", MUTED))
    parts.append((f" · {ago(comment.created_at, now)}", MUTED))
    if comment.edited_at is not None:
        parts.append((f" · edited {ago(comment.edited_at, now)}", MUTED))
    if unsaved_edit:
        parts.append((" · your edit is not saved yet", "$text-warning"))
    return Content.assemble(*parts)


class CommentView(Vertical, can_focus=True):
    """A comment; focusable so the agent can pick one of theirs to edit (enter)."""

    DEFAULT_CSS = """
    CommentView {
        height: auto;
        padding: 0 1;
        margin-bottom: 1;
        border-left: tall $panel-lighten-2;
        &.-mine { border-left: tall $accent 60%; }
        &:focus { background: $boost; border-left: tall $accent; }
        & > .comment-header { height: 1; }
        & > Markdown { padding: 0; margin: 0 0 -1 0; background: transparent; }
        /* -1 takes back the last block's own margin; a :last-child rule would do it too, but makes Textual
           restyle every comment on each mount (quadratic: 100 comments took 100 s to show) */
        & > .comment-plain { height: auto; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "edit", "Edit comment", show=False)]

    class EditRequested(Message):
        """The agent asked to edit this comment (only sent for their own)."""

        def __init__(self, comment: Comment) -> None:
            super().__init__()
            self.comment = comment

    def __init__(self, comment: Comment, *, mine: bool, now: datetime, unsaved_edit: bool = False) -> None:
        super().__init__(classes="-mine" if mine else "")
        self.comment = comment
        self.mine = mine
        self.unsaved_edit = unsaved_edit
        self._now = now

    def compose(self) -> ComposeResult:
        header = comment_header(self.comment, mine=self.mine, now=self._now, unsaved_edit=self.unsaved_edit)
        yield Static(header, classes="comment-header")
        body = safe_block(self.comment.body)
        if formattable(body):
            yield Markdown(body, parser_factory=comment_parser, open_links=False)
        else:
            note = Content.styled("\n(shown as plain text: too much formatting to draw)", MUTED)
            yield Static(Content(body) + note, classes="comment-plain")

    def show(self, comment: Comment, *, now: datetime, unsaved_edit: bool = False) -> None:
        """Show a newer version of the comment (redrawing its body only when the text changed)."""
        body_changed = comment.body != self.comment.body
        self.comment, self.unsaved_edit, self._now = comment, unsaved_edit, now
        if body_changed:
            self.refresh(recompose=True)
        else:
            self.tick(now)

    def tick(self, now: datetime) -> None:
        """Age the header ("3m ago")."""
        self._now = now
        header = comment_header(self.comment, mine=self.mine, now=now, unsaved_edit=self.unsaved_edit)
        self.query_one(".comment-header", Static).update(header)

    def action_edit(self) -> None:
        if self.mine:
            self.post_message(self.EditRequested(self.comment))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        # Links are defused into text (markdown_safe); should one slip through, it is still never followed.
        event.stop()
