"""The ticket view: fields, description, the conversation, a comment box and the history, all live.

`GetTicket` fills it (the table's rows carry neither description nor comments) and `GetHistory` the timeline;
the app's messages keep both current. What the agent types goes into the app's drafts keystroke by keystroke,
so no event, reconnect or closing of the view can lose it. The view tells the others it is open (presence), and
the edit form, opened on top of it, that the ticket is being edited.

Writing (the box, drafts, edits, sends) is in its base, `comment_flow.CommentFlow`. Sans-I/O beside it:
`conversation` (the thread and its events), `drafts`, `timeline`, `presence`.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label, Static

from lesbillets_tui.context import Desk
from lesbillets_tui.conversation import Change
from lesbillets_tui.messages import (
    CommentChanged,
    ConnectionStateChanged,
    LoginAgainRequested,
    TableReloaded,
    TicketChanged,
    ViewersChanged,
)
from lesbillets_tui.palette import MUTED
from lesbillets_tui.safe_text import safe_block
from lesbillets_tui.screens.comment_flow import CommentFlow
from lesbillets_tui.screens.editor import EditorScreen
from lesbillets_tui.screens.help import HelpScreen
from lesbillets_tui.timefmt import spoken_duration
from lesbillets_tui.timeline import timeline
from lesbillets_tui.widgets.comment_box import CommentBox
from lesbillets_tui.widgets.conversation import Conversation
from lesbillets_tui.widgets.keys_footer import KeysFooter
from lesbillets_tui.widgets.sticky_scroll import StickyScroll
from lesbillets_tui.widgets.ticket_fields import TicketFields
from lesbillets_tui.widgets.timeline import Timeline
from protocol.client import ConnectionState
from protocol.errors import LesBilletsError, Locked, NotFound
from protocol.messages import HistoryEntry, TicketDetail
from protocol.rows import TableRow

WIDE = 110
"""From this many columns the timeline stands beside the conversation; below, `t` swaps them."""
AGES_EVERY_S = 15
NOT_CONNECTED = "Not connected: this loads once the connection is back."


class TicketViewScreen(CommentFlow):
    """One ticket in full. Closing it (escape) keeps any unsent text for the next time it is opened."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send"),  # not priority: the keys typed before it reach the box first
        Binding("escape", "back", "Back"),
        Binding("c", "write", "Comment"),
        Binding("e", "edit_ticket", "Edit"),
        Binding("E", "edit_last", "Edit mine", tooltip="Edit your last comment"),
        Binding("t", "toggle_history", "History"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "help", "Help", show=False),
        Binding("L", "login_again", "Log in again", show=False),
    ]

    def __init__(self, desk: Desk, ticket_id: uuid.UUID) -> None:
        super().__init__(desk, ticket_id)
        self.history: list[HistoryEntry] = []
        self._want_detail = self._want_history = False
        self._fetching = False
        self._ticks = 0
        self._first_look: TableRow | None = None

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    # --- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TicketFields(id="fields")
        with Horizontal(id="view-body"):
            with StickyScroll(id="thread"):  # newest last, kept in view until the agent scrolls up to read
                yield Static("", id="view-description")
                yield Label("Conversation", id="conversation-heading")
                yield Conversation(me=self.desk.model.me, now=self.desk.now, id="conversation")
            yield Timeline(id="timeline")
        yield CommentBox(id="comment-box")
        yield KeysFooter()

    def on_mount(self) -> None:
        self._first_look = self.desk.model.get(self.ticket_id)  # the table's row while GetTicket is on its way
        self._show_ticket()
        self._show_box()
        self.query_one("#thread").focus()
        self.desk.here.claim(self, self.ticket_id)
        self.set_interval(1.0, self._tick)
        self.reload()

    def on_unmount(self) -> None:
        self.desk.here.release(self)
        self.desk.drafts.tidy(self.ticket_id)

    # --- what the server says -------------------------------------------------------------

    def reload(self) -> None:
        """Fetch the ticket with its conversation, and its history, again."""
        self._want_detail = self._want_history = True
        self._fetch()

    def _history_changed(self) -> None:
        self._want_history = True
        self._fetch()

    @work(group="fetch", exit_on_error=False)
    async def _fetch(self) -> None:
        """Fetch what is wanted, until nothing is (events during a fetch ask for one more, not one each)."""
        if self._fetching:
            return
        self._fetching = True
        try:
            while self._want_detail or self._want_history:
                if self.desk.client is None:
                    self._unloaded(NOT_CONNECTED)
                    return
                if self._want_detail:
                    self._want_detail = False
                    await self._fetch_detail()
                if self._want_history:
                    self._want_history = False
                    await self._fetch_history()
        finally:
            self._fetching = False

    async def _fetch_detail(self) -> None:
        client = self.desk.client
        if client is None:
            return
        self.thread.reset()
        try:
            detail = await client.get_ticket(self.ticket_id)
        except NotFound:
            self._unloaded("This ticket is no longer there.")
            return
        except LesBilletsError as exc:
            self._unloaded(f"Could not load the conversation: {exc}")
            return
        self.show_detail(detail)

    async def _fetch_history(self) -> None:
        client = self.desk.client
        if client is None:
            return
        try:
            entries = await client.get_history(self.ticket_id)
        except LesBilletsError as exc:
            self.timeline.say(f"Could not load the history: {safe_block(str(exc))}")
            return
        self.show_history(entries)

    def _unloaded(self, why: str) -> None:
        self.query_one("#conversation-note", Static).update(Content.styled(safe_block(why), MUTED))
        if not self.timeline.loaded:
            self.timeline.say(why)

    def show_detail(self, detail: TicketDetail) -> None:
        """Show the ticket and its conversation as `GetTicket` gave them (and the events since)."""
        self.thread.load(detail)
        if self.thread.overflowed:  # too many events came meanwhile to trust the early ones: fetch again
            self.reload()
        self._show_ticket()
        self.conversation.load(self.thread.comments.values(), self._unsaved_edits())

    def show_history(self, entries: list[HistoryEntry]) -> None:
        self.history = entries
        self.timeline.show(timeline(entries, self.desk.model.user_name), self.desk.now())

    # --- what the app forwards ---------------------------------------------------------------

    def on_ticket_changed(self, message: TicketChanged) -> None:
        if message.ticket_id != self.ticket_id:
            return
        if self.thread.apply(message.event) is Change.TICKET:
            self._show_ticket()
        elif not self.thread.loaded and message.ticket is not None:
            self._first_look = message.ticket  # the table's view of it, until GetTicket answers
            self._show_ticket()
        self._history_changed()

    def on_comment_changed(self, message: CommentChanged) -> None:
        comment = message.event.comment
        if comment.ticket_id != self.ticket_id:
            return
        change = self.thread.apply(message.event)
        if change is not Change.NOTHING:
            self._show_comment(comment, added=change is Change.COMMENT_ADDED)
        self._settle_doubt()
        self._history_changed()

    def on_table_reloaded(self, _message: TableReloaded) -> None:
        self.reload()  # a snapshot replaced the table: events may have been missed

    def on_viewers_changed(self, message: ViewersChanged) -> None:
        if message.ticket_id in (None, self.ticket_id):
            self._show_ticket()

    def on_connection_state_changed(self, message: ConnectionStateChanged) -> None:
        if message.state is ConnectionState.RECONNECTING:
            if self._in_doubt is None:  # else the sentence about the comment in doubt stays: it says more
                self.box.say("Reconnecting… your text is kept; sending waits for the connection.", "warning")
        elif message.state is ConnectionState.CONNECTED:
            if self.box.said.startswith("Reconnecting"):
                self.box.say("Connected again.", "ok", fleeting=True)
            if not self.thread.loaded or not self.timeline.loaded:
                self.reload()
        else:
            self.box.say("Not connected: your text is kept. Press L to log in again, then ctrl+s.", "error")

    # --- drawing --------------------------------------------------------------------------

    def _show_ticket(self) -> None:
        ticket = self.thread.ticket
        viewers = self.desk.presence.others(self.ticket_id, self.desk.model.me)
        self.query_one(TicketFields).show(ticket or self._first_look, self.desk.model, self.desk.now(), viewers)
        description = self.query_one("#view-description", Static)
        if ticket is None or not ticket.description:
            description.update(Content.styled("(no description)" if self.thread.loaded else "…", MUTED))
        else:
            description.update(Content(safe_block(ticket.description)))

    def _tick(self) -> None:
        self._show_ticket()  # lock countdown
        self._ticks += 1
        if self._ticks % AGES_EVERY_S == 0:
            now = self.desk.now()
            self.conversation.tick()
            self.timeline.tick(now)

    def action_back(self) -> None:
        if self.focused is not self.box.area:
            self.action_close()
        elif self.draft.open_edit is not None:
            self._stop_editing()
        else:
            self.query_one("#thread").focus()

    def action_close(self) -> None:
        self._sync_draft()
        if self.ticket_id in self.desk.drafts:
            self.notify("Your unsent text is kept: it is back when you open this ticket again.", timeout=4)
        self.desk.here.release(self)
        self.dismiss(None)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(admin=self.desk.admin))

    def action_login_again(self) -> None:
        self.post_message(LoginAgainRequested())

    def action_toggle_history(self) -> None:
        self.toggle_class("-history-flipped")

    # --- the ticket's fields, under the lock ------------------------------------------------------

    def action_edit_ticket(self) -> None:
        self._lock_and_edit()

    @work(exclusive=True, group="lock", exit_on_error=False)
    async def _lock_and_edit(self) -> None:
        client = self.desk.client
        if client is None:
            self.notify("Not connected to the server.", severity="error", markup=False)
            return
        try:
            ticket = await client.lock(self.ticket_id)
        except Locked as exc:
            lock = exc.lock
            sentence = str(exc)
            if lock is not None:
                left = spoken_duration((lock.expires_at - self.desk.now()).total_seconds())
                sentence = f"{lock.user_name} is editing this ticket; their lock ends in {left}. You can still comment."
            self.notify(sentence, title="Locked", severity="warning", timeout=6, markup=False)
            return
        except LesBilletsError as exc:
            self.notify(str(exc), title="Cannot edit", severity="error", markup=False)
            return
        self.app.push_screen(EditorScreen(self.desk, ticket))  # it tells the others it is editing (presence)
