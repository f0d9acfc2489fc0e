"""The conversation of a ticket: its comments, oldest first and newest last, one `CommentView` each.

Each comment is a Textual `Markdown` widget, a dozen widgets for a short comment with a list, and mounting them
costs tens of milliseconds each; a ticket may carry a thousand comments. So the newest `WINDOW` are shown, and a
button above them shows `WINDOW` more at a time; comments that arrive while the view is open are always shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, Static

from lesbillets_tui.palette import MUTED
from lesbillets_tui.timefmt import Clock
from lesbillets_tui.widgets.comment_view import CommentView
from protocol.messages import Comment

EMPTY = "No comments yet: press c to write the first."
LOADING = "Loading the conversation…"
WINDOW = 30
"""Comments shown when the view opens, and how many more each press of "show earlier" adds."""


class Conversation(Vertical):
    """Comments in order; `load` replaces them all, `put` adds or updates one in place."""

    DEFAULT_CSS = """
    Conversation {
        height: auto;
        & > #conversation-note { color: $text-muted; height: auto; margin-bottom: 1; }
        & > #conversation-earlier { margin-bottom: 1; min-width: 0; }
    }
    """

    def __init__(self, *, me: uuid.UUID | None, now: Clock, window: int = WINDOW, id: str | None = None) -> None:
        super().__init__(id=id)
        self.me = me
        self.now = now
        self.window = window
        self._comments: dict[uuid.UUID, Comment] = {}
        self._unsaved: set[uuid.UUID] = set()
        self._views: dict[uuid.UUID, CommentView] = {}

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(LOADING, MUTED), id="conversation-note")
        earlier = Button("", id="conversation-earlier", compact=True)
        earlier.display = False
        yield earlier

    @property
    def comment_ids(self) -> list[uuid.UUID]:
        """The comments shown, oldest first."""
        return [comment_id for comment_id in self._comments if comment_id in self._views]

    @property
    def hidden(self) -> int:
        return len(self._comments) - len(self._views)

    def view_of(self, comment_id: uuid.UUID) -> CommentView | None:
        return self._views.get(comment_id)

    def load(self, comments: Iterable[Comment], unsaved: set[uuid.UUID]) -> None:
        """Show ``comments`` (after a fresh `GetTicket`); the views of comments already shown stay."""
        self._comments = {comment.id: comment for comment in comments}
        self._unsaved = set(unsaved)
        self._sync()

    def put(self, comment: Comment) -> bool:
        """Add a comment at the end, or show its new text where it is; whether it was new."""
        new = comment.id not in self._comments
        self._comments[comment.id] = comment
        if new:
            self.window += 1  # what arrives while the agent reads is always shown
        view = self._views.get(comment.id)
        if view is not None:
            view.show(comment, now=self.now(), unsaved_edit=comment.id in self._unsaved)
        else:
            self._sync()
        return new

    def mark_unsaved(self, comment_id: uuid.UUID, unsaved: bool) -> None:
        """Note on a comment that the agent has an edit of it not saved yet (or no longer)."""
        if (comment_id in self._unsaved) == unsaved:
            return
        self._unsaved.symmetric_difference_update({comment_id})
        view = self._views.get(comment_id)
        if view is not None:
            view.show(view.comment, now=self.now(), unsaved_edit=unsaved)

    def show_earlier(self) -> None:
        self.window += WINDOW
        self._sync()

    def tick(self) -> None:
        now = self.now()
        for view in self._views.values():
            view.tick(now)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "conversation-earlier":
            event.stop()
            self.show_earlier()

    def _sync(self) -> None:
        shown = list(self._comments.values())[-self.window :] if self.window > 0 else []
        wanted = {comment.id for comment in shown}
        for comment_id in [known for known in self._views if known not in wanted]:
            self._views.pop(comment_id).remove()
        now = self.now()
        following: CommentView | None = None  # new comments go before the next one already shown: order holds
        for comment in reversed(shown):
            view = self._views.get(comment.id)
            if view is None:
                view = CommentView(
                    comment, mine=comment.author == self.me, now=now, unsaved_edit=comment.id in self._unsaved
                )
                self._views[comment.id] = view
                self.mount(view, before=following)
            else:
                view.show(comment, now=now, unsaved_edit=comment.id in self._unsaved)
            following = view
        hidden = self.hidden
        earlier = self.query_one("#conversation-earlier", Button)
        earlier.label = f"Show {min(hidden, WINDOW)} earlier comments ({hidden} not shown)"
        earlier.display = hidden > 0
        note = self.query_one("#conversation-note", Static)
        note.update(Content.styled(EMPTY, MUTED))
        note.display = not self._comments
