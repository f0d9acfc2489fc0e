"""Colours by meaning, as Textual style strings (theme variables), for widgets that build `Content`."""

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
