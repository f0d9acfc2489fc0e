"""The ticket view's data without a screen: the thread and its events, the drafts, presence, the timeline."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from lesbillets_tui.conversation import EARLY_MAX, Change, TicketThread
from lesbillets_tui.drafts import Drafts, comment_problem
from lesbillets_tui.presence import (
    NOWHERE,
    Here,
    OwnPresence,
    PresenceBoard,
    viewers_marker,
    viewers_suffix,
)
from lesbillets_tui.timeline import SERVER, entry_lines, timeline
from protocol.messages import (
    COMMENT_MAX,
    Comment,
    CommentAdded,
    CommentEdited,
    FieldChange,
    HistoryEntry,
    HistoryKind,
    Lock,
    TicketDetail,
    TicketLocked,
    TicketPresence,
    TicketUnlocked,
    TicketUpdated,
    UnlockReason,
    Viewer,
)
from tests.tui.factory import ADMIN, BOB, ME, T0, make_ticket

TICKET = make_ticket(1, title="VPN drops")
OTHER = make_ticket(2, title="Printer jams")


def comment(n: int, body: str = "hello", *, author: uuid.UUID = BOB.id, ticket_id: uuid.UUID = TICKET.id) -> Comment:
    return Comment(
        id=uuid.UUID(int=7000 + n),
        ticket_id=ticket_id,
        author=author,
        author_name="Bob Dubois" if author == BOB.id else "Alice Martin",
        body=body,
        created_at=T0 + timedelta(minutes=n),
    )


def detail(seq: int, *comments: Comment) -> TicketDetail:
    return TicketDetail(rid=1, ticket=TICKET, comments=list(comments), seq=seq)


# --- the thread ---------------------------------------------------------------------------


def test_events_after_the_detail_apply_and_older_ones_are_dropped() -> None:
    """A comment event at or before the detail's seq is already in it; one after it is added, newest last."""
    thread = TicketThread(TICKET.id)
    thread.load(detail(10, comment(1)))
    assert thread.apply(CommentAdded(seq=9, comment=comment(2))) is Change.NOTHING
    assert thread.apply(CommentAdded(seq=11, comment=comment(3))) is Change.COMMENT_ADDED
    assert thread.apply(CommentEdited(seq=12, comment=comment(1, "fixed"))) is Change.COMMENT_EDITED
    assert [c.body for c in thread.comments.values()] == ["fixed", "hello"]
    assert thread.seq == 12


def test_events_before_the_detail_wait_for_it() -> None:
    """Events that come while GetTicket is on its way are applied after it, if newer than it."""
    thread = TicketThread(TICKET.id)
    assert thread.apply(CommentAdded(seq=5, comment=comment(1))) is Change.NOTHING
    assert thread.apply(CommentAdded(seq=12, comment=comment(2, "late"))) is Change.NOTHING
    thread.load(detail(10, comment(1)))
    assert [c.body for c in thread.comments.values()] == ["hello", "late"]
    assert thread.seq == 12


def test_too_many_early_events_ask_for_a_fresh_detail() -> None:
    """Past EARLY_MAX waiting events the thread stops keeping them and says to fetch again."""
    thread = TicketThread(TICKET.id)
    for n in range(EARLY_MAX + 1):
        thread.apply(CommentAdded(seq=n + 1, comment=comment(n)))
    thread.load(detail(3))
    assert thread.overflowed
    thread.reset()
    thread.load(detail(EARLY_MAX + 1))
    assert not thread.overflowed


