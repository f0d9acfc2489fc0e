"""Presence in the app, sans I/O: who has which ticket open (`PresenceBoard`), and what this app has open
(`OwnPresence`, which the app reports with `SetPresence`).

Screens claim a ticket while they show it (the ticket view) or edit it (the edit form), and release it when they
close; the newest claim is what the app reports. A dropped connection loses the server's record of it, so after
a reconnect the app reports again (`forget_sent`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lesbillets_tui.table_layout import initials
from protocol.messages import TicketPresence, Viewer


@dataclass(frozen=True)
class Here:
    """What this app tells the server it has open."""

    ticket_id: uuid.UUID | None = None
    editing: bool = False


NOWHERE = Here()


class OwnPresence:
    """The claims of the open screens, newest last; ``on_change`` runs when the newest claim changes."""

    def __init__(self) -> None:
        self._claims: dict[int, Here] = {}
        self._sent: Here | None = None
        self.on_change: Callable[[], None] | None = None

    @property
    def wanted(self) -> Here:
        return next(reversed(self._claims.values()), NOWHERE)

    def claim(self, owner: object, ticket_id: uuid.UUID, *, editing: bool = False) -> None:
        """``owner`` (a screen) shows or edits ``ticket_id`` from now on."""
        self._claims.pop(id(owner), None)
        self._claims[id(owner)] = Here(ticket_id, editing)
        self._changed()

    def release(self, owner: object) -> None:
        if self._claims.pop(id(owner), None) is not None:
            self._changed()

    def clear(self) -> None:
        self._claims.clear()
        self._sent = None

    def to_send(self) -> Here | None:
        """What to report now, or None when the server already has it."""
        wanted = self.wanted
        return None if wanted == self._sent else wanted

    def mark_sent(self, here: Here) -> None:
        self._sent = here

    def forget_sent(self) -> None:
        """The server no longer knows what this connection has open (a new connection): report it again.

        A fresh connection starts with nothing open, so nothing needs saying until something is claimed.
        """
        self._sent = NOWHERE

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()


class PresenceBoard:
    """Who has which ticket open, from `GetPresence` and `PresenceChanged`."""

    def __init__(self) -> None:
        self._viewers: dict[uuid.UUID, tuple[Viewer, ...]] = {}

    def load(self, tickets: Iterable[TicketPresence]) -> None:
        self._viewers = {entry.ticket_id: tuple(entry.viewers) for entry in tickets if entry.viewers}

    def apply(self, ticket_id: uuid.UUID, viewers: Iterable[Viewer]) -> None:
        viewers = tuple(viewers)
        if viewers:
            self._viewers[ticket_id] = viewers
        else:
            self._viewers.pop(ticket_id, None)

    def clear(self) -> None:
        self._viewers.clear()

    def others(self, ticket_id: uuid.UUID, me: uuid.UUID | None) -> list[Viewer]:
        """The colleagues on a ticket, one entry each (editing if any of their connections edits), by name."""
        people: dict[uuid.UUID, Viewer] = {}
        for viewer in self._viewers.get(ticket_id, ()):
            if viewer.user_id == me:
                continue
            seen = people.get(viewer.user_id)
            if seen is None or (viewer.editing and not seen.editing):
                people[viewer.user_id] = viewer
        return sorted(people.values(), key=lambda viewer: (not viewer.editing, viewer.name.casefold()))


def viewers_sentence(viewers: list[Viewer]) -> str:
    """For the ticket view: "Also here: Bob Dubois (editing), Camille Admin", or ""."""
    if not viewers:
        return ""
    names = [f"{viewer.name} (editing)" if viewer.editing else viewer.name for viewer in viewers]
    return "Also here: " + ", ".join(names)


def viewers_suffix(viewers: list[Viewer]) -> str:
    """After a lock holder's name in the table: " ○BD" for one colleague, " ○3" for three, or ""."""
    if not viewers:
        return ""
    return f" ○{initials(viewers[0].name)}" if len(viewers) == 1 else f" ○{len(viewers)}"


def viewers_marker(viewers: list[Viewer], width: int, *, short: bool = False) -> str:
    """For the table's Lock column when nobody holds the lock: a hollow circle and who ("○ Bob Dubois"; short, or
    several: initials, "○ BD CA"; too many for ``width``: how many, "○ 6"), or ""."""
    if not viewers:
        return ""
    if len(viewers) == 1 and not short:
        return f"○ {viewers[0].name}"
    marks = " ".join(initials(viewer.name) for viewer in viewers)
    if len(marks) + 2 <= width:
        return f"○ {marks}"
    return f"○ {len(viewers)}"
