"""Textual's footer, redrawn only when the keys it shows change.

Textual's `Footer` composes its keys anew (a widget per key, styles and all) on every bindings update of its
screen, and a screen sends one on each focus change and resume even when the keys stay the same. On the ticket
table's 17 keys that was 25 to 45 ms a time, twice while the first page of a 100,000-ticket load was on its way to the
screen, and once per Tab in the ticket form. This one compares what it would show with what it shows, and keeps it.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer

Shown = tuple[tuple[str, str, str, bool, str], ...]
"""(key, description, action, enabled, tooltip) of each key shown, in order, then the palette's."""


class KeysFooter(Footer):
    def __init__(self) -> None:
        super().__init__()
        self._shown: Shown | None = None

    def _would_show(self, screen: Screen[Any]) -> Shown:
        keys = [
            (binding.key, binding.description, binding.action, enabled, tooltip)
            for _node, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show or binding.key == self.app.COMMAND_PALETTE_BINDING
        ]
        return tuple(keys)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        shown = self._would_show(screen)
        if shown == self._shown:
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._shown = shown  # what the footer's next composition draws (Footer schedules it on these terms)
        super().bindings_changed(screen)
