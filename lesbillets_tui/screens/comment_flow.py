"""The ticket view's comment box at work: drafts kept keystroke by keystroke, edits of one's own comments, sends.

`CommentFlow` is the base of `TicketViewScreen`: it holds what concerns writing (this module) and leaves showing
the ticket to the subclass, which composes a `CommentBox`, a `Conversation` and the `StickyScroll` ``#thread``
around it. Sending needs no lock. The box's text lives in the app's drafts (`lesbillets_tui.drafts`), so the box can
be redrawn, or the screen closed, without losing a character; a send whose reply is lost with the connection stays
"in doubt" until its own event settles it, so it is never sent twice.
"""

from __future__ import annotations

import uuid

from textual import events, on, work
from textual.screen import Screen
from textual.widgets import TextArea

from lesbillets_tui.context import Desk
from lesbillets_tui.conversation import TicketThread
from lesbillets_tui.drafts import Draft, comment_problem
from lesbillets_tui.screens.confirm import ConfirmScreen
from lesbillets_tui.timefmt import ago
from lesbillets_tui.widgets.comment_box import CommentBox
from lesbillets_tui.widgets.comment_view import CommentView
from lesbillets_tui.widgets.conversation import Conversation
from lesbillets_tui.widgets.sticky_scroll import StickyScroll
from protocol.errors import ConnectionLost, LesBilletsError, NotConnected, RequestTimeout, ServerError
from protocol.messages import Comment

IN_DOUBT = (
    "The connection dropped before the server answered: your comment may have arrived. If it did, it shows above"
    " and the box empties by itself; if not, ctrl+s sends it again."
)
NO_ANSWER = (
    "The server did not answer in time: your comment may have arrived. If it did, it shows above and the box empties"
    " by itself; if not, ctrl+s sends it again."
)
NOT_SENT = (
    "Not sent: the server could not be reached, so your comment never left. Your text is kept; ctrl+s sends it"
    " once the connection is back."
)
NOT_SAVED = (
    "Not saved: the server could not be reached, so your edit never left. Your text is kept; ctrl+s saves it"
    " once the connection is back."
)


