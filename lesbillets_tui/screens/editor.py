"""The ticket form, for a new ticket or a locked one.

Editing happens under a lease: the form opens only after the lock was taken, renews it while the agent
is active (at most every `lease.RENEW_EVERY_S`), warns when an idle lease is about to run out, and releases it
on save or cancel. Whatever goes wrong (conflict, expired or broken lock, lost connection) the form and
what was typed in it stay; the banner says what happened and what key fixes it.

This module is the screen: widgets, timers, workers, the banner. The decisions it makes without I/O live
beside it: `lesbillets_tui.ticket_form` (values, validity, which fields changed) and `lesbillets_tui.lease`
(when the lease ends, when to renew, when to warn).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any, ClassVar, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Static, TextArea

from lesbillets_tui.context import Desk
from lesbillets_tui.due_tags import parse_due, parse_tags
from lesbillets_tui.lease import LOST_REASONS, lease_deadline, renewal_due, warn_before
from lesbillets_tui.messages import ConnectionStateChanged, TableReloaded, TicketChanged
from lesbillets_tui.safe_text import safe_block, safe_line
from lesbillets_tui.screens.confirm import ConfirmScreen
from lesbillets_tui.screens.form_keys import FORM_FOCUS_BINDINGS
from lesbillets_tui.ticket_form import (
    NEW_TICKET,
    FieldConflict,
    FormValues,
    changed_by_others,
    conflicts,
    invalid,
    theirs_value,
    update_changes,
)
from lesbillets_tui.timefmt import duration, spoken_duration
from lesbillets_tui.widgets.conflict_panel import ConflictPanel
from lesbillets_tui.widgets.keys_footer import KeysFooter
from protocol.client import ConnectionState
from protocol.errors import Conflict, LesBilletsError, Locked, NotLockHolder
from protocol.messages import TITLE_MAX, Priority, Status, Ticket, TicketLocked, TicketUnlocked, TicketUpdated

NOBODY = "-"
"""The assignee Select's value for "unassigned" (a Select needs a hashable, non-None value)."""
DUE_HINT = "+3h, +2d or YYYY-MM-DD HH:MM"
"""The Due field's placeholder: the forms `due_tags.parse_due` reads."""


