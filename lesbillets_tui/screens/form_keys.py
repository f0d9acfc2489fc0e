"""Tab and shift+tab for screens whose fields are filled in one burst (password managers, pastes, fast typists).

Textual forwards each key to the widget that has focus when the app reads the key, but the screen's tab binding
is not a priority one: it runs only after the focused field has seen the Tab. Keys that arrive right behind a Tab
are already forwarded to the field being left, so `bob@example.com`, Tab, `bob` typed at once gave the email
"bob@example.combob" and an empty password (Textual's own issue: https://github.com/Textualize/textual/issues/1009).
As priority bindings, tab and shift+tab move the focus when the app reads them, so the keys after them go to the
next field. Only forms use them: a widget that types a tab itself (a code editor) would lose it.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

FORM_FOCUS_BINDINGS: list[BindingType] = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
]
