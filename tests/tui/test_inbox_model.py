"""The inbox as the app holds it: loading, live notices, marking read, the sentences."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from lesbillets_tui.inbox import KEEP, InboxModel, headline
from protocol.messages import Inbox, InboxChanged, InboxItem, InboxKind
from tests.tui.factory import BOB, T0


def item(
    seq: int, *, kind: InboxKind = InboxKind.ASSIGNED, read: bool = False, title: str = "Printer jams"
) -> InboxItem:
    return InboxItem(
        seq=seq,
        kind=kind,
        ticket_id=uuid.UUID(int=1000 + seq),
        number=1000 + seq,
        title=title,
        actor=BOB.id,
        actor_name=BOB.name,
        at=T0 + timedelta(minutes=seq),
        read=read,
    )


def loaded(*items: InboxItem, unread: int | None = None) -> InboxModel:
    model = InboxModel()
    model.load(Inbox(rid=1, items=list(items), unread=sum(not i.read for i in items) if unread is None else unread))
    return model


def test_load_orders_newest_first_and_takes_the_servers_count() -> None:
    """Items come out newest first whatever the order sent; the unread count is the server's (it counts more)."""
    model = loaded(item(3), item(9, read=True), item(5), unread=7)
    assert [i.seq for i in model.items] == [9, 5, 3]
    assert model.unread == 7 and model.loaded


def test_a_notice_inserts_its_item_once_in_seq_order() -> None:
    """A new item is announced once; the same notice again (a replay) is not announced twice."""
    model = loaded(item(3), item(9))
    new = item(5)
    assert model.apply(InboxChanged(unread=3, item=new)) == new
    assert [i.seq for i in model.items] == [9, 5, 3] and model.unread == 3
    assert model.apply(InboxChanged(unread=3, item=new)) is None
    assert len(model.items) == 3


def test_a_notice_without_item_only_sets_the_count() -> None:
    """Read on another connection: the count follows; which items, the next fetch says."""
    model = loaded(item(3), item(4))
    assert model.apply(InboxChanged(unread=0)) is None
    assert model.unread == 0 and len(model.items) == 2


def test_items_are_bounded() -> None:
    """A long session keeps the newest KEEP items only."""
    model = loaded()
    for seq in range(1, KEEP + 20):
        model.apply(InboxChanged(unread=seq, item=item(seq)))
    assert len(model.items) == KEEP and model.items[0].seq == KEEP + 19


def test_mark_read_counts_only_unread_items() -> None:
    """Marking an item already read changes nothing; the count never goes below zero."""
    model = loaded(item(1), item(2, read=True), item(3))
    assert model.mark_read([2, 3, 99]) == [3]
    assert model.unread == 1
    assert model.get(3) is not None and model.get(3).read  # type: ignore[union-attr]
    assert model.mark_read([3]) == []


def test_mark_all_read_gives_the_newest_seq() -> None:
    """ "Mark all read" sends up_to the newest item; an empty inbox sends nothing."""
    model = loaded(item(4), item(8))
    assert model.mark_all_read() == 8
    assert model.unread == 0 and all(i.read for i in model.items)
    assert InboxModel().mark_all_read() is None


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        (InboxKind.ASSIGNED, "Bob Dubois assigned #1007 “Printer jams” to you."),
        (InboxKind.MENTIONED, "Bob Dubois mentioned you on #1007 “Printer jams”."),
        (InboxKind.LOCK_BROKEN, "Bob Dubois broke your lock on #1007 “Printer jams”."),
    ],
)
def test_headline(kind: InboxKind, sentence: str) -> None:
    """Each kind of item reads as a sentence naming who, what and which ticket."""
    assert headline(item(7, kind=kind)) == sentence


def test_headline_draws_control_characters() -> None:
    """A title holding an escape sequence is drawn, not sent to the terminal."""
    assert "\x1b" not in headline(item(7, title="\x1b[2Jboom"))
