"""Presence: who has which ticket open, as plain rules (no I/O, no loop, no clock of its own).

Presence is ephemeral: it is not in the event log and never in the database. Each replica knows its own
connections (at most one entry each: a connection has one ticket open, or none) and what the other replicas
announced, each announced entry expiring unless refreshed. A ticket's viewers merge every entry of one user into
one `Viewer` (several connections, several replicas), and editing wins.

Every change returns the tickets whose viewers changed. What goes out is coalesced: `changes` gives, per ticket
touched since the last call, the viewers only when they differ from what was last sent, so a connection that
hops between tickets many times between two calls costs at most two notices (the ticket it was on, the ticket it
is on). `announcement` does the same for what this replica tells the others.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from protocol.messages import PresenceChanged, TicketPresence, Viewer

REFRESH_S = 1.5
"""How often a replica announces all of its presence again."""
TTL_S = 3.5
"""How long another replica's entry lives without a refresh (a replica killed outright: gone within this)."""

Key = tuple[str, uuid.UUID, uuid.UUID]
"""A remote entry: (replica, ticket, user)."""
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Seen:
    """One user with one ticket open: a connection's entry here, or one that another replica announced."""

    ticket_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    editing: bool = False


@dataclass(frozen=True, slots=True)
class Announcement:
    """What one replica tells the others (the bus carries it; see `presence_pg`)."""

    replica: str
    seen: list[Seen] = field(default_factory=list)
    """Entries it has now: new, changed, or all of them (a refresh)."""
    gone: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)
    """(ticket, user) pairs it no longer has."""
    bye: bool = False
    """It is stopping: forget all it announced."""
    ask: bool = False
    """It has just started listening: everyone, announce all you have."""