class EditorScreen(Screen["Ticket | None"]):
    """Edit ``ticket`` (already locked by this session), or create a ticket when it is None.

    Dismisses with the saved or created ticket, or None when cancelled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),  # not priority: it must come after the keys typed before it
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+l", "lock", "Lock / extend"),
        *FORM_FOCUS_BINDINGS,
    ]

    def __init__(self, desk: Desk, ticket: Ticket | None) -> None:
        super().__init__()
        self.desk = desk
        self.ticket = ticket
        """The ticket as it was when the form opened (None: a new ticket)."""
        self.original = FormValues.of(ticket) if ticket is not None else NEW_TICKET
        self.base_version = ticket.version if ticket is not None else 0
        """The version a save claims to be based on; a stale one earns a `conflict` from the server."""
        self._theirs: Ticket | None = None
        """The ticket in full as the last conflict found it (`GetTicket`), for "Use theirs"."""
        self.holding = ticket is not None
        self.deadline: datetime | None = None
        self.renewed_at: datetime | None = None
        self.active_at: datetime | None = None
        self.busy = False
        self.closing = False
        self._sticky = False

    @property
    def is_new(self) -> bool:
        return self.ticket is None

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        values = self.original
        heading = "New ticket" if self.ticket is None else f"Edit ticket · v{self.ticket.version}"
        with VerticalScroll(id="editor"):  # scrolls when the terminal is too short for the whole form
            yield Label(heading, id="editor-heading")
            yield Static("", id="banner", markup=False)
            yield ConflictPanel(id="conflicts")
            yield Label("Title", classes="field-label")
            yield Input(
                values.title,
                id="title",
                max_length=TITLE_MAX,
                placeholder="What is the problem?",
                select_on_focus=False,
            )
            # Description right after the title: Tab from the title goes to it, so a burst of "title, Tab, text"
            # (tmux send-keys, a paste) lands in the description rather than opening the Status dropdown.
            yield Label("Description", classes="field-label")
            yield TextArea(values.description, id="description", soft_wrap=True, tab_behavior="focus")
            with Horizontal(id="editor-choices"):
                with Vertical():
                    yield Label("Status", classes="field-label")
                    yield Select(((s.value, s) for s in Status), value=values.status, allow_blank=False, id="status")
                with Vertical():
                    yield Label("Priority", classes="field-label")
                    yield Select(
                        ((p.value, p) for p in Priority), value=values.priority, allow_blank=False, id="priority"
                    )
                with Vertical():
                    yield Label("Assignee", classes="field-label")
                    yield Select(
                        self._assignee_options(),
                        value=str(values.assignee) if values.assignee else NOBODY,
                        allow_blank=False,
                        id="assignee",
                    )
            with Horizontal(id="editor-extras"):
                with Vertical():
                    yield Label("Due (local time)", classes="field-label")
                    # no example date: any fixed one is in the past some day
                    yield Input(values.due_at, id="due_at", placeholder=DUE_HINT, select_on_focus=False)
                with Vertical():
                    yield Label("Tags", classes="field-label")
                    yield Input(values.tags, id="tags", placeholder="vpn network", select_on_focus=False)
        yield KeysFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a new ticket has no lock to extend; False (not None) also takes ctrl+l out of the footer
        return not (action == "lock" and self.is_new)

    def _assignee_options(self, also: uuid.UUID | None = None) -> list[tuple[Text, str]]:
        model = self.desk.model
        users = sorted(model.users.values(), key=lambda user: user.name.casefold())
        names = [("Unassigned", NOBODY)]
        names += [(f"{user.name} (you)" if user.id == model.me else user.name, str(user.id)) for user in users]
        known = {value for _, value in names}
        for extra in (self.original.assignee, also):
            if extra is not None and str(extra) not in known:
                names.append((model.user_name(extra), str(extra)))
                known.add(str(extra))
        # a str prompt would be parsed as markup: a name is shown as the characters it has
        return [(Text(safe_line(name)), value) for name, value in names]

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()
        now = self.desk.now()
        self.renewed_at = self.active_at = now
        if self.holding:
            self.deadline = self._deadline_from(self.ticket, now)
        self._show_lock_state()
        self.set_interval(1.0, self._tick)
        # Reading is activity too: scrolling the description or the form (keys, wheel, scrollbar) renews the lease.
        for scrolled in (self.query_one("#description", TextArea), self.query_one("#editor", VerticalScroll)):
            self.watch(scrolled, "scroll_y", self._scrolled, init=False)
        if self.ticket is not None:
            self.desk.here.claim(self, self.ticket.id, editing=True)  # presence: the others see it is being edited

    def on_unmount(self) -> None:
        self.desk.here.release(self)

    # --- reading the form -----------------------------------------------------------------

    def values(self) -> FormValues:
        assignee = self.query_one("#assignee", Select).value
        return FormValues(
            title=self.query_one("#title", Input).value,
            description=self.query_one("#description", TextArea).text,
            status=cast(Status, self.query_one("#status", Select).value),
            priority=cast(Priority, self.query_one("#priority", Select).value),
            assignee=None if assignee in (NOBODY, Select.BLANK) else uuid.UUID(str(assignee)),
            due_at=self.query_one("#due_at", Input).value,
            tags=self.query_one("#tags", Input).value,
        )

    @property
    def dirty(self) -> bool:
        return self.values() != self.original

    # --- the banner ------------------------------------------------------------------

    def say(self, text: str, kind: str = "info", *, sticky: bool = True) -> None:
        """Show a sentence in the banner; ``kind`` is info, ok, warning or error.

        A sticky sentence (what happened) stays until the agent acts, or until the lease needs a warning;
        otherwise the once-a-second lease status replaces it.
        """
        self._sticky = sticky
        banner = self.query_one("#banner", Static)
        banner.update(safe_block(text))  # sentences carry names, titles and the server's words
        banner.set_classes(f"-{kind}")

    def _show_lock_state(self) -> None:
        if self.is_new:
            self.say("A new ticket needs no lock. ctrl+s creates it, escape cancels.", sticky=False)
            return
        if not self.holding or self.deadline is None:
            return
        left = (self.deadline - self.desk.now()).total_seconds()
        if left <= warn_before(self.desk.lock_ttl_s):
            self.say(f"Your lock ends in {spoken_duration(left)}: press ctrl+l to keep it.", "warning", sticky=False)
        elif not self._sticky:
            self.say(
                f"You hold the lock: {duration(left)} left, renewed while you work in the form (ctrl+l extends). "
                "ctrl+s saves.",
                "ok",
                sticky=False,
            )

    # --- the lease -------------------------------------------------------------------

    def _deadline_from(self, ticket: Ticket | None, now: datetime) -> datetime:
        return lease_deadline(ticket, now, self.desk.lock_ttl_s)

    def on_key(self, _event: events.Key) -> None:
        self._activity()

    def on_descendant_focus(self, _event: events.DescendantFocus) -> None:
        self._activity()  # moving between fields, by key or by mouse

    def on_mouse_down(self, _event: events.MouseDown) -> None:
        self._activity()

    def _scrolled(self, _y: float) -> None:
        self._activity()

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    def _field_changed(self) -> None:
        self._activity()

    def _activity(self) -> None:
        self.active_at = self.desk.now()

    def _tick(self) -> None:
        if not self.holding or self.deadline is None or self.busy or self.closing:
            return
        now = self.desk.now()
        left = (self.deadline - now).total_seconds()
        if left <= 0:
            self._lost("Your lock expired")
            return
        if renewal_due(now, self.renewed_at, self.active_at, self.desk.lock_ttl_s):
            self._renew(quiet=True)
        self._show_lock_state()

    def _lost(self, why: str) -> None:
        if not self.holding or self.closing:
            return
        self.holding = False
        self.deadline = None
        self.say(f"{why}. Your text is kept: press ctrl+l to lock the ticket again, then ctrl+s to save.", "error")

    def action_lock(self) -> None:
        if self.is_new or self.busy:
            return
        if self.holding:
            self._renew(quiet=False)
        else:
            self._relock()

    @work(exclusive=True, exit_on_error=False, group="lease")
    async def _renew(self, *, quiet: bool) -> None:
        assert self.ticket is not None
        client = self.desk.client
        self.renewed_at = self.desk.now()  # also paces retries when the server cannot be reached
        if client is None:
            self.say("Not connected: the lock cannot be renewed until the connection is back.", "warning")
            return
        try:
            ticket = await client.renew_lock(self.ticket.id)
        except NotLockHolder as exc:
            self._lost(str(exc).rstrip("."))
            return
        except LesBilletsError as exc:
            self.say(f"Could not renew the lock: {exc} Your text is kept.", "warning")
            return
        now = self.desk.now()
        self.deadline = self._deadline_from(ticket, now)
        self.renewed_at = now
        if not quiet:
            self.active_at = now
            self._sticky = False
        self._show_lock_state()

    @work(exclusive=True, exit_on_error=False, group="lease")
    async def _relock(self) -> None:
        assert self.ticket is not None
        client = self.desk.client
        if client is None:
            self.say("Not connected: the ticket can be locked again once the connection is back.", "warning")
            return
        self.busy = True
        try:
            ticket = await client.lock(self.ticket.id)
        except Locked as exc:
            who = exc.lock.user_name if exc.lock is not None else "Someone else"
            self.say(f"{who} holds the lock now. Your text is kept; try ctrl+l again later.", "error")
            return
        except LesBilletsError as exc:
            self.say(f"Could not lock the ticket: {exc} Your text is kept.", "error")
            return
        finally:
            self.busy = False
        now = self.desk.now()
        self.holding = True
        self.deadline = self._deadline_from(ticket, now)
        self.renewed_at = self.active_at = now
        changed = self._changed_by_others(ticket)
        if changed:
            self.say(f"Locked again. {changed} Saving will show you a conflict first.", "warning")
        else:
            self.say("Locked again: ctrl+s saves.", "ok")

    def _conflicts(self, latest: Ticket | None) -> list[FieldConflict]:
        return conflicts(self.ticket, latest, self.values(), self.desk.model.user_name, baseline=self.original)

    async def show_conflicts(self, latest: Ticket | None) -> None:
        """The fields they changed and the agent did not take their values, and count as the agent's starting
        point (so the form shows what a save keeps, and escape still asks only about the agent's own changes)."""
        if latest is not None:
            for conflict in self._conflicts(latest):
                if conflict.kept and not conflict.same:
                    self._put(conflict.field, theirs_value(latest, conflict.field))
                    taken = getattr(self.values(), conflict.field)
                    self.original = dataclasses.replace(self.original, **{conflict.field: taken})
        await self.query_one(ConflictPanel).show(self._conflicts(latest))

    def _put(self, field: str, value: Any) -> None:
        if field in ("title", "due_at", "tags"):
            self.query_one(f"#{field}", Input).value = value
        elif field == "description":
            self.query_one("#description", TextArea).text = value
        elif field == "assignee":
            assignee = self.query_one("#assignee", Select)
            assignee.set_options(self._assignee_options(also=value))
            assignee.value = str(value) if value is not None else NOBODY
        else:
            self.query_one(f"#{field}", Select).value = value

    async def on_conflict_panel_take_theirs(self, message: ConflictPanel.TakeTheirs) -> None:
        """Put their value of one field into the form; the rest of what the agent typed stays."""
        latest = self._theirs  # in full, as the conflict fetched it (the table's row has no description)
        if latest is None:
            return
        self._put(message.field, theirs_value(latest, message.field))
        await self.query_one(ConflictPanel).show(self._conflicts(latest))

    def _changed_by_others(self, latest: Ticket | None) -> str:
        """A sentence about what changed since the form opened, or "" when nothing did."""
        return changed_by_others(self.ticket, latest, self.base_version, self.desk.model.user_name)

    # --- live changes -----------------------------------------------------------------------

    def on_ticket_changed(self, message: TicketChanged) -> None:
        if self.ticket is None or message.ticket_id != self.ticket.id or self.closing:
            return
        event = message.event
        if isinstance(event, TicketUnlocked) and self.holding:
            self._lost(LOST_REASONS[event.reason])
        elif isinstance(event, TicketLocked) and not self.holding and event.lock.user_id != self.desk.model.me:
            self.say(f"{event.lock.user_name} has locked this ticket. Your text is kept.", "error")
        elif isinstance(event, TicketUpdated) and not self.holding:
            self.say(f"{self._changed_by_others(event.ticket)} Your text is kept; ctrl+l locks again.", "error")

    def on_table_reloaded(self, _message: TableReloaded) -> None:
        if self.ticket is None or not self.holding or self.closing:
            return
        current = self.desk.model.get(self.ticket.id)
        if current is not None and (current.lock is None or current.lock.user_id != self.desk.model.me):
            self._lost("Your lock was lost while the connection was down")

    def on_connection_state_changed(self, message: ConnectionStateChanged) -> None:
        if message.state is ConnectionState.RECONNECTING:
            self.say("Reconnecting… your text is kept; saving waits for the connection.", "warning")
        elif message.state is ConnectionState.CONNECTED:
            self._sticky = False
            self._show_lock_state()

    # --- save and cancel ---------------------------------------------------------------------

    def action_save(self) -> None:
        if self.busy or self.closing:
            return
        values = self.values()
        problem = invalid(values)
        if problem:
            self.say(problem, "error")
            return
        if self.ticket is not None and not self.holding:
            self.say("You no longer hold the lock: press ctrl+l to lock the ticket again, then ctrl+s.", "error")
            return
        self._save(values)

    @work(exclusive=True, exit_on_error=False, group="save")
    async def _save(self, values: FormValues) -> None:
        client = self.desk.client
        if client is None:
            self.say("Not connected: your text is kept; try ctrl+s again once the connection is back.", "error")
            return
        self.busy = True
        self.say("Saving…", "info")
        try:
            if self.ticket is None:
                created = await client.create_ticket(
                    values.title.strip(),
                    values.description,
                    status=values.status,
                    priority=values.priority,
                    assignee=values.assignee,
                    due_at=parse_due(values.due_at, self.desk.now()),
                    tags=parse_tags(values.tags),
                )
                self.closing = True
                self.dismiss(created)
                return
            saved = await self._update(values)
        except Conflict as exc:
            latest = await self._latest()
            changed = self._changed_by_others(latest) or str(exc)
            row = self.desk.model.get(self.ticket.id) if self.ticket is not None else None
            if latest is not None:
                self.base_version = latest.version
            elif row is not None:  # their version, at least: ctrl+s then saves over theirs
                self.base_version = row.version
            self._theirs = latest
            await self.show_conflicts(latest)
            self.say(
                f"Not saved: {changed} Theirs is shown beside yours: “Use theirs” takes their value; "
                "ctrl+s saves your changes (over theirs where you both changed a field), escape drops them.",
                "error",
            )
            return
        except NotLockHolder as exc:
            self._lost(f"Not saved: {str(exc).rstrip('.')}")
            return
        except LesBilletsError as exc:
            self.say(f"Not saved: {exc} Your text is kept; ctrl+s tries again.", "error")
            return
        finally:
            self.busy = False
        self.closing = True
        try:
            await client.unlock(saved.id)
        except LesBilletsError as exc:
            self.notify(
                f"Saved, but the lock was not released ({exc}); it will expire.", severity="warning", markup=False
            )
        self.dismiss(saved)

    async def _update(self, values: FormValues) -> Ticket:
        assert self.ticket is not None
        client = self.desk.client
        assert client is not None
        changes = update_changes(self.original, values, self.desk.now())
        if not changes:
            return self.ticket
        return await client.update_ticket(self.ticket.id, self.base_version, **changes)

    async def _latest(self) -> Ticket | None:
        """The ticket as it stands now, in full (the table's row has no description), or None if it cannot be
        fetched."""
        client = self.desk.client
        if self.ticket is None or client is None:
            return None
        try:
            return (await client.get_ticket(self.ticket.id)).ticket
        except LesBilletsError:
            return None

    def action_cancel(self) -> None:
        if self.busy or self.closing:
            return
        if not self.dirty:
            self._close()
            return

        def then(discard: bool | None) -> None:
            if discard:
                self._close()

        what = "this new ticket" if self.ticket is None else "your changes"
        self.app.push_screen(ConfirmScreen(f"Discard {what}?", yes="Discard", no="Keep editing"), then)

    @work(exclusive=True, exit_on_error=False, group="save")
    async def _close(self) -> None:
        self.closing = True
        client = self.desk.client
        if self.ticket is not None and self.holding and client is not None:
            try:
                await client.unlock(self.ticket.id)
            except LesBilletsError as exc:
                self.notify(f"The lock was not released ({exc}); it will expire.", severity="warning", markup=False)
        self.dismiss(None)