def test_ticket_events_change_the_fields_and_other_tickets_are_ignored() -> None:
    """Updates, locks and unlocks of this ticket change it; another ticket's events change nothing."""
    thread = TicketThread(TICKET.id)
    thread.load(detail(1))
    lock = Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0)
    assert thread.apply(TicketLocked(seq=2, ticket_id=TICKET.id, lock=lock)) is Change.TICKET
    assert thread.ticket is not None and thread.ticket.lock == lock
    renamed = make_ticket(1, title="VPN drops at night", version=2, lock=lock)
    assert thread.apply(TicketUpdated(seq=3, ticket=renamed)) is Change.TICKET
    assert thread.apply(TicketUnlocked(seq=4, ticket_id=TICKET.id, reason=UnlockReason.BROKEN)) is Change.TICKET
    assert thread.ticket.title == "VPN drops at night" and thread.ticket.lock is None
    assert thread.apply(TicketUpdated(seq=5, ticket=OTHER)) is Change.NOTHING
    assert thread.apply(CommentAdded(seq=6, comment=comment(1, ticket_id=OTHER.id))) is Change.NOTHING
    assert thread.seq == 4


# --- drafts ------------------------------------------------------------------------------


def test_a_draft_and_its_edits_outlive_switching_between_them() -> None:
    """The new comment and each edit keep their text while the agent moves between them."""
    drafts = Drafts()
    draft = drafts[TICKET.id]
    draft.text = "half a sentence"
    edit = draft.begin_edit(comment(1).id, "hello")
    edit.text = "hello, edited"
    draft.open_edit = None
    assert draft.begin_edit(comment(1).id, "hello").text == "hello, edited"
    assert draft.text == "half a sentence" and TICKET.id in drafts
    drafts.tidy(TICKET.id)
    assert drafts[TICKET.id] is draft  # not empty: kept
    draft.end_edit(comment(1).id)
    draft.text = ""
    drafts.tidy(TICKET.id)
    assert TICKET.id not in drafts


def test_a_send_in_doubt_is_settled_by_its_own_event() -> None:
    """A comment whose reply was lost clears the draft when it comes back as an event, and only that text."""
    drafts = Drafts()
    draft = drafts[TICKET.id]
    draft.text = draft.sending = "the fix is in"
    assert not drafts.arrived(TICKET.id, "something else")
    assert drafts.arrived(TICKET.id, "the fix is in")
    assert draft.text == "" and draft.sending is None
    assert not drafts.arrived(OTHER.id, "the fix is in")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Write something first."),
        ("  \n\t", "Write something first."),
        ("x" * (COMMENT_MAX + 1), "A comment holds at most 20,000 characters"),
        ("escape \x1b[2J", "A comment cannot hold control characters"),
        ("carriage\rreturn", "A comment cannot hold control characters"),
        ("override \u202e", "A comment cannot hold control characters"),
        ("**bold**\n\t- list\n[link](https://x.example)", ""),
        ("x" * COMMENT_MAX, ""),
    ],
    ids=["empty", "blank", "too long", "escape", "carriage return", "bidi override", "markdown", "longest"],
)
def test_the_box_refuses_what_the_server_would(text: str, problem: str) -> None:
    """Every comment the server would refuse gets a sentence before it is sent; the others none."""
    assert comment_problem(text).startswith(problem) and bool(comment_problem(text)) == bool(problem)


# --- presence ------------------------------------------------------------------------------


def test_the_newest_claim_is_reported_once() -> None:
    """The view claims, the form on top claims editing, closing each falls back; each change is sent once."""
    own = OwnPresence()
    changes: list[Here] = []
    own.on_change = lambda: changes.append(own.wanted)
    view, form = object(), object()
    own.claim(view, TICKET.id)
    own.claim(form, TICKET.id, editing=True)
    assert own.to_send() == Here(TICKET.id, editing=True)
    own.mark_sent(Here(TICKET.id, editing=True))
    assert own.to_send() is None
    own.release(form)
    assert own.to_send() == Here(TICKET.id)
    own.release(view)
    own.release(view)  # twice: nothing more happens
    assert changes == [Here(TICKET.id), Here(TICKET.id, editing=True), Here(TICKET.id), NOWHERE]
    own.forget_sent()  # a new connection has nothing open: nothing to say
    assert own.to_send() is None
    own.claim(view, OTHER.id)
    own.forget_sent()
    assert own.to_send() == Here(OTHER.id)


