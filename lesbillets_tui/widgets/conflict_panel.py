"""After a version conflict: each field someone else changed, their value beside yours, and a button to take theirs
where you changed it too (a field you left alone takes theirs in the form, and a save, which sends only your
changes, keeps it)."""

from __future__ import annotations

from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, Static

from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.ticket_form import FieldConflict, field_name


class ConflictPanel(Vertical):
    """Hidden until `show` gets conflicts; posts `ConflictPanel.TakeTheirs` when the agent picks their value."""

    DEFAULT_CSS = """
    ConflictPanel {
        height: auto;
        display: none;
        padding: 0 1;
        background: $panel;
        &.-shown { display: block; }
        & > .conflict-row { height: auto; }
        & .conflict-field { width: 13; color: $text-muted; text-style: bold; }
        & .conflict-values { width: 1fr; height: auto; }
        & .conflict-theirs { color: $text-warning; }
        & Button { min-width: 14; height: 1; border: none; margin-left: 1; }
    }
    """

    class TakeTheirs(Message):
        """Put their value of ``field`` into the form."""

        def __init__(self, field: str) -> None:
            super().__init__()
            self.field = field

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.conflicts: list[FieldConflict] = []

    async def show(self, conflicts: list[FieldConflict]) -> None:
        """Replace the rows with ``conflicts`` (none: the panel hides)."""
        self.conflicts = conflicts
        await self.remove_children()
        await self.mount_all(self._row(conflict) for conflict in conflicts)
        self.set_class(bool(conflicts), "-shown")

    def _row(self, conflict: FieldConflict) -> Horizontal:
        yours = "you had not changed it: theirs is in the form" if conflict.kept else safe_line(conflict.yours)
        values = Vertical(
            Static(f"theirs: {safe_line(conflict.theirs)}", classes="conflict-theirs", markup=False),
            Static(f"yours:  {yours}", markup=False),
            classes="conflict-values",
        )
        name = Label(field_name(conflict.field), classes="conflict-field")
        children: list[Label | Vertical | Button] = [name, values]
        if not conflict.same and not conflict.kept:
            children.append(Button("Use theirs", id=f"take-{conflict.field}", variant="warning", compact=True))
        return Horizontal(*children, classes="conflict-row")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        field = (event.button.id or "").removeprefix("take-")
        if field:
            self.post_message(self.TakeTheirs(field))
