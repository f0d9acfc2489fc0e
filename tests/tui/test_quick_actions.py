"""Quick changes, sans I/O: what the agent is told about what changed and what was refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import msgspec
import pytest

from lesbillets_tui.due_tags import FieldError
from lesbillets_tui.quick_actions import CLOSE, label, outcome, parse_tag_change, refusal_sentence, set_priority
from lesbillets_tui.table_model import TableModel
from protocol.messages import Changed, ErrorCode, Lock, Priority, Refusal
from tests.tui.factory import BOB, T0, make_ticket

NUMBERED = msgspec.structs.replace(make_ticket(1, title="Printer jams"), number=1042)
UNNUMBERED = msgspec.structs.replace(make_ticket(2, title="VPN drops"), number=0)
MODEL = TableModel()
MODEL.load([NUMBERED, UNNUMBERED])
LOCK = Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0 + timedelta(minutes=3))


@pytest.mark.parametrize(
    ("refusal", "sentence"),
    [
        (
            Refusal(ticket_id=NUMBERED.id, code=ErrorCode.LOCKED, message="Locked.", lock=LOCK),
            "#1042 is locked by Bob Dubois.",
        ),
        (
            Refusal(ticket_id=UNNUMBERED.id, code=ErrorCode.LOCKED, message="x", lock=LOCK),
            "“VPN drops” is locked by Bob Dubois.",
        ),
        (Refusal(ticket_id=1042, code=ErrorCode.NOT_FOUND, message="No such ticket."), "#1042: No such ticket."),
        (
            Refusal(ticket_id=uuid.UUID(int=5), code=ErrorCode.NOT_FOUND, message="No such ticket."),
            "A ticket: No such ticket.",
        ),
    ],
)
def test_refusal_sentences(refusal: Refusal, sentence: str) -> None:
    """A lock names its holder; other refusals carry the server's sentence; the ticket by number or title."""
    assert refusal_sentence(refusal, MODEL) == sentence


def test_outcome_names_what_changed() -> None:
    """ "Closed: #1042, “VPN drops”."; nothing changed, nothing said."""
    assert outcome(CLOSE, Changed(rid=1, tickets=[NUMBERED, UNNUMBERED], refused=[])) == "Closed: #1042, “VPN drops”."
    assert outcome(CLOSE, Changed(rid=1, tickets=[], refused=[])) is None


def test_outcome_of_many_is_short() -> None:
    """Twenty tickets read as eight numbers and "12 more"."""
    many = [msgspec.structs.replace(NUMBERED, number=n) for n in range(1, 21)]
    said = outcome(set_priority(Priority.URGENT), Changed(rid=1, tickets=many, refused=[]))
    assert said is not None and said.startswith("Set to urgent: #1, #2") and said.endswith("and 12 more.")


def test_label_of_a_title_with_control_characters() -> None:
    """A ticket without a number is named by its title, drawn safely."""
    said = label(msgspec.structs.replace(make_ticket(3, title="\x1b[2J"), number=0))
    assert "[2J" in said and "\x1b" not in said


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vpn", (["vpn"], [])),
        ("VPN, home-office -printer", (["vpn", "home-office"], ["printer"])),
        ("+vpn +vpn -a -a", (["vpn"], ["a"])),
    ],
)
def test_a_tag_change_is_words_to_add_and_minus_words_to_remove(
    text: str, expected: tuple[list[str], list[str]]
) -> None:
    """Words are added, words after a minus removed, each once, in lower case."""
    assert parse_tag_change(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "-", "bad/tag", "-bad!"])
def test_a_tag_change_that_is_none_gets_a_sentence(text: str) -> None:
    """Nothing typed, or a word that cannot be a tag: a sentence, nothing sent."""
    with pytest.raises(FieldError, match=r"\.$"):
        parse_tag_change(text)