def test_the_board_shows_colleagues_once_each() -> None:
    """Others only, one entry per person (editing wins over viewing), editors first; empty tickets vanish."""
    board = PresenceBoard()
    me, bob, bob_editing = (
        Viewer(user_id=ME.id, name=ME.name),
        Viewer(user_id=BOB.id, name=BOB.name),
        Viewer(user_id=BOB.id, name=BOB.name, editing=True),
    )
    admin = Viewer(user_id=ADMIN.id, name=ADMIN.name)
    board.load([TicketPresence(ticket_id=TICKET.id, viewers=[me, admin, bob, bob_editing])])
    assert board.others(TICKET.id, ME.id) == [bob_editing, admin]
    board.apply(TICKET.id, [me])
    assert board.others(TICKET.id, ME.id) == []
    board.apply(OTHER.id, [admin])
    board.apply(OTHER.id, [])
    assert board.others(OTHER.id, ME.id) == []


@pytest.mark.parametrize(
    ("names", "width", "marker"),
    [
        ([], 18, ""),
        (["Bob Dubois"], 18, "○ Bob Dubois"),
        (["Bob Dubois", "Camille Admin"], 18, "○ BD CA"),
        (["Bob Dubois", "Camille Admin", "Zoé", "Ana Lopes", "Li Wei", "Marc Petit", "Jo Smith"], 18, "○ 7"),
        (["Cher"], 18, "○ Cher"),
        (["Cher", "Zoé"], 18, "○ C Z"),
    ],
    ids=["nobody", "one", "two", "too many for initials", "one word", "one-word names"],
)
def test_the_table_marker(names: list[str], width: int, marker: str) -> None:
    """One colleague by name, a few by initials, many by count."""
    viewers = [Viewer(user_id=uuid.UUID(int=n), name=name) for n, name in enumerate(names)]
    assert viewers_marker(viewers, width) == marker


def test_the_marker_beside_a_lock() -> None:
    """Beside a lock holder's name: one colleague's initials, or how many."""
    bob, admin = Viewer(user_id=BOB.id, name=BOB.name), Viewer(user_id=ADMIN.id, name=ADMIN.name)
    assert [viewers_suffix(v) for v in ([], [admin], [bob, admin])] == ["", " ○CA", " ○2"]


def test_short_marker_uses_initials() -> None:
    """In a narrow Lock column even one colleague is initials."""
    assert viewers_marker([Viewer(user_id=BOB.id, name=BOB.name)], 10, short=True) == "○ BD"


# --- the timeline --------------------------------------------------------------------------


def entry(seq: int, kind: HistoryKind, **fields: object) -> HistoryEntry:
    return HistoryEntry(seq=seq, at=T0, actor=fields.pop("actor", BOB.id), kind=kind, **fields)  # type: ignore[arg-type]


NAMES = {BOB.id: "Bob Dubois", ME.id: "Alice Martin"}


def name_of(user_id: uuid.UUID) -> str:
    return NAMES.get(user_id, "someone")


@pytest.mark.parametrize(
    ("history_entry", "lines"),
    [
        (
            entry(1, HistoryKind.CREATED, changes=[FieldChange(field="title", old=None, new="x")]),
            ["created the ticket"],
        ),
        (
            entry(
                2,
                HistoryKind.UPDATED,
                changes=[
                    FieldChange(field="status", old="open", new="blocked"),
                    FieldChange(field="assignee", old=None, new=str(ME.id)),
                    FieldChange(field="description", old="a", new="b"),
                    FieldChange(field="title", old="Old", new="A title far longer than thirty-two characters"),
                    FieldChange(field="due_at", old=None, new="2026-11-30T17:00:00+00:00"),
                ],
            ),
            [
                "status open → blocked",
                "assignee nobody → Alice Martin",
                "changed the description",
                "title “Old” → “A title far longer than thirty-…”",
                "due none → 2026-11-30 17:00",
            ],
        ),
        (entry(3, HistoryKind.LOCKED), ["took the lock"]),
        (entry(4, HistoryKind.UNLOCKED, reason=UnlockReason.EXPIRED, actor=None), ["lock expired"]),
        (entry(5, HistoryKind.UNLOCKED, reason=UnlockReason.BROKEN), ["broke the lock"]),
        (entry(6, HistoryKind.COMMENTED, comment=comment(1, "first line\nsecond")), ["commented: “first line…”"]),
        (entry(7, HistoryKind.COMMENT_EDITED, comment=comment(1, "better")), ["edited a comment: “better”"]),
    ],
    ids=["created", "updated", "locked", "expired", "broken", "commented", "comment edited"],
)
def test_history_lines(history_entry: HistoryEntry, lines: list[str]) -> None:
    """One line per field change, per lock change and per comment, values shortened."""
    assert [line.what for line in entry_lines(history_entry, name_of)] == lines


