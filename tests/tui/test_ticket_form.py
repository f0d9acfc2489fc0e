"""The form's conflict view as a plain function: what they changed, theirs beside the form's value."""

from __future__ import annotations

import dataclasses

import msgspec

from lesbillets_tui.ticket_form import FieldConflict, FormValues, conflicts
from protocol.messages import Priority, Status
from tests.tui.factory import BOB, ME, make_ticket

OPENED = make_ticket(1, title="Badge reader", description="Fails at the dock.")


def name_of(user_id: object) -> str:
    return {ME.id: ME.name, BOB.id: BOB.name}.get(user_id, "?")  # type: ignore[call-overload]


def test_each_field_they_changed_shows_theirs_and_yours() -> None:
    """Only fields changed since the form opened are listed, in form order, with readable values."""
    latest = msgspec.structs.replace(
        OPENED, version=3, title="Badge reader (dock 2)", priority=Priority.URGENT, assignee=BOB.id,
        description="Fails at the dock.\nAlso at gate 2.\nAnd 3.",
    )  # fmt: skip
    form = dataclasses.replace(FormValues.of(OPENED), title="Badge reader at gate 2")
    assert conflicts(OPENED, latest, form, name_of) == [
        FieldConflict("title", "“Badge reader (dock 2)”", "“Badge reader at gate 2”", same=False),
        FieldConflict("description", "“Fails at the dock.” (+2 lines)", "“Fails at the dock.”", same=False, kept=True),
        FieldConflict("priority", "urgent", "normal", same=False, kept=True),
        FieldConflict("assignee", "Bob Dubois", "unassigned", same=False, kept=True),
    ]


def test_a_field_the_form_already_agrees_on_is_marked_same() -> None:
    """When the agent made the same change, there is nothing to choose for that field."""
    latest = msgspec.structs.replace(OPENED, version=2, status=Status.CLOSED)
    form = dataclasses.replace(FormValues.of(OPENED), status=Status.CLOSED)
    assert conflicts(OPENED, latest, form, name_of) == [FieldConflict("status", "closed", "closed", same=True)]


def test_no_latest_or_a_new_ticket_has_no_conflicts() -> None:
    """Nothing to compare: no rows."""
    assert conflicts(OPENED, None, FormValues.of(OPENED), name_of) == []
    assert conflicts(None, OPENED, FormValues.of(OPENED), name_of) == []


def test_a_field_they_changed_and_the_agent_left_alone_is_kept_as_theirs() -> None:
    """The agent changed the title; Bob the status: the status row says a save keeps his (only changes are sent)."""
    latest = msgspec.structs.replace(OPENED, version=2, status=Status.BLOCKED, title="Badge reader (dock 2)")
    form = dataclasses.replace(FormValues.of(OPENED), title="Badge reader at gate 2")
    assert conflicts(OPENED, latest, form, name_of) == [
        FieldConflict("title", "“Badge reader (dock 2)”", "“Badge reader at gate 2”", same=False),
        FieldConflict("status", "blocked", "open", same=False, kept=True),
    ]
