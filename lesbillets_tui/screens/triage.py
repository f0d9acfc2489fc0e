"""The agent's day on the table, as the base of `TicketsScreen`: the inbox, the server's search behind the
filter, marks and quick changes, and the admin's powers (users, breaking a lock).

`TicketsScreen` shows the table; this class adds what the agent does with it. Its handlers are `@on` methods
with their own names, so Textual calls them as well as (after) the subclass's own handlers of the same
messages. The subclass provides ``desk`` (set in its constructor), ``_reload()`` (re-read the model into the
table and the status bar), and composes a `SearchStrip` and a `StatusBar`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer

from lesbillets_tui.context import Desk
from lesbillets_tui.due_tags import format_due, parse_due
from lesbillets_tui.messages import CommentChanged, InboxUpdated, TableReloaded
from lesbillets_tui.query import parse_query
from lesbillets_tui.quick_actions import (
    CLOSE,
    REOPEN,
    QuickChange,
    assign_to,
    change_tags,
    label,
    outcome,
    parse_tag_change,
    refusal_sentence,
    set_due,
)
from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.screens.admin import AdminScreen
from lesbillets_tui.screens.confirm import ConfirmScreen
from lesbillets_tui.screens.field_prompt import FieldPrompt
from lesbillets_tui.screens.inbox import InboxScreen
from lesbillets_tui.screens.priority_picker import PriorityPicker
from lesbillets_tui.search import LiveSearch
from lesbillets_tui.timefmt import spoken_duration
from lesbillets_tui.widgets.filter_bar import FilterBar
from lesbillets_tui.widgets.search_strip import SearchStrip
from lesbillets_tui.widgets.status_bar import StatusBar
from lesbillets_tui.widgets.ticket_table import TicketTable
from protocol.client import Client
from protocol.errors import LesBilletsError
from protocol.messages import HistoryKind, HitField, Priority, SearchHit
from protocol.rows import TableRow

SEARCH_DEBOUNCE_S = 0.25
SEARCH_LIMIT = 100

# (title, help, action, admins only) for the command palette; the same actions as the keys.
COMMANDS = (
    ("Inbox", "Assignments, mentions and broken locks (i)", "inbox", False),
    (
        "Mark ticket",
        "Mark or unmark the selected ticket; quick changes apply to every marked one (space)",
        "mark",
        False,
    ),
    ("Clear marks", "Unmark every ticket (escape)", "clear_marks", False),
    ("Assign to me", "Assign the selected or marked tickets to yourself (a)", "assign_me", False),
    ("Close ticket", "Close the selected or marked tickets (c)", "close_ticket", False),
    ("Reopen ticket", "Reopen the selected or marked tickets (o)", "reopen", False),
    ("Set priority", "Set the priority of the selected or marked tickets (p)", "priority", False),
    ("Set due time", "Set or clear the due time of the selected or marked tickets (d)", "due", False),
    ("Add or remove tags", "Add tags to the selected or marked tickets, or remove them with -tag (t)", "tags", False),
    ("Users", "List, add, disable and enable users, reset passwords (U)", "admin", True),
    ("Break lock", "Free the selected ticket from another agent's lock (B)", "break_lock", True),
)


TRIAGE_BINDINGS: list[BindingType] = [
    Binding("i", "inbox", "Inbox"),
    Binding("space", "mark", "Mark"),
    Binding("a", "assign_me", "Mine"),
    Binding("c", "close_ticket", "Close"),
    Binding("o", "reopen", "Reopen"),
    Binding("p", "priority", "Priority"),
    Binding("d", "due", "Due"),
    Binding("t", "tags", "Tags"),
    Binding("U", "admin", "Users"),
    Binding("B", "break_lock", "Break lock"),
    Binding("escape", "clear_marks", "Clear marks", show=False),
]
"""The keys of these actions; the subclass places them among its own (the footer shows keys in order)."""


class TriageScreen(Screen[None]):
    desk: Desk

    def __init__(self) -> None:
        super().__init__()
        self.search = LiveSearch()
        self.marked: set[uuid.UUID] = set()
        self._search_timer: Timer | None = None
        self._searching = False
        self._search_again = False

    def _reload(self) -> None:
        raise NotImplementedError

    @property
    def _table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def _is_admin(self) -> bool:
        return self.desk.admin

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("admin", "break_lock"):
            return self._is_admin()  # hidden from agents: the footer, the palette and the key
        if action == "clear_marks":
            return bool(self.marked)
        return True

    def triage_commands(self) -> Iterator[SystemCommand]:
        for title, help_text, action, admins_only in COMMANDS:
            if self.check_action(action, ()) and (self._is_admin() or not admins_only):
                yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))

    # --- the inbox ----------------------------------------------------------------------

    @on(InboxUpdated)
    def _show_unread(self) -> None:
        inbox = self.desk.inbox
        if inbox.loaded:
            self.query_one(StatusBar).show(unread=inbox.unread)

    def action_inbox(self) -> None:
        def then(ticket_id: uuid.UUID | None) -> None:
            if ticket_id is not None:
                self.jump_to(ticket_id)

        self.app.push_screen(InboxScreen(self.desk), then)

    def jump_to(self, ticket_id: uuid.UUID) -> None:
        """Put the cursor on a ticket (clearing the filter if it hides it) and open its view."""
        model = self.desk.model
        if model.get(ticket_id) is None:
            self.notify("That ticket is not in the table.", severity="warning", markup=False)
            return
        if model.position_of(ticket_id) is None:
            self.query_one(FilterBar).input.value = ""  # its Changed message re-filters the same way, later
            model.set_query("")
            self._searched("")
            self._reload()
        self._table.select_ticket(ticket_id)
        self._table.focus()
        self._table.action_open()

    # --- the server's search behind the filter --------------------------------------------------

    @on(FilterBar.Changed)
    def _filter_changed(self, message: FilterBar.Changed) -> None:
        self._searched(message.query)

    def _searched(self, query: str) -> None:
        model = self.desk.model
        # resolved as the table resolves it (assignee:me, assignee:bob): a new comment's ticket joins by the same rule
        parsed = parse_query(query, me=model.me, users=model.users.values()).filter
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        ask = self.search.set_query(query, parsed.words, parsed)
        self.desk.model.set_search_hits(())
        if ask:
            self._search_timer = self.set_timer(SEARCH_DEBOUNCE_S, self._search_now)
        self._show_search()

    def _search_now(self) -> None:
        self._search_timer = None
        if self._searching:
            self._search_again = True  # one request in flight: the newest query goes when it is answered
        else:
            self._searching = True  # before the worker runs: a second timer must not start a second one
            self._run_search()

    @work(exit_on_error=False, group="search")
    async def _run_search(self) -> None:
        try:
            while True:
                self._search_again = False
                query = self.search.query
                client = self.desk.client
                if not self.search.words:
                    break
                if client is None:
                    self.search.failed(query, "not connected.")
                else:
                    try:
                        hits = await client.search(query, limit=SEARCH_LIMIT)
                    except LesBilletsError as exc:
                        self.search.failed(query, str(exc))
                    else:
                        self.show_search_hits(query, hits)
                self._show_search()
                if not self._search_again:
                    break
        finally:
            self._searching = False

    @property
    def search_settled(self) -> bool:
        """No search is waiting for the typing to pause or for the server's answer."""
        return self._search_timer is None and not self._searching

    def show_search_hits(self, query: str, hits: list[SearchHit]) -> None:
        """The server's answer for ``query``: shown, unless the filter box has moved on (a stale answer)."""
        if self.search.answer(query, hits):
            self.desk.model.set_search_hits(self.search.hits)
            self._reload()
        self._show_search()

    @on(CommentChanged)
    def _comment_changed(self, message: CommentChanged) -> None:
        comment = message.event.comment
        if self.search.comment_added(comment, self.desk.model.get(comment.ticket_id)) is not None:
            self.desk.model.set_search_hits(self.search.hits)
            self._reload()
            self._show_search()

    @on(TicketTable.Highlighted)
    def _show_cursor_hit(self, message: TicketTable.Highlighted) -> None:
        ticket = message.ticket
        strip = self.query_one(SearchStrip)
        strip.show_hit(self.search.hits.get(ticket.id) if ticket is not None else None)

    def _show_search(self) -> None:
        strip = self.query_one(SearchStrip)
        beyond_titles = sum(hit.field is not HitField.TITLE for hit in self.search.hits.values())
        strip.show_search(self.search, beyond_titles)
        ticket = self._table.cursor_ticket
        strip.show_hit(self.search.hits.get(ticket.id) if ticket is not None else None)

    # --- marks and quick changes -----------------------------------------------------------------

    @on(TableReloaded)
    def _prune_marks(self) -> None:
        kept = {ticket_id for ticket_id in self.marked if self.desk.model.get(ticket_id) is not None}
        if kept != self.marked:
            self._set_marks(kept)

    def _set_marks(self, marked: set[uuid.UUID]) -> None:
        self.marked = marked
        self._table.set_marked(marked)
        self.query_one(StatusBar).show(marked=len(marked))
        self.refresh_bindings()

    def action_mark(self) -> None:
        ticket = self._table.cursor_ticket
        if ticket is None:
            return
        self._set_marks(self.marked ^ {ticket.id})
        self._table.action_cursor_down()

    def action_clear_marks(self) -> None:
        self._set_marks(set())

    def _targets(self) -> list[uuid.UUID]:
        """The marked tickets, in table order, or else the one under the cursor."""
        model = self.desk.model
        if self.marked:
            return sorted(self.marked, key=lambda ticket_id: model.position_of(ticket_id) or 0)
        ticket = self._table.cursor_ticket
        return [ticket.id] if ticket is not None else []

    def action_assign_me(self) -> None:
        if self.desk.user is not None:
            self._quick(assign_to(self.desk.user.id))

    def action_close_ticket(self) -> None:
        self._quick(CLOSE)

    def action_reopen(self) -> None:
        self._quick(REOPEN)

    def action_priority(self) -> None:
        targets = self._targets()
        if not targets:
            return
        subject = self._subject(targets)

        def then(priority: Priority | None) -> None:
            if priority is not None:
                self._quick(QuickChange(f"Set to {priority.value}", priority=priority), targets)

        self.app.push_screen(PriorityPicker(subject), then)

    def _subject(self, targets: list[uuid.UUID]) -> str:
        return f"{len(targets):,} tickets" if len(targets) > 1 else label(self.desk.model.get(targets[0]))

    def action_due(self) -> None:
        targets = self._targets()
        if not targets:
            return
        one = self.desk.model.get(targets[0]) if len(targets) == 1 else None

        def then(text: str | None) -> None:
            if text is not None:
                # parsed again now: "+3h" counts from when enter was pressed
                self._quick(set_due(parse_due(text, self.desk.now())), targets)

        prompt = FieldPrompt(
            f"Due time of {self._subject(targets)}",
            "+3h, +2d, +30m, or a local time as YYYY-MM-DD HH:MM · empty clears it · escape cancels",
            lambda text: parse_due(text, self.desk.now()),
            value=format_due(one.due_at) if one is not None else "",
            placeholder="+3h, +2d or YYYY-MM-DD HH:MM",
        )
        self.app.push_screen(prompt, then)

    def action_tags(self) -> None:
        targets = self._targets()
        if not targets:
            return

        def then(text: str | None) -> None:
            if text is not None:
                self._quick(change_tags(*parse_tag_change(text)), targets)

        prompt = FieldPrompt(
            f"Tags of {self._subject(targets)}",
            "words to add, -word to remove (vpn -printer) · escape cancels",
            parse_tag_change,
            placeholder="e.g. vpn -printer",
        )
        self.app.push_screen(prompt, then)

    def _quick(self, change: QuickChange, targets: list[uuid.UUID] | None = None) -> None:
        targets = targets if targets is not None else self._targets()
        if targets:
            self._send_change(change, targets)

    @work(exit_on_error=False, group="quick")
    async def _send_change(self, change: QuickChange, targets: list[uuid.UUID]) -> None:
        client = self.desk.client
        if client is None:
            self.notify("Not connected to the server.", severity="error", markup=False)
            return
        try:
            changed = await change.send(client, targets)
        except LesBilletsError as exc:
            self.notify(f"Nothing changed: {exc}", severity="error", markup=False)
            return
        done = outcome(change, changed)
        if done is not None:
            self.notify(done, markup=False)
        if changed.refused:
            sentences = [refusal_sentence(refusal, self.desk.model) for refusal in changed.refused]
            self.notify("\n".join(sentences), title="Not changed", severity="warning", timeout=8, markup=False)
        # The marks stay (escape clears them): the next key acts on the same tickets whenever this reply came.

    # --- admin powers ----------------------------------------------------------------------------

    def action_admin(self) -> None:
        if self._is_admin():
            self.app.push_screen(AdminScreen(self.desk))

    def action_break_lock(self) -> None:
        ticket = self._table.cursor_ticket
        if ticket is None or not self._is_admin():
            return
        lock = ticket.lock
        if lock is None:
            self.notify(f"{label(ticket)} is not locked.", markup=False)
        elif self.desk.user is not None and lock.user_id == self.desk.user.id:
            self.notify("That lock is yours: close its editor to release it.", markup=False)
        else:
            self._break_lock(ticket)

    @work(exclusive=True, exit_on_error=False, group="break-lock")
    async def _break_lock(self, ticket: TableRow) -> None:
        client, lock = self.desk.client, ticket.lock
        if client is None or lock is None:
            return
        holder = safe_line(lock.user_name)
        since = await locked_since(client, ticket)
        now = self.desk.now()
        held = (
            f"They have held it for {spoken_duration((now - since).total_seconds())}"
            if since is not None
            else f"Their lock ends in {spoken_duration((lock.expires_at - now).total_seconds())}"
        )
        question = (
            f"Break {holder}'s lock on {label(ticket)} “{safe_line(ticket.title)}”? {held}; "
            "their form keeps their text."
        )
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes="Break lock")):
            return
        current = self.desk.model.get(ticket.id)
        if current is None or current.lock is None or current.lock.fence != lock.fence:
            self.notify("The lock changed meanwhile; nothing was broken.", severity="warning", markup=False)
            return
        try:
            await client.unlock(ticket.id, force=True)
        except LesBilletsError as exc:
            self.notify(f"The lock was not broken: {exc}", severity="error", markup=False)
            return
        self.notify(f"Broke {holder}'s lock on {label(ticket)}.", markup=False)


async def locked_since(client: Client, ticket: TableRow) -> datetime | None:
    """When the current holder took the lock, from the ticket's history (renewals are not in it); None if unknown."""
    lock = ticket.lock
    if lock is None:
        return None
    try:
        entries = await client.get_history(ticket.id)
    except LesBilletsError:
        return None
    taken = [entry.at for entry in entries if entry.kind is HistoryKind.LOCKED and entry.actor == lock.user_id]
    return taken[-1] if taken else None
