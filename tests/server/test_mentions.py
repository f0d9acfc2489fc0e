"""The mention rule, as a plain function: which @words name which users."""

from __future__ import annotations

import uuid

import pytest

from lesbillets_server.mentions import MAX_MENTIONS, handles, resolve
from protocol.messages import Role, User

BOB = User(id=uuid.uuid4(), email="bob@example.com", name="Bob Dubois", role=Role.AGENT)
ZOE = User(id=uuid.uuid4(), email="z.lefevre@example.com", name="Zoé Lefèvre", role=Role.AGENT)
BOB2 = User(id=uuid.uuid4(), email="bob@other.example", name="Robert", role=Role.AGENT)
USERS = [BOB, ZOE]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("@bob look", [BOB]),
        ("@BOB look", [BOB]),
        ("@BobDubois look", [BOB]),
        ("thanks @bob.", [BOB]),
        ("(@bob) and @bob again", [BOB]),
        ("@z.lefevre and @ZoéLefèvre", [ZOE]),
        ("@zoé", []),
        ("@nobody here", []),
        ("write to bob@example.com", []),
        ("@@bob", []),
        ("@ bob", []),
        ("`@bob` in code still names him", [BOB]),
        ("@zoelefevre @bob", [BOB]),
        ("@z.lefevre, then @bob", [ZOE, BOB]),
        ("line one\n@bob on line two", [BOB]),
    ],
)
def test_which_words_name_whom(body: str, named: list[User]) -> None:
    """The local part of the email or the name without spaces, any case; emails and unknown words are text."""
    assert resolve(body, USERS) == [user.id for user in named]


def test_a_word_naming_two_users_names_both() -> None:
    """Two users whose emails share the part before the @ are both named (a mention always notifies)."""
    assert resolve("@bob", [BOB, BOB2]) == [BOB.id, BOB2.id]


def test_a_body_full_of_mentions_is_bounded() -> None:
    """Only the first MAX_MENTIONS distinct words are looked up, whatever the body holds."""
    body = " ".join(f"@user{n}" for n in range(5000))
    assert len(handles(body)) == MAX_MENTIONS