class PresenceBoard:
    def __init__(self, *, ttl_s: float = TTL_S) -> None:
        self.ttl_s = ttl_s
        self._local: dict[Hashable, Seen] = {}
        """Connection → what it has open (this replica's connections)."""
        self._local_on: dict[uuid.UUID, set[Hashable]] = {}
        self._remote: dict[Key, tuple[Seen, float]] = {}
        """(replica, ticket, user) → the entry and when it expires."""
        self._remote_on: dict[uuid.UUID, set[Key]] = {}
        self._sent: dict[uuid.UUID, tuple[Viewer, ...]] = {}
        """Ticket → the viewers last given out by `changes` (absent: nobody)."""
        self._touched: set[uuid.UUID] = set()
        self._announced: dict[uuid.UUID, dict[uuid.UUID, Seen]] = {}
        """Ticket → user → what `announcement` last told the other replicas of this replica's connections."""
        self._local_touched: set[uuid.UUID] = set()

    # --- this replica's connections -----------------------------------------------------------

    def put(self, connection: Hashable, seen: Seen | None) -> set[uuid.UUID]:
        """What `connection` has open now (None: nothing); the tickets whose viewers changed."""
        before = self._local.get(connection)
        if before == seen:
            return set()
        affected = {s.ticket_id for s in (before, seen) if s is not None}
        old = self._snapshot(affected)
        if before is not None:
            _unindex(self._local_on, before.ticket_id, connection)
            del self._local[connection]
        if seen is not None:
            self._local[connection] = seen
            self._local_on.setdefault(seen.ticket_id, set()).add(connection)
        self._local_touched |= affected
        return self._changed(old)

    def clear(self, connection: Hashable) -> set[uuid.UUID]:
        """The connection closed the view, logged out or dropped."""
        return self.put(connection, None)

    # --- the other replicas ---------------------------------------------------------------------

    def merge(
        self, replica: str, seen: Iterable[Seen], gone: Iterable[tuple[uuid.UUID, uuid.UUID]], now: float
    ) -> set[uuid.UUID]:
        """What `replica` announced: entries (re)seen until `now + ttl_s`, and (ticket, user) pairs it no longer
        has; the tickets whose viewers changed."""
        seen = list(seen)
        gone = list(gone)
        old = self._snapshot({s.ticket_id for s in seen} | {ticket_id for ticket_id, _ in gone})
        for ticket_id, user_id in gone:
            self._drop_remote((replica, ticket_id, user_id))
        for entry in seen:
            key = (replica, entry.ticket_id, entry.user_id)
            self._remote[key] = (entry, now + self.ttl_s)
            self._remote_on.setdefault(entry.ticket_id, set()).add(key)
        return self._changed(old)

    def forget(self, replica: str) -> set[uuid.UUID]:
        """`replica` stopped and said so: everything it announced goes at once."""
        keys = [key for key in self._remote if key[0] == replica]
        old = self._snapshot({key[1] for key in keys})
        for key in keys:
            self._drop_remote(key)
        return self._changed(old)

    def expire(self, now: float) -> set[uuid.UUID]:
        """Drop the announced entries not refreshed in time (a replica that died without a word)."""
        keys = [key for key, (_, expires_at) in self._remote.items() if expires_at <= now]
        old = self._snapshot({key[1] for key in keys})
        for key in keys:
            self._drop_remote(key)
        return self._changed(old)

    # --- reading ------------------------------------------------------------------------------------

    def viewers(self, ticket_id: uuid.UUID) -> list[Viewer]:
        """Everyone with the ticket open, one per user (editing if any of their entries edits), by name."""
        merged: dict[uuid.UUID, Seen] = {}
        entries = [self._local[c] for c in self._local_on.get(ticket_id, ())]
        entries += [self._remote[k][0] for k in self._remote_on.get(ticket_id, ())]
        for entry in entries:
            known = merged.get(entry.user_id)
            if known is None or (entry.editing and not known.editing):
                merged[entry.user_id] = entry
        viewers = [Viewer(user_id=s.user_id, name=s.name, editing=s.editing) for s in merged.values()]
        return sorted(viewers, key=lambda v: (v.name.casefold(), v.name, v.user_id))

    def tickets(self) -> list[TicketPresence]:
        """Every ticket somebody has open, with who."""
        open_ = self._local_on.keys() | self._remote_on.keys()
        return [TicketPresence(ticket_id=t, viewers=self.viewers(t)) for t in sorted(open_)]

    def __len__(self) -> int:
        """Entries held: this replica's connections and the other replicas' announcements."""
        return len(self._local) + len(self._remote)

    # --- what goes out, coalesced ---------------------------------------------------------------

    def changes(self) -> list[PresenceChanged]:
        """A notice for each ticket whose viewers differ from what the last call gave out."""
        notices: list[PresenceChanged] = []
        for ticket_id in sorted(self._touched):
            viewers = tuple(self.viewers(ticket_id))
            if viewers != self._sent.get(ticket_id, ()):
                notices.append(PresenceChanged(ticket_id=ticket_id, viewers=list(viewers)))
                if viewers:
                    self._sent[ticket_id] = viewers
                else:
                    del self._sent[ticket_id]
        self._touched.clear()
        return notices

    def announcement(self, *, full: bool = False) -> tuple[list[Seen], list[tuple[uuid.UUID, uuid.UUID]]]:
        """What to tell the other replicas about this replica's connections: entries new or changed since the
        last announcement (with ``full``, every entry: the refresh), and the (ticket, user) pairs gone."""
        tickets = set(self._announced) | self._local_touched if full else self._local_touched
        seen: list[Seen] = []
        gone: list[tuple[uuid.UUID, uuid.UUID]] = []
        for ticket_id in sorted(tickets):
            now = {s.user_id: s for s in self._local_users(ticket_id)}
            before = self._announced.get(ticket_id, {})
            seen += [s for user_id, s in now.items() if full or before.get(user_id) != s]
            gone += [(ticket_id, user_id) for user_id in before if user_id not in now]
            if now:
                self._announced[ticket_id] = now
            else:
                self._announced.pop(ticket_id, None)
        self._local_touched.clear()
        return seen, gone

    # --- inside -------------------------------------------------------------------------------------

    def _local_users(self, ticket_id: uuid.UUID) -> list[Seen]:
        merged: dict[uuid.UUID, Seen] = {}
        for connection in self._local_on.get(ticket_id, ()):
            entry = self._local[connection]
            known = merged.get(entry.user_id)
            if known is None or (entry.editing and not known.editing):
                merged[entry.user_id] = entry
        return list(merged.values())

    def _drop_remote(self, key: Key) -> None:
        if self._remote.pop(key, None) is not None:
            _unindex(self._remote_on, key[1], key)

    def _snapshot(self, tickets: set[uuid.UUID]) -> dict[uuid.UUID, list[Viewer]]:
        return {ticket_id: self.viewers(ticket_id) for ticket_id in tickets}

    def _changed(self, before: dict[uuid.UUID, list[Viewer]]) -> set[uuid.UUID]:
        changed = {ticket_id for ticket_id, viewers in before.items() if self.viewers(ticket_id) != viewers}
        self._touched |= changed
        return changed


def _unindex(index: dict[uuid.UUID, set[K]], ticket_id: uuid.UUID, key: K) -> None:
    keys = index[ticket_id]
    keys.discard(key)
    if not keys:
        del index[ticket_id]
