"""The store contract for the conversation and the inbox, against SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from lesbillets_server.errors import GuardFailed
from lesbillets_server.storage import Store, open_store
from lesbillets_server.storage.records import CommentWrite, EventKind, Guard, TicketChange
from lesbillets_server.storage.talk_sql import fitting
from protocol.messages import (
    Comment,
    CommentAdded,
    CommentEdited,
    InboxKind,
    Lock,
    Priority,
    Role,
    Status,
    Ticket,
    UnlockReason,
    User,
)

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ALICE = User(id=uuid.uuid4(), email="alice@example.com", name="Alice Martin", role=Role.AGENT)
BOB = User(id=uuid.uuid4(), email="bob@example.com", name="Bob Dubois", role=Role.AGENT)
CAROL = User(id=uuid.uuid4(), email="carol@example.com", name="Carol", role=Role.AGENT)
ADMIN = User(id=uuid.uuid4(), email="admin@example.com", name="Camille Admin", role=Role.ADMIN)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An open store of each engine on a fresh database, with four users."""
    url = str(tmp_path / "talk.db") if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    opened = await open_store(url)
    for user in (ALICE, BOB, CAROL, ADMIN):
        await opened.add_user(user, "not a real hash")
    yield opened
    await opened.close()


def new_ticket(*, by: User = ALICE, assignee: User | None = None, title: str = "Printer jams") -> Ticket:
    return Ticket(
        id=uuid.uuid4(),
        title=title,
        description="",
        status=Status.OPEN,
        priority=Priority.NORMAL,
        assignee=None if assignee is None else assignee.id,
        created_at=T0,
        created_by=by.id,
        updated_at=T0,
        updated_by=by.id,
        version=1,
    )


def comment_on(ticket: Ticket, body: str, *, by: User = ALICE, mentions: tuple[User, ...] = ()) -> CommentWrite:
    comment = Comment(
        id=uuid.uuid4(),
        ticket_id=ticket.id,
        author=by.id,
        author_name=by.name,
        body=body,
        created_at=T0,
        mentions=[user.id for user in mentions],
    )
    return CommentWrite(comment=comment, kind=EventKind.COMMENTED)


def edit_of(comment: Comment, body: str, *, by: User | None = None, mentions: tuple[User, ...] = ()) -> CommentWrite:
    edited = msgspec.structs.replace(
        comment,
        body=body,
        edited_at=T0 + timedelta(minutes=1),
        mentions=[user.id for user in mentions],
        author=comment.author if by is None else by.id,
    )
    return CommentWrite(comment=edited, kind=EventKind.COMMENT_EDITED)


def update(ticket: Ticket, actor: User, **fields: object) -> TicketChange:
    """A change of fields, guarded by the version only (as a quick change might be)."""
    changed = msgspec.structs.replace(ticket, version=ticket.version + 1, updated_by=actor.id, **fields)
    return TicketChange(
        ticket=changed, holder=None, guard=Guard(version=ticket.version), kind=EventKind.UPDATED, actor=actor.id
    )


async def created(store: Store, **kwargs: object) -> Ticket:
    ticket = (await store.create_tickets([new_ticket(**kwargs)], T0))[0].ticket
    assert ticket is not None
    return ticket


async def kinds(store: Store, user: User) -> list[InboxKind]:
    items, _ = await store.inbox(user.id, 100, unread_only=False)
    return [item.kind for item in items]


async def test_a_comment_is_a_logged_event_with_the_next_seq(store: Store) -> None:
    """AddComment's write stores the comment and appends CommentAdded after the ticket's creation; the board's
    tickets are not touched."""
    ticket = await created(store)
    event = await store.change(comment_on(ticket, "Same here since Monday."), T0)
    assert (event.seq, event.kind, event.ticket, event.ticket_id) == (2, EventKind.COMMENTED, None, ticket.id)
    assert event.comment is not None and event.wire() == CommentAdded(seq=2, comment=event.comment)
    assert await store.comments(ticket.id, 10, 10_000) == [event.comment]
    assert await store.comment(event.comment.id) == event.comment
    logged = await store.events_after(1, 10)
    assert [(e.seq, e.comment) for e in logged] == [(2, event.comment)]
    loaded = await store.load()
    assert loaded.tickets == [ticket] and loaded.seq == 2


async def test_an_edit_by_its_author_is_logged_and_kept_in_the_history(store: Store) -> None:
    """An edit rewrites the row and appends CommentEdited; the ticket's history holds both texts in order."""
    ticket = await created(store)
    added = await store.change(comment_on(ticket, "first text"), T0)
    assert added.comment is not None
    edited = await store.change(edit_of(added.comment, "second text"), T0)
    assert edited.comment is not None and isinstance(edited.wire(), CommentEdited)
    assert edited.comment.edited_at == T0 + timedelta(minutes=1)
    assert [c.body for c in await store.comments(ticket.id, 10, 10_000)] == ["second text"]
    history = await store.history(ticket.id, 100)
    assert [(e.kind, e.comment and e.comment.body) for e in history] == [
        (EventKind.CREATED, None),
        (EventKind.COMMENTED, "first text"),
        (EventKind.COMMENT_EDITED, "second text"),
    ]


