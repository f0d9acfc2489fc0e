"""A vertical scroll that keeps its end in view as content grows, like a chat, until the agent scrolls up.

Textual's own `anchor()` does the same but, while the content is shorter than the view, pushes it to the bottom
(it scrolls to a negative offset); a ticket with two comments should read from the top.
"""

from __future__ import annotations

from textual.containers import VerticalScroll


class StickyScroll(VerticalScroll):
    """``sticky`` while scrolled to the end: then new content scrolls into view."""

    sticky = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.sticky = round(new_value) >= self.max_scroll_y

    def watch_virtual_size(self) -> None:
        # not on Resize: Textual sends none when only the content grew (a comment's Markdown mounted late)
        if self.sticky:
            self.scroll_end(animate=False, immediate=True)

    def stick(self) -> None:
        """Scroll to the end and stay there (after the agent sent something: show it)."""
        self.sticky = True
        self.scroll_end(animate=False)
