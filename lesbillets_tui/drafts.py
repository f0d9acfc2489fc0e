"""What the agent has typed and not sent yet, per ticket, kept by the app for the whole session.

The ticket view writes every keystroke of its comment box here, so nothing the agent typed depends on the view
staying open: a lock taken or broken, a reassignment, another agent's comment, a reconnect or closing and
reopening the view all leave the draft where it was. (Zammad loses a half-written note when another agent changes
the owner; this is why.) One ticket holds one new comment and any number of edits of the agent's own comments, one
of which may be open in the box.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Final

from protocol.messages import COMMENT_MAX, MULTILINE_TEXT

_COMMENT_RULE: Final = re.compile(MULTILINE_TEXT)


@dataclass
class Edit:
    """An edit of one of the agent's comments: the text now, and the comment's text when the edit began."""

    text: str
    original: str

    @property
    def changed(self) -> bool:
        return self.text != self.original


@dataclass
class Draft:
    """One ticket's unsent text."""

    text: str = ""
    """The new comment being written."""
    edits: dict[uuid.UUID, Edit] = field(default_factory=dict)
    """Edits begun, by comment id (kept when the agent switches to another one)."""
    open_edit: uuid.UUID | None = None
    """The comment whose edit is in the box now (None: the box holds the new comment)."""
    sending: str | None = None
    """A new comment sent and not yet acknowledged: if its reply is lost with the connection, its own
    `CommentAdded` (replayed after the reconnect) tells that it arrived, so it is not sent twice."""

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not any(edit.changed for edit in self.edits.values())

    def begin_edit(self, comment_id: uuid.UUID, body: str) -> Edit:
        """Open the edit of a comment in the box, resuming one begun earlier."""
        edit = self.edits.setdefault(comment_id, Edit(body, body))
        self.open_edit = comment_id
        return edit

    def end_edit(self, comment_id: uuid.UUID) -> None:
        """The edit was saved or dropped."""
        self.edits.pop(comment_id, None)
        if self.open_edit == comment_id:
            self.open_edit = None

    def sent(self, body: str) -> None:
        """The new comment ``body`` reached the server: clear the box unless the agent wrote something else."""
        if self.text == body:
            self.text = ""
        if self.sending == body:
            self.sending = None


class Drafts:
    """Every ticket's draft, for as long as the app runs (dropped at logout: the next person is not shown them)."""

    def __init__(self) -> None:
        self._drafts: dict[uuid.UUID, Draft] = {}

    def __getitem__(self, ticket_id: uuid.UUID) -> Draft:
        draft = self._drafts.get(ticket_id)
        if draft is None:
            draft = self._drafts[ticket_id] = Draft()
        return draft

    def __contains__(self, ticket_id: object) -> bool:
        draft = self._drafts.get(ticket_id) if isinstance(ticket_id, uuid.UUID) else None
        return draft is not None and not draft.empty

    def tidy(self, ticket_id: uuid.UUID) -> None:
        """Forget a ticket's draft if it holds nothing (when its view closes)."""
        draft = self._drafts.get(ticket_id)
        if draft is not None and draft.empty and draft.sending is None:
            del self._drafts[ticket_id]

    def arrived(self, ticket_id: uuid.UUID, body: str) -> bool:
        """The agent's own comment ``body`` came back as an event: whether it settled a send in doubt."""
        draft = self._drafts.get(ticket_id)
        if draft is None or draft.sending is None or draft.sending != body:
            return False
        draft.sent(body)
        return True

    def clear(self) -> None:
        self._drafts.clear()


def comment_problem(text: str) -> str:
    """Why the server would refuse ``text`` as a comment, as a sentence; "" when it would not."""
    if not text.strip():
        return "Write something first."
    if len(text) > COMMENT_MAX:
        return f"A comment holds at most {COMMENT_MAX:,} characters; this one has {len(text):,}."
    if _COMMENT_RULE.search(text) is None:
        return "A comment cannot hold control characters (newlines and tabs are fine)."
    return ""