@pytest.mark.parametrize("case", ["another author", "unknown comment"])
async def test_an_edit_that_is_not_the_authors_writes_nothing(store: Store, case: str) -> None:
    """An edit naming another author, or a comment that does not exist, fails its guard: no row, no event."""
    ticket = await created(store)
    added = await store.change(comment_on(ticket, "mine"), T0)
    assert added.comment is not None
    if case == "another author":
        write = edit_of(added.comment, "hijacked", by=BOB)
    else:
        write = edit_of(msgspec.structs.replace(added.comment, id=uuid.uuid4()), "nowhere")
    with pytest.raises(GuardFailed):
        await store.change(write, T0)
    assert [c.body for c in await store.comments(ticket.id, 10, 10_000)] == ["mine"]
    assert await store.head() == 2


async def test_comments_are_the_newest_oldest_first(store: Store) -> None:
    """comments() gives the newest `limit`, oldest first, fewer once their text reaches `max_chars` (the one
    reaching it included); other tickets' comments stay out."""
    ticket, other = await created(store), await created(store, title="Other")
    for n in range(5):
        write = comment_on(ticket, f"c{n}")
        write = CommentWrite(
            comment=msgspec.structs.replace(write.comment, created_at=T0 + timedelta(seconds=n)), kind=write.kind
        )
        await store.change(write, T0)
    await store.change(comment_on(other, "elsewhere"), T0)
    assert [c.body for c in await store.comments(ticket.id, 3, 10_000)] == ["c2", "c3", "c4"]
    assert [c.body for c in await store.comments(ticket.id, 10, 4)] == ["c3", "c4"]
    assert [c.body for c in await store.comments(ticket.id, 10, 1)] == ["c4"]
    assert await store.comments(uuid.uuid4(), 3, 10_000) == []


def test_comments_stop_being_read_where_the_budget_does() -> None:
    """`fitting` keeps the rows comments() keeps and reads no row past the one reaching the budget (SQLite reads
    them one by one: a ticket of 1,000 long comments no longer costs every body read on the loop)."""

    def newest_first() -> Iterator[tuple[Any, ...]]:
        for body in ("c4", "c3"):
            yield (None, None, None, None, body)
        raise AssertionError("read past the budget")

    assert [row[4] for row in fitting(newest_first(), 4)] == ["c4", "c3"]
    assert [row[4] for row in fitting(newest_first(), 1)] == ["c4"]
    assert fitting(newest_first(), 0) == []


async def test_comments_and_ticket_changes_committed_together_have_gap_free_seqs(store: Store) -> None:
    """Forty comments and forty ticket changes asked for at once share group commits: seqs 2…81, no gap, each
    write's own event."""
    ticket = await created(store)
    lock = Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0 + timedelta(minutes=3))
    grant = TicketChange(
        ticket=msgspec.structs.replace(ticket, lock=lock),
        holder="s-bob",
        guard=Guard(free=True),
        kind=EventKind.LOCKED,
        actor=BOB.id,
        grant=True,
    )
    first = await store.change(grant, T0)
    assert first.ticket is not None
    renew = TicketChange(
        ticket=first.ticket, holder="s-bob", guard=Guard(holder="s-bob"), kind=EventKind.RENEWED, actor=BOB.id
    )
    writes = [w for n in range(40) for w in (comment_on(ticket, f"c{n}"), renew)]
    events = await asyncio.gather(*(store.change(write, T0) for write in writes))
    assert sorted(e.seq for e in events) == list(range(3, 83))
    assert [e.kind for e in events] == [EventKind.COMMENTED, EventKind.RENEWED] * 40
    assert [e.seq for e in await store.events_after(0, 1000)] == list(range(1, 83))
    assert len(await store.comments(ticket.id, 100, 10_000)) == 40


async def test_assignment_lands_in_the_assignees_inbox(store: Store) -> None:
    """Created for Bob by Alice, reassigned to Carol, kept on Carol by a later change: Bob and Carol get one
    `assigned` each; assigning yourself tells nobody. An item shows the ticket's title as it is now."""
    ticket = await created(store, by=ALICE, assignee=BOB)
    changed = await store.change(update(ticket, ALICE, assignee=CAROL.id), T0)
    assert changed.ticket is not None
    await store.change(update(changed.ticket, BOB, title="same assignee"), T0)
    await created(store, by=ALICE, assignee=ALICE)
    assert await kinds(store, BOB) == [InboxKind.ASSIGNED]
    assert await kinds(store, CAROL) == [InboxKind.ASSIGNED]
    assert await kinds(store, ALICE) == []
    items, unread = await store.inbox(CAROL.id, 10, unread_only=False)
    [item] = items
    assert (item.seq, item.ticket_id, item.number, item.title, item.actor, item.actor_name, item.read, unread) == (
        changed.seq,
        ticket.id,
        ticket.number,
        "same assignee",
        ALICE.id,
        ALICE.name,
        False,
        1,
    )


