"""Pick a priority with one key (l, n, h, u) or the arrows and enter."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from lesbillets_tui.palette import PRIORITY_STYLE
from protocol.messages import Priority

ORDER = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)


class PriorityPicker(ModalScreen[Priority | None]):
    DEFAULT_CSS = """
    PriorityPicker {
        align: center middle;
        background: $background 60%;
        & > #priority-picker {
            width: 44;
            height: auto;
            padding: 0 1;
            border: round $primary;
            border-title-style: bold;
            background: $surface;
        }
        & OptionList, & OptionList:focus { height: auto; border: none; background: $surface; }
        & #priority-footer { color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(priority.value[0], f"pick('{priority.value}')", priority.value, show=False) for priority in ORDER),
        Binding("escape", "pick('')", "Cancel"),
    ]

    def __init__(self, subject: str) -> None:
        super().__init__()
        self.subject = subject

    def compose(self) -> ComposeResult:
        with Vertical(id="priority-picker") as box:
            box.border_title = f"Priority of {self.subject}"
            yield OptionList(
                *(
                    Option(
                        Content.assemble(
                            (f"{priority.value[0]}  ", "$text-accent bold"), (priority.value, PRIORITY_STYLE[priority])
                        ),
                        id=priority.value,
                    )
                    for priority in ORDER
                )
            )
            yield Label("escape cancels", id="priority-footer")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_pick(event.option.id or "")

    def action_pick(self, value: str) -> None:
        self.dismiss(Priority(value) if value else None)
