"""Colours by meaning, as Textual style strings (theme variables): the one place they are chosen.

Widgets that build `Content` use the strings as they are; widgets styled by CSS component classes (the ticket
table) turn them into declarations with `css`.
"""

from __future__ import annotations

from protocol.messages import Priority, Status

STATUS_STYLE: dict[Status, str] = {
    Status.OPEN: "$text-success",
    Status.BLOCKED: "$text-warning",
    Status.CLOSED: "$text-muted",
}
PRIORITY_STYLE: dict[Priority, str] = {
    Priority.LOW: "$text-muted",
    Priority.NORMAL: "",
    Priority.HIGH: "$text-warning bold",
    Priority.URGENT: "$text-error bold",
}
LOCK_MINE = "$text-accent bold"
LOCK_OTHER = "$text-warning"
MUTED = "$text-muted"
OVERDUE = "$text-error bold"
PRESENCE = "$text-primary"
"""Who else has a ticket open (○ in the table, "Also here" in the ticket view)."""


def css(style: str) -> str:
    """A style string as CSS declarations: "$text-error bold" → "color: $text-error; text-style: bold;"."""
    words = style.split()
    colours = [word for word in words if word.startswith("$")]
    text_styles = [word for word in words if not word.startswith("$")]
    declarations = [f"color: {colour};" for colour in colours[:1]]
    if text_styles:
        declarations.append(f"text-style: {' '.join(text_styles)};")
    return " ".join(declarations)
