"""The server's search behind the filter, sans I/O: stale answers, comments that start matching, snippets."""

from __future__ import annotations

import uuid

import pytest

from lesbillets_tui.search import LiveSearch, SearchState, make_snippet
from lesbillets_tui.table_model import TableModel
from protocol.messages import Comment, HitField, SearchHit, Span, Status
from tests.tui.factory import BOB, T0, make_ticket

TICKET = make_ticket(1, title="Laptop will not start", description="Since Monday, after the update.")


def hit(ticket_id: uuid.UUID, field: HitField = HitField.DESCRIPTION) -> SearchHit:
    return SearchHit(ticket_id=ticket_id, number=1, title="t", rank=1.0, field=field, snippet="s")


def comment(body: str, ticket_id: uuid.UUID = TICKET.id) -> Comment:
    return Comment(id=uuid.uuid4(), ticket_id=ticket_id, author=BOB.id, author_name=BOB.name, body=body, created_at=T0)


def test_words_ask_the_server_and_qualifiers_alone_do_not() -> None:
    """Only a query with words goes to the server; the same query again does not go twice."""
    search = LiveSearch()
    assert not search.set_query("status:open", ())
    assert search.state is SearchState.IDLE
    assert search.set_query("vpn status:open", ("vpn",))
    assert search.state is SearchState.WAITING
    assert not search.set_query("vpn status:open ", ("vpn",))


def test_a_stale_answer_is_dropped() -> None:
    """The answer to "vp" arriving after "vpn" was typed changes nothing."""
    search = LiveSearch()
    search.set_query("vp", ("vp",))
    search.set_query("vpn", ("vpn",))
    assert not search.answer("vp", [hit(TICKET.id)])
    assert search.hits == {} and search.state is SearchState.WAITING
    assert search.answer("vpn", [hit(TICKET.id)])
    assert set(search.hits) == {TICKET.id} and search.state is SearchState.DONE


def test_a_failure_is_kept_for_its_query_only() -> None:
    """A refused search is said, unless the box has moved on."""
    search = LiveSearch()
    search.set_query("vpn", ("vpn",))
    assert not search.failed("vp", "nope")
    assert search.failed("vpn", "The server is busy.")
    assert search.state is SearchState.FAILED and search.error == "The server is busy."


@pytest.mark.parametrize(
    ("words", "body", "joins"),
    [
        (("dock",), "Tried the docking station: same.", True),
        (("dock", "laptop"), "The dock is fine.", True),  # "laptop" is in the title
        (("dock", "printer"), "The dock is fine.", False),  # "printer" nowhere
        (("laptop",), "No news.", False),  # matched by the title already: not the comment's doing
        (("dock",), "Nothing relevant.", False),
        (("DOCK".casefold(),), "DOCKING fails", True),  # the words are casefolded, so is the body
    ],
)
def test_a_new_comment_joins_the_results_when_the_ticket_now_matches(
    words: tuple[str, ...], body: str, joins: bool
) -> None:
    """Every word in the title, description or comment, one at least in the comment."""
    search = LiveSearch()
    search.set_query(" ".join(words), words)
    search.answer(" ".join(words), [])
    made = search.comment_added(comment(body), TICKET)
    assert (made is not None) is joins
    assert (TICKET.id in search.hits) is joins
    if made is not None:
        assert made.field is HitField.COMMENT and made.number == TICKET.number
        assert all(made.snippet[span.start : span.end].casefold() in words for span in made.highlights)


def test_a_comment_hit_survives_an_answer_that_was_in_flight() -> None:
    """The server's answer computed before the comment does not erase the hit the comment made."""
    search = LiveSearch()
    search.set_query("dock", ("dock",))
    assert search.comment_added(comment("the dock again"), TICKET) is not None
    other = uuid.UUID(int=77)
    assert search.answer("dock", [hit(other)])
    assert set(search.hits) == {TICKET.id, other}


def test_no_words_no_comment_hits() -> None:
    """Without a query nothing a comment says joins anything."""
    assert LiveSearch().comment_added(comment("dock"), TICKET) is None


def test_snippet_centres_on_the_first_word_and_marks_every_occurrence() -> None:
    """A long text is cut around the match with ellipses; each occurrence is a span."""
    text = "Intro. " * 30 + "The VPN drops, then the vpn\nreconnects." + " Outro." * 30
    snippet, spans = make_snippet(text, ("vpn",), width=60)
    assert snippet.startswith("…") and snippet.endswith("…") and "\n" not in snippet
    assert [snippet[span.start : span.end] for span in spans] == ["VPN", "vpn"]


def test_snippet_merges_overlapping_spans() -> None:
    """Words that overlap ("dock", "docking") make one highlighted span."""
    snippet, spans = make_snippet("the docking station", ("dock", "docking"))
    assert spans == [Span(start=4, end=11)] and snippet == "the docking station"


def test_the_table_shows_server_hits_when_the_filters_other_parts_hold() -> None:
    """A hit by comment joins the rows; "status:closed" still hides it when it is open."""
    other = make_ticket(2, title="Printer jams", status=Status.OPEN)
    model = TableModel()
    model.load([TICKET, other])
    model.set_query("dock")
    assert len(model) == 0
    model.set_search_hits([TICKET.id])
    assert [model.row(0).id] == [TICKET.id]
    model.set_query("dock status:closed")
    assert len(model) == 0
    model.set_query("")
    model.set_search_hits([])
    assert len(model) == 2
