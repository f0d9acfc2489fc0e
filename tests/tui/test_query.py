"""The filter language, parsed without any UI."""

from __future__ import annotations

import pytest

from lesbillets_tui.query import Filter, haystack, parse_query
from protocol.messages import Lock, Priority, Status
from tests.tui.factory import BOB, ME, T0, USERS, make_ticket


def parse(text: str) -> Filter:
    parsed = parse_query(text, me=ME.id, users=USERS)
    assert parsed.errors == (), parsed.errors
    return parsed.filter


def test_empty_query_is_the_empty_filter() -> None:
    """Nothing typed (or only spaces) shows every ticket."""
    assert parse("").is_empty
    assert parse("   ").is_empty


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("printer JAM", Filter(words=("printer", "jam"))),
        ('"duplex job" vpn', Filter(words=("duplex job", "vpn"))),
        ("status:open", Filter(statuses=frozenset({Status.OPEN}))),
        ("status:open,blocked", Filter(statuses=frozenset({Status.OPEN, Status.BLOCKED}))),
        ("status:open status:closed", Filter(statuses=frozenset({Status.OPEN, Status.CLOSED}))),
        ("status:b", Filter(statuses=frozenset({Status.BLOCKED}))),
        ("STATUS:Closed", Filter(statuses=frozenset({Status.CLOSED}))),
        ("priority:high,urgent", Filter(priorities=frozenset({Priority.HIGH, Priority.URGENT}))),
        ("priority:u", Filter(priorities=frozenset({Priority.URGENT}))),
        ("assignee:me", Filter(assignees=frozenset({ME.id}))),
        ("assignee:none", Filter(assignees=frozenset({None}))),
        ("assignee:bob", Filter(assignees=frozenset({BOB.id}))),
        ("assignee:bob@", Filter(assignees=frozenset({BOB.id}))),
        ("assignee:me,none", Filter(assignees=frozenset({ME.id, None}))),
        ("locked", Filter(locked=True)),
        ("unlocked", Filter(locked=False)),
        ("status:", Filter()),
        ("http://example.com", Filter(words=("http://example.com",))),
    ],
)
def test_parses(text: str, expected: Filter) -> None:
    """Each form of the language parses to the filter it stands for."""
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "error", "remaining"),
    [
        ("status:pending", "Unknown status “pending”: use one of open, blocked, closed.", Filter()),
        ("priority:medium", "Unknown priority “medium”: use one of low, normal, high, urgent.", Filter()),
        (
            "priority:zz,high",
            "Unknown priority “zz”: use one of low, normal, high, urgent.",
            Filter(priorities=frozenset({Priority.HIGH})),
        ),
        ("assignee:zed", "No agent matches “zed”.", Filter()),
        ("status:x vpn", "Unknown status “x”: use one of open, blocked, closed.", Filter(words=("vpn",))),
    ],
)
def test_bad_values_are_reported_and_ignored(text: str, error: str, remaining: Filter) -> None:
    """A value that is not understood is a sentence in ``errors`` and narrows nothing; the rest still applies."""
    parsed = parse_query(text, me=ME.id, users=USERS)
    assert parsed.errors == (error,)
    assert parsed.filter == remaining


def test_assignee_me_needs_a_logged_in_agent() -> None:
    """Before login there is no "me" to match."""
    assert parse_query("assignee:me").errors == ("No agent matches “me”.",)


def test_matches_combines_keys_and_words() -> None:
    """Keys must all hold, words must all appear in the title or description."""
    ticket = make_ticket(
        1,
        title="Printer jams",
        description="Only on DUPLEX jobs",
        status=Status.OPEN,
        priority=Priority.HIGH,
        assignee=ME.id,
        lock=Lock(user_id=BOB.id, user_name=BOB.name, expires_at=T0),
    )
    hay = haystack(ticket)
    assert parse("printer duplex status:open priority:high assignee:me locked").matches(ticket, hay)
    assert not parse("printer fax").matches(ticket, hay)
    assert not parse("status:closed").matches(ticket, hay)
    assert not parse("unlocked").matches(ticket, hay)
    assert not parse("assignee:none").matches(ticket, hay)
    assert not parse("assignee:bob").matches(ticket, hay)