def test_timeline_reads_oldest_first_with_who_and_when() -> None:
    """Entries in seq order; the server's own changes are signed by it; a line reads "who · what · when"."""
    entries = [entry(9, HistoryKind.UNLOCKED, reason=UnlockReason.EXPIRED, actor=None), entry(3, HistoryKind.LOCKED)]
    lines = timeline(entries, name_of)
    assert [line.actor for line in lines] == ["Bob Dubois", SERVER]
    assert lines[0].text("3m ago") == "Bob Dubois · took the lock · 3m ago"


def test_a_due_time_in_the_history_is_in_local_time(paris: None) -> None:
    """The timeline shows a due time as the form and the preview do: the agent's local time, not UTC."""
    change = FieldChange(field="due_at", old=None, new="2026-11-30T17:00:00+00:00")
    (line,) = entry_lines(entry(2, HistoryKind.UPDATED, changes=[change]), name_of)
    assert line.what == "due none → 2026-11-30 18:00"


def test_a_long_title_changed_at_its_end_shows_the_change() -> None:
    """Both titles are cut around where they differ, not at the same first 32 characters."""
    change = FieldChange(
        field="title",
        old="Scanner on floor 2 shows paper jams",
        new="Scanner on floor 2 shows paper jams (edited by Dana)",
    )
    (line,) = entry_lines(entry(2, HistoryKind.UPDATED, changes=[change]), name_of)
    before, after = line.what.removeprefix("title ").split(" → ")
    assert before != after and "(edited by Dana)" in after, line.what


def test_the_timeline_names_whose_lock_expired_or_was_broken() -> None:
    """An unlock after Bob's lock names him: "Bob Dubois's lock expired", "broke Bob Dubois's lock"."""
    entries = [
        entry(1, HistoryKind.LOCKED),
        entry(2, HistoryKind.UNLOCKED, reason=UnlockReason.EXPIRED, actor=None),
        entry(3, HistoryKind.LOCKED),
        entry(4, HistoryKind.UNLOCKED, reason=UnlockReason.BROKEN, actor=ME.id),
        entry(5, HistoryKind.UNLOCKED, reason=UnlockReason.EXPIRED, actor=None),  # no lock before it in the history
    ]
    assert [line.what for line in timeline(entries, name_of)] == [
        "took the lock",
        "Bob Dubois's lock expired",
        "took the lock",
        "broke Bob Dubois's lock",
        "lock expired",
    ]


def test_an_edited_comment_shows_its_text_before_and_after_without_markdown() -> None:
    """The edit quotes the earlier text beside the new, as plain text (no **, no heading marks)."""
    entries = [
        entry(1, HistoryKind.COMMENTED, comment=comment(1, "## Steps tried\nmore")),
        entry(2, HistoryKind.COMMENT_EDITED, comment=comment(1, "Checked the **rollers**")),
        entry(3, HistoryKind.COMMENTED, comment=comment(2, "see [the note](https://x.example/1) `now`")),
    ]
    assert [line.what for line in timeline(entries, name_of)] == [
        "commented: “Steps tried…”",
        "edited a comment: “Steps tried…” → “Checked the rollers”",
        "commented: “see the note now”",
    ]