class CommentFlow(Screen[None]):
    """Writing on one ticket: a new comment or the edit of one's own, sent without a lock."""

    def __init__(self, desk: Desk, ticket_id: uuid.UUID) -> None:
        super().__init__()
        self.desk = desk
        self.ticket_id = ticket_id
        self.thread = TicketThread(ticket_id)
        self._sending = False
        self._in_doubt: str | None = None
        """A comment sent whose reply was lost with the connection: it may have arrived."""

    @property
    def draft(self) -> Draft:
        return self.desk.drafts[self.ticket_id]

    @property
    def box(self) -> CommentBox:
        return self.query_one(CommentBox)

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    # --- the box and the drafts ---------------------------------------------------------

    def _box_text(self) -> str:
        draft = self.draft
        edit = draft.edits.get(draft.open_edit) if draft.open_edit is not None else None
        return edit.text if edit is not None else draft.text

    def _show_box(self) -> None:
        draft = self.draft
        if draft.open_edit is not None and draft.open_edit not in draft.edits:
            draft.open_edit = None
        self.box.hold(self._box_text(), editing=draft.open_edit is not None)

    def _unsaved_edits(self) -> set[uuid.UUID]:
        return {comment_id for comment_id, edit in self.draft.edits.items() if edit.changed}

    @on(TextArea.Changed, "#box-text")
    def _sync_draft(self) -> None:
        """Keep what the box holds in the app's drafts (called on every change, and before anything uses it)."""
        text = self.box.text
        draft = self.draft
        if draft.open_edit is None:
            draft.text = text
            return
        edit = draft.edits.get(draft.open_edit)
        if edit is not None and edit.text != text:
            was = edit.changed
            edit.text = text
            if edit.changed != was:
                self.conversation.mark_unsaved(draft.open_edit, edit.changed)

    def on_key(self, _event: events.Key) -> None:
        self.box.keystroke()

    def action_write(self) -> None:
        self.box.area.focus()

    def _show_comment(self, comment: Comment, *, added: bool) -> None:
        self.conversation.put(comment)
        if added and comment.author == self.desk.model.me:  # the agent's own comment: show it, back at the end
            self.query_one("#thread", StickyScroll).stick()
        edit = self.draft.edits.get(comment.id)
        if edit is not None and comment.body != edit.original and self.draft.open_edit == comment.id:
            self.box.say("This comment was changed elsewhere since you began; saving replaces it.", "warning")

    def _settle_doubt(self) -> None:
        """A send whose reply was lost: once the app saw the comment arrive (drafts.arrived), empty the box, unless
        the agent has changed the text since (the box, not the draft, is what they see)."""
        body = self._in_doubt
        if body is None or self.draft.sending is not None:
            return
        self._in_doubt = None
        if self.draft.open_edit is None:
            if self.box.text == body:
                self.draft.text = ""
                self._show_box()
                self.box.say("Your comment did arrive; the box is free again.", "ok")
            else:
                self.draft.text = self.box.text

    # --- editing a comment -----------------------------------------------------------------

    def on_comment_view_edit_requested(self, message: CommentView.EditRequested) -> None:
        self._begin_edit(message.comment)

    def action_edit_last(self) -> None:
        own = self.thread.own_comments(self.desk.model.me)
        if own:
            self._begin_edit(own[-1])
        else:
            self.notify("You have not commented on this ticket yet.", timeout=3)

    def _begin_edit(self, comment: Comment) -> None:
        if comment.author != self.desk.model.me or self._sending:
            return
        self._sync_draft()
        edit = self.draft.begin_edit(comment.id, comment.body)
        self._show_box()
        self.box.say(f"Editing your comment of {ago(comment.created_at, self.desk.now())}.", "info")
        if edit.text != comment.body:
            self.box.say("Your earlier edit of this comment is back; ctrl+s saves it.", "warning")
        self.box.area.focus()

    def _stop_editing(self) -> None:
        self._sync_draft()
        draft = self.draft
        comment_id = draft.open_edit
        edit = draft.edits.get(comment_id) if comment_id is not None else None
        if comment_id is None or edit is None or not edit.changed:
            if comment_id is not None:
                draft.end_edit(comment_id)
                self.conversation.mark_unsaved(comment_id, False)
            self._show_box()
            self.box.say("")
            return

        def then(discard: bool | None) -> None:
            if discard:
                draft.end_edit(comment_id)
                self.conversation.mark_unsaved(comment_id, False)
                self._show_box()
                self.box.say("Edit dropped; the box holds your new comment again.")

        self.app.push_screen(ConfirmScreen("Drop your changes to this comment?", yes="Drop", no="Keep editing"), then)

    # --- sending -------------------------------------------------------------------------

    def action_send(self) -> None:
        if self._sending:
            return
        self._sync_draft()
        body = self._box_text().replace("\r\n", "\n")
        problem = comment_problem(body)
        if problem:
            self.box.say(problem, "error")
            return
        comment_id = self.draft.open_edit
        if comment_id is not None:
            edit = self.draft.edits[comment_id]
            if not edit.changed:
                self._stop_editing()
                return
        self._send(body, comment_id)

    @work(group="send", exit_on_error=False)
    async def _send(self, body: str, comment_id: uuid.UUID | None) -> None:
        client = self.desk.client
        if client is None:
            self.box.say("Not connected: your text is kept; ctrl+s sends it once the connection is back.", "error")
            return
        draft, area = self.draft, self.box.area
        self._sending = True
        area.read_only = True  # what is sent is what the box shows until the server answers
        self.box.say("Sending…" if comment_id is None else "Saving…")
        if comment_id is None:
            draft.sending, self._in_doubt = body, None
        try:
            if comment_id is None:
                comment = await client.add_comment(self.ticket_id, body)
            else:
                comment = await client.edit_comment(comment_id, body)
        except ServerError as exc:  # the server refused: nothing was added
            draft.sending = None
            self.box.say(f"Not sent: {exc} Your text is kept; ctrl+s tries again.", "error")
            return
        except LesBilletsError as exc:
            if isinstance(exc, NotConnected) and not isinstance(exc, ConnectionLost):
                # no connection to send it on came back in time: it never left, so nothing is in doubt
                draft.sending = None
                self.box.say(NOT_SENT if comment_id is None else NOT_SAVED, "error")
            elif comment_id is None:  # it may or may not have arrived: its event will tell (drafts.arrived)
                self._in_doubt = body
                self.box.say(NO_ANSWER if isinstance(exc, RequestTimeout) else IN_DOUBT, "warning")
            else:
                self.box.say(f"Not saved: {exc} Your text is kept; ctrl+s tries again.", "error")
            return
        finally:
            self._sending = False
            area.read_only = False
        if comment_id is None:
            draft.sent(body)
            self.box.say("Sent.", "ok")
        else:
            draft.end_edit(comment_id)
            self.conversation.mark_unsaved(comment_id, False)  # else `put` below redraws the stale note
            self.box.say("Saved.", "ok")
        self._show_box()
        if self.thread.loaded and comment.id not in self.thread.comments:
            self.thread.comments[comment.id] = comment  # shown now; its event, when it comes, changes nothing
        self._show_comment(comment, added=comment_id is None)
