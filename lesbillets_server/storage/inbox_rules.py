"""Who gets an inbox item from a logged event: plain functions of the event and what was there before it.

The store calls them inside the event's transaction, with the ticket's row as it was before the write, and writes
their entries there; a replica's follower calls them with its board as it was before the event, to learn which of
its connected users may have got an item (the store's rows are the truth it then reads). Nobody is told about
their own doing, and the server's own changes (a lease that ran out) tell nobody.

* ``assigned``: the event left the ticket assigned to somebody it was not assigned to before, and that somebody is
  not who made the change. Decided on the ticket before and after, not on the request, so a creation, an update
  and a quick change count alike.
* ``mentioned``: a comment names a user (@name) that the comment did not name before (an edit that adds a name
  tells that user; one that keeps it tells nobody again).
* ``lock_broken``: an admin forced open a lock somebody else held (`UnlockReason.BROKEN`).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from lesbillets_server.storage.records import (
    EventKind,
    InboxEntry,
    LoggedEvent,
    Prior,
    TicketChange,
    Write,
)
from protocol.messages import InboxKind, UnlockReason

_SAME_FIELDS = frozenset({EventKind.LOCKED, EventKind.RENEWED})
"""Kinds whose write is the ticket as the board had it with only the lock changed: its assignee cannot move."""


def needs_prior(write: Write) -> bool:
    """Whether this ticket change may give anybody an item: then the store reads the ticket's row before writing
    it, to decide (a read it spares the most frequent writes, grants and renewals, and every change that leaves
    the ticket unassigned or assigned to whoever makes it)."""
    if not isinstance(write, TicketChange):
        return False
    if write.reason is UnlockReason.BROKEN:
        return True
    assignee = write.ticket.assignee
    return write.kind not in _SAME_FIELDS and assignee is not None and assignee != write.actor


def for_ticket(event: LoggedEvent, prior: Prior | None) -> list[InboxEntry]:
    """The entries a ticket event makes; `prior` is the row before it (None: the event created the ticket)."""
    ticket = event.ticket
    actor = event.actor
    if ticket is None or actor is None:
        return []
    entries: list[InboxEntry] = []
    assignee = ticket.assignee
    before = None if prior is None else prior.assignee
    if assignee is not None and assignee != actor and assignee != before:
        entries.append(_entry(event, assignee, InboxKind.ASSIGNED))
    if event.reason is UnlockReason.BROKEN and prior is not None and prior.lock_user not in (None, actor):
        assert prior.lock_user is not None
        entries.append(_entry(event, prior.lock_user, InboxKind.LOCK_BROKEN))
    return _one_each(entries)


def for_comment(event: LoggedEvent, named_before: Collection[uuid.UUID] = ()) -> list[InboxEntry]:
    """The entries a comment event makes; `named_before` are the users the comment named before this edit."""
    comment = event.comment
    if comment is None:
        return []
    return [
        _entry(event, user, InboxKind.MENTIONED, comment.id)
        for user in comment.mentions
        if user != comment.author and user not in named_before
    ]


def recipients(event: LoggedEvent, prior: Prior | None) -> set[uuid.UUID]:
    """Users who may have an entry from this event: exact for ticket events, a superset for comment edits (the
    follower does not know what an edited comment named before; the store's rows say)."""
    entries = for_comment(event) if event.comment is not None else for_ticket(event, prior)
    return {entry.user_id for entry in entries}


def _entry(event: LoggedEvent, user: uuid.UUID, kind: InboxKind, comment_id: uuid.UUID | None = None) -> InboxEntry:
    return InboxEntry(
        user_id=user,
        seq=event.seq,
        kind=kind,
        ticket_id=event.ticket_id,
        actor=event.actor,
        at=event.at,
        comment_id=comment_id,
    )


def _one_each(entries: list[InboxEntry]) -> list[InboxEntry]:
    """One item per user per event (the inbox's key): the first reason wins."""
    seen: set[uuid.UUID] = set()
    kept = []
    for entry in entries:
        if entry.user_id not in seen:
            seen.add(entry.user_id)
            kept.append(entry)
    return kept
