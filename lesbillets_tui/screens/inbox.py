"""The inbox (`i`): tickets assigned to the agent, mentions, broken locks; enter jumps to the ticket."""

from __future__ import annotations

import uuid
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList

from lesbillets_tui.context import Desk
from lesbillets_tui.messages import InboxUpdated
from lesbillets_tui.widgets.inbox_list import InboxList
from protocol.errors import LesBilletsError
from protocol.messages import InboxItem

EMPTY = "Nothing here yet: tickets assigned to you, mentions of you and your locks an admin broke land here."
NO_INBOX = "The inbox has not arrived from the server (an older server keeps none)."


class InboxScreen(ModalScreen[uuid.UUID | None]):
    """Dismisses with the ticket to jump to (enter), or None (escape)."""

    DEFAULT_CSS = """
    InboxScreen {
        align: center middle;
        background: $background 60%;
        & > #inbox {
            width: 100;
            max-width: 100%;
            height: 80%;
            padding: 0 1;
            border: round $primary;
            border-title-color: $text-primary;
            border-title-style: bold;
            background: $surface;
        }
        & #inbox-empty { color: $text-muted; padding: 1 1; }
        & #inbox-footer { color: $text-muted; dock: bottom; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "mark_read", "Mark read"),
        Binding("R", "mark_all_read", "Mark all read"),
        Binding("escape,i,q", "close", "Close"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk

    def compose(self) -> ComposeResult:
        with Vertical(id="inbox"):
            yield InboxList(id="inbox-list")
            yield Label("", id="inbox-empty", markup=False)
            yield Label("enter open the ticket · r mark read · R mark all read · escape close", id="inbox-footer")

    @property
    def items(self) -> InboxList:
        return self.query_one(InboxList)

    def on_mount(self) -> None:
        self._show()
        self.items.focus()
        self.set_interval(30.0, self._show)  # "3m ago" ages

    def on_inbox_updated(self, _message: InboxUpdated) -> None:
        self._show()

    def _show(self) -> None:
        inbox = self.desk.inbox
        self.query_one("#inbox", Vertical).border_title = (
            f"Inbox · {inbox.unread:,} unread" if inbox.loaded else "Inbox"
        )
        self.items.show(inbox.items, self.desk.now(), self._title_now)
        self.items.display = bool(inbox.items)
        empty = self.query_one("#inbox-empty", Label)
        empty.display = not inbox.items
        empty.update(EMPTY if inbox.loaded else NO_INBOX)

    # --- actions ------------------------------------------------------------------

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        seq = self.items.highlighted_seq
        item = self.desk.inbox.get(seq) if seq is not None else None
        if item is None:
            return
        self._mark_read([item.seq])
        self.dismiss(item.ticket_id)

    def action_mark_read(self) -> None:
        seq = self.items.highlighted_seq
        if seq is not None:
            self._mark_read([seq])
            self._show()

    def action_mark_all_read(self) -> None:
        up_to = self.desk.inbox.mark_all_read()
        if up_to is not None:
            self._send_read([], up_to)
        self._show()

    def action_close(self) -> None:
        self.dismiss(None)

    def _mark_read(self, seqs: list[int]) -> None:
        changed = self.desk.inbox.mark_read(seqs)
        if changed:
            self._send_read(changed, None)

    def _send_read(self, seqs: list[int], up_to: int | None) -> None:
        app, desk = self.app, self.desk

        async def send() -> None:
            client = desk.client
            if client is None:
                return
            try:
                await client.mark_read(seqs, up_to=up_to)
            except LesBilletsError as exc:  # the next inbox fetch (a reconnect) puts the server's truth back
                app.notify(f"Could not mark the inbox read: {exc}", severity="warning", markup=False)

        # The app runs it: the request must outlive this screen, which enter closes at once.
        app.run_worker(send(), group="inbox-read", exit_on_error=False)
        for screen in app.screen_stack:  # the status bar's count, at once
            screen.post_message(InboxUpdated())

    def _title_now(self, item: InboxItem) -> str | None:
        ticket = self.desk.model.get(item.ticket_id)
        return ticket.title if ticket is not None else None
