"""The server's search behind the filter, sans I/O: stale answers, comments that start matching, snippets."""

from __future__ import annotations

import uuid

import pytest

from lesbillets_tui.search import LiveSearch, SearchState, fold, holds_all, make_snippet
from lesbillets_tui.table_model import TableModel
from protocol.messages import Comment, HitField, SearchHit, Span, Status
from protocol.query import parse_query
from tests.tui.factory import BOB, ME, T0, make_ticket

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
        (("dock",), "Tried the docking station: same.", True),  # a word's start: "dock" as stemming finds "docks"
        (("sensor",), "The SENSORS report nothing.", True),
        (("cable", "quokka"), "a quokka ate the cable", True),  # the words in any order
        (("dock", "laptop"), "The dock is fine.", False),  # "laptop" is in the title: not in this one comment
        (("dock", "printer"), "The dock is fine.", False),
        (("laptop",), "No news.", False),
        (("dock",), "Nothing relevant.", False),
        (("ock",), "The docking station.", False),  # inside a word: the server's whole words never match it
        (("dock",), "It came undocked.", False),
        (("docking station",), "The docking-station is dead.", True),  # a phrase: its words in a row
        (("docking station",), "A station for docking.", False),
        (("cafe",), "Le Café du coin", True),  # accents off, as SQLite's index takes them off
        (("strasse",), "Die Straße ist gesperrt", True),
        (("!!!",), "!!! again", False),  # no word in it: the server finds nothing for it
        (("DOCK".casefold(),), "DOCKING fails", True),
    ],
)
def test_a_new_comment_joins_the_results_when_it_holds_every_word(
    words: tuple[str, ...], body: str, joins: bool
) -> None:
    """Every word at the start of a word of this one comment, as the server's full-text search matches them."""
    search = LiveSearch()
    search.set_query(" ".join(f'"{word}"' for word in words), words)
    search.answer(search.query, [])
    made = search.comment_added(comment(body), TICKET)
    assert (made is not None) is joins
    assert (TICKET.id in search.hits) is joins
    if made is not None:
        assert made.field is HitField.COMMENT and made.number == TICKET.number
        marked = [made.snippet[span.start : span.end] for span in made.highlights]
        assert marked and all(any(fold(text).startswith(word.split()[0]) for word in words) for text in marked)


@pytest.mark.parametrize(
    ("query", "joins"),
    [
        ("status:closed quokka", False),  # the tester's case: the strip counted it, the table hid it
        ("status:open quokka", True),
        ("priority:urgent quokka", False),
        ("locked quokka", False),
        ("unlocked quokka", True),
        ("tag:vpn quokka", False),
        ("#1001 quokka", True),
        ("#1002 quokka", False),
    ],
)
def test_a_comment_joins_only_when_the_tickets_fields_satisfy_the_qualifiers(query: str, joins: bool) -> None:
    """The open, unlocked, untagged ticket #1001 joins by its comment only when the qualifiers keep it."""
    search = LiveSearch()
    search.set_query(query, ("quokka",))
    search.answer(query, [])
    assert (search.comment_added(comment("a quokka ate the cable"), TICKET) is not None) is joins
    assert (TICKET.id in search.hits) is joins


def test_assignee_qualifiers_need_the_filter_the_table_parsed() -> None:
    """ "assignee:me" narrows with the table's parse (which knows who "me" is); the text alone cannot resolve it."""
    query = "assignee:me quokka"
    search = LiveSearch()
    search.set_query(query, ("quokka",), parse_query(query, me=ME.id, users=[ME, BOB]).filter)
    assert search.comment_added(comment("a quokka"), TICKET) is None  # unassigned
    assert search.comment_added(comment("a quokka"), make_ticket(1, assignee=ME.id)) is not None
    unresolved = LiveSearch()
    unresolved.set_query(query, ("quokka",))
    assert unresolved.comment_added(comment("a quokka"), TICKET) is not None


def test_a_ticket_the_app_does_not_know_joins_only_without_qualifiers() -> None:
    """Without its row the qualifiers cannot be checked: the comment adds nothing then."""
    search = LiveSearch()
    search.set_query("status:open quokka", ("quokka",))
    assert search.comment_added(comment("a quokka"), None) is None
    search.set_query("quokka", ("quokka",))
    assert search.comment_added(comment("a quokka"), None) is not None


def test_changing_only_the_qualifiers_is_a_new_query() -> None:
    """The same words under other qualifiers forget the hits made by comments."""
    search = LiveSearch()
    search.set_query("quokka", ("quokka",))
    assert search.comment_added(comment("a quokka"), TICKET) is not None
    assert search.set_query("quokka", ("quokka",), parse_query("quokka status:closed").filter)
    assert search.hits == {}


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


def test_snippet_highlights_whole_words_where_a_word_starts() -> None:
    """ "sensor" marks all of "Sensors" and nothing inside "unsensored"; positions hold where folding changes
    lengths ("Straße" folds to "strasse")."""
    snippet, spans = make_snippet("Sensors unsensored sensor", ("sensor",))
    assert [snippet[span.start : span.end] for span in spans] == ["Sensors", "sensor"]
    snippet, spans = make_snippet("Die Straße ist gesperrt", ("strasse", "ist"))
    assert [snippet[span.start : span.end] for span in spans] == ["Straße", "ist"]


def test_snippet_clips_a_match_cut_by_its_edge() -> None:
    """A match the snippet's end cuts through is marked up to the cut, never past the snippet."""
    snippet, spans = make_snippet("aaaa dock " + "b" * 10 + " dockinglongword", ("dock",), width=25)
    assert snippet == "aaaa dock bbbbbbbbbb dock…"
    assert spans == [Span(start=5, end=9), Span(start=21, end=25)]


def test_holds_all_matches_one_text_and_only_searchable_words() -> None:
    """All the words in the one text; a query of punctuation alone holds nothing."""
    assert holds_all("VPN drops at noon", ("drop", "vpn"))
    assert not holds_all("VPN drops at noon", ("drop", "printer"))
    assert not holds_all("anything", ("--",))
    assert holds_all("wi-fi is slow", ("wi-fi", "--"))


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