async def test_locks_on_an_assigned_ticket_tell_nobody(store: Store) -> None:
    """Alice locking, renewing and releasing a ticket assigned to Bob adds nothing to his inbox (its assignee did
    not change), whatever the board wrote back."""
    ticket = await created(store, by=BOB, assignee=BOB)
    lock = Lock(user_id=ALICE.id, user_name=ALICE.name, expires_at=T0 + timedelta(minutes=3))
    held = await store.change(
        TicketChange(
            ticket=msgspec.structs.replace(ticket, lock=lock),
            holder="s-alice",
            guard=Guard(free=True),
            kind=EventKind.LOCKED,
            actor=ALICE.id,
            grant=True,
        ),
        T0,
    )
    assert held.ticket is not None
    await store.change(
        TicketChange(
            ticket=held.ticket, holder="s-alice", guard=Guard(holder="s-alice"), kind=EventKind.RENEWED, actor=ALICE.id
        ),
        T0,
    )
    await store.change(
        TicketChange(
            ticket=msgspec.structs.replace(held.ticket, lock=None),
            holder=None,
            guard=Guard(holder="s-alice", live=False),
            kind=EventKind.UNLOCKED,
            actor=ALICE.id,
            reason=UnlockReason.RELEASED,
        ),
        T0,
    )
    assert await store.inbox(BOB.id, 10, unread_only=False) == ([], 0)


async def test_a_broken_lock_lands_in_its_holders_inbox(store: Store) -> None:
    """An admin's forced unlock (reason broken) gives the holder a `lock_broken` item naming the admin."""
    ticket = await created(store)
    lock = Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0 + timedelta(minutes=3))
    held = await store.change(
        TicketChange(
            ticket=msgspec.structs.replace(ticket, lock=lock),
            holder="s-bob",
            guard=Guard(free=True),
            kind=EventKind.LOCKED,
            actor=BOB.id,
            grant=True,
        ),
        T0,
    )
    assert held.ticket is not None
    broken = await store.change(
        TicketChange(
            ticket=msgspec.structs.replace(held.ticket, lock=None),
            holder=None,
            guard=Guard(locked=True),
            kind=EventKind.UNLOCKED,
            actor=ADMIN.id,
            reason=UnlockReason.BROKEN,
        ),
        T0,
    )
    items, unread = await store.inbox(BOB.id, 10, unread_only=False)
    assert [(i.kind, i.seq, i.actor_name) for i in items] == [(InboxKind.LOCK_BROKEN, broken.seq, ADMIN.name)]
    assert unread == 1 and await kinds(store, ADMIN) == []


async def test_mentions_land_in_the_inbox_once_and_never_the_authors(store: Store) -> None:
    """A comment naming Bob and its author tells Bob; an edit that adds Carol tells Carol only."""
    ticket = await created(store)
    added = await store.change(comment_on(ticket, "@bob @alice", mentions=(BOB, ALICE)), T0)
    assert added.comment is not None
    edited = await store.change(edit_of(added.comment, "@bob @carol", mentions=(BOB, CAROL)), T0)
    bob, _ = await store.inbox(BOB.id, 10, unread_only=False)
    carol, _ = await store.inbox(CAROL.id, 10, unread_only=False)
    assert [(i.kind, i.seq, i.comment_id) for i in bob] == [(InboxKind.MENTIONED, added.seq, added.comment.id)]
    assert [(i.kind, i.seq) for i in carol] == [(InboxKind.MENTIONED, edited.seq)]
    assert await kinds(store, ALICE) == []


async def test_mark_read_by_seqs_and_up_to(store: Store) -> None:
    """Items are newest first; marking some by seq, then up to a seq, counts down unread; unread_only filters;
    another user's items are untouched."""
    ticket = await created(store)
    seqs = []
    for n in range(4):
        event = await store.change(comment_on(ticket, f"@bob {n}", mentions=(BOB, CAROL)), T0)
        seqs.append(event.seq)
    items, unread = await store.inbox(BOB.id, 10, unread_only=False)
    assert [i.seq for i in items] == seqs[::-1] and unread == 4
    assert await store.mark_read(BOB.id, [seqs[3], 999], None) == 3
    assert await store.mark_read(BOB.id, [], seqs[1]) == 1
    items, unread = await store.inbox(BOB.id, 10, unread_only=True)
    assert [i.seq for i in items] == [seqs[2]] and unread == 1
    item, unread = await store.inbox_item(BOB.id, seqs[0])
    assert item is not None and item.read and unread == 1
    assert await store.inbox_item(BOB.id, 999) == (None, 1)
    assert (await store.inbox(CAROL.id, 10, unread_only=True))[1] == 4


async def test_the_inbox_is_trimmed_with_the_log(store: Store) -> None:
    """Retention forgets the items of the events it forgets, and keeps newer ones."""
    ticket = await created(store)
    await store.change(comment_on(ticket, "@bob old", mentions=(BOB,)), T0)
    newer = await store.change(comment_on(ticket, "@bob new", mentions=(BOB,)), T0 + timedelta(days=2))
    assert await store.trim_log(T0 + timedelta(days=1)) == 2
    items, unread = await store.inbox(BOB.id, 10, unread_only=False)
    assert [i.seq for i in items] == [newer.seq] and unread == 1
