"""The query language shared by the app's filter and the server's search: what `tag:` and `#n` add.

The rest of the language is tested where the app uses it (tests/tui/test_query.py, through lesbillets_tui.query).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from protocol.messages import Priority, Status, Ticket
from protocol.query import Filter, haystack, parse_query

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def ticket(number: int, tags: list[str]) -> Ticket:
    return Ticket(
        id=uuid.uuid4(),
        title="VPN drops",
        description="from home",
        status=Status.OPEN,
        priority=Priority.NORMAL,
        assignee=None,
        created_at=T0,
        created_by=uuid.UUID(int=1),
        updated_at=T0,
        updated_by=uuid.UUID(int=1),
        version=1,
        number=number,
        tags=tags,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tag:vpn", Filter(tags=frozenset({"vpn"}))),
        ("TAG:VPN", Filter(tags=frozenset({"vpn"}))),
        ("tag:vpn,wifi tag:home-office", Filter(tags=frozenset({"vpn", "wifi", "home-office"}))),
        ("tag:", Filter()),
        ("#1042", Filter(numbers=frozenset({1042}))),
        ("#1042 #7 vpn", Filter(words=("vpn",), numbers=frozenset({1042, 7}))),
        ("#0", Filter(words=("#0",))),
        ("#12a", Filter(words=("#12a",))),
        ("#", Filter(words=("#",))),
        ("#99999999999999999", Filter(words=("#99999999999999999",))),
        ('"#1042"', Filter(words=("#1042",))),
        ("title:x", Filter(words=("title:x",))),
        (
            "vpn tag:vpn status:open #3",
            Filter(words=("vpn",), statuses=frozenset({Status.OPEN}), tags=frozenset({"vpn"}), numbers=frozenset({3})),
        ),
    ],
)
def test_parses_tags_and_numbers(text: str, expected: Filter) -> None:
    """`tag:` takes whole tags (alternatives), `#n` a ticket number; anything else like them is a word."""
    parsed = parse_query(text)
    assert parsed.errors == ()
    assert parsed.filter == expected


@pytest.mark.parametrize("value", ["Ünï", "-vpn", "a;b", "x" * 33, "vpn!"])
def test_a_value_that_is_no_tag_is_reported(value: str) -> None:
    """A `tag:` value that no tag could be is a sentence in ``errors`` and narrows nothing."""
    parsed = parse_query(f"tag:{value}")
    assert parsed.errors
    assert "is not a tag" in parsed.errors[0]


def test_matches_tags_and_numbers() -> None:
    """A ticket passes with any of the tags named and any of the numbers named."""
    vpn = ticket(1042, ["vpn", "home"])
    hay = haystack(vpn)
    assert parse_query("tag:vpn").filter.matches(vpn, hay)
    assert parse_query("tag:wifi,home").filter.matches(vpn, hay)
    assert not parse_query("tag:wifi").filter.matches(vpn, hay)
    assert parse_query("#1042").filter.matches(vpn, hay)
    assert parse_query("#7 #1042 drops").filter.matches(vpn, hay)
    assert not parse_query("#7").filter.matches(vpn, hay)
    assert not parse_query("#1042 printer").filter.matches(vpn, hay)


def test_the_app_module_is_the_same_parser() -> None:
    """lesbillets_tui.query re-exports this module: the app and the server parse alike."""
    import lesbillets_tui.query as app_query

    assert app_query.parse_query is parse_query
    assert app_query.Filter is Filter
