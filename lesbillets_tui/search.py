"""The server's side of the `/` filter, sans I/O: which query the hits answer, and what a new comment adds.

The filter bar filters the loaded rows at once; the server's full-text search (`Search`) adds tickets that match
only by their description or a comment, with a snippet. `LiveSearch` keeps the hits of the query in the box:
an answer to an older query is dropped, and a comment that arrives later is checked here, against the query's
words, rather than by searching again: with many agents each holding a query open, a search per comment per
agent would multiply the server's work by the number of agents. The check follows the server's rule (every word
in that one comment, the qualifiers held by the ticket's fields) with a word-prefix match where the server stems.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from protocol.messages import Comment, HitField, SearchHit, Span, Ticket
from protocol.query import Filter, parse_query
from protocol.rows import TableRow

SNIPPET_WIDTH = 80
"""Characters of a snippet built here (about what the server sends)."""

_TOKEN: Final = re.compile(r"[^\W_]+")
"""A word as the engines' tokenizers see it: a run of letters and digits (punctuation and "_" separate)."""


class SearchState(Enum):
    IDLE = "idle"
    """No words in the filter: nothing to ask the server."""
    WAITING = "waiting"
    """Typed; asking once the typing pauses, or asked and waiting for the answer."""
    DONE = "done"
    FAILED = "failed"


@dataclass
class LiveSearch:
    query: str = ""
    """The filter text the hits answer (the whole text: the server reads the qualifiers too)."""
    words: tuple[str, ...] = ()
    """The query's plain words, casefolded (from the filter's parser)."""
    qualifiers: Filter = field(default_factory=Filter)
    """The rest of the filter (status:, priority:, assignee:, locked, tag:, #n), without its words."""
    hits: dict[uuid.UUID, SearchHit] = field(default_factory=dict)
    from_comments: dict[uuid.UUID, SearchHit] = field(default_factory=dict)
    """Hits made here from comments that arrived since the query was typed (an answer in flight may lack them)."""
    state: SearchState = SearchState.IDLE
    error: str = ""

    def set_query(self, query: str, words: tuple[str, ...], parsed: Filter | None = None) -> bool:
        """The filter box changed; returns whether the server should be asked (after the debounce).

        ``parsed`` is the filter as the table reads it (its assignees resolved against the agents); without it
        the query is parsed here, where "assignee:" cannot be resolved and so narrows nothing.
        """
        query = query.strip()
        qualifiers = dataclasses.replace(parsed if parsed is not None else parse_query(query).filter, words=())
        if query == self.query and words == self.words and qualifiers == self.qualifiers:
            return False
        self.query, self.words, self.qualifiers = query, words, qualifiers
        self.hits.clear()
        self.from_comments.clear()
        self.error = ""
        self.state = SearchState.WAITING if words else SearchState.IDLE
        return bool(words)

    def answer(self, query: str, hits: list[SearchHit]) -> bool:
        """The server's hits for ``query``; returns False (and keeps nothing) when the box has moved on."""
        if query != self.query or not self.words:
            return False
        self.hits = {hit.ticket_id: hit for hit in hits}
        for ticket_id, hit in self.from_comments.items():
            self.hits.setdefault(ticket_id, hit)
        self.state = SearchState.DONE
        return True

    def failed(self, query: str, error: str) -> bool:
        if query != self.query:
            return False
        self.state, self.error = SearchState.FAILED, error
        return True

    def comment_added(self, comment: Comment, ticket: Ticket | TableRow | None) -> SearchHit | None:
        """A new or edited comment: the hit it makes (kept), when the ticket now matches by it; else None.

        The server's rule, as near as the app gets without its stemmer (see `holds_all`): every word in this one
        comment, and the ticket's fields satisfying the qualifiers. A ticket matching by its title and
        description is the table's and the server's answer's business, not a comment's; one the app does not
        know cannot be checked against qualifiers, so it joins only when there are none.
        """
        if not self.words or comment.ticket_id in self.hits:
            return None
        if ticket is None and not self.qualifiers.is_empty:
            return None
        if ticket is not None and not self.qualifiers.matches(ticket, ""):
            return None
        if not holds_all(comment.body, self.words):
            return None
        snippet, spans = make_snippet(comment.body, self.words)
        hit = SearchHit(
            ticket_id=comment.ticket_id,
            number=ticket.number if ticket is not None else 0,
            title=ticket.title if ticket is not None else "",
            rank=0.0,
            field=HitField.COMMENT,
            snippet=snippet,
            highlights=spans,
            comment_id=comment.id,
        )
        self.hits[comment.ticket_id] = self.from_comments[comment.ticket_id] = hit
        return hit


@dataclass(frozen=True, slots=True)
class Token:
    """A word of a text: where it is, and its folded form (casefolded, accents taken off)."""

    start: int
    end: int
    folded: str


def fold(word: str) -> str:
    """A word as it is compared: casefolded and without accents (SQLite's index takes them off too)."""
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def tokens(text: str) -> list[Token]:
    """The words of ``text``, positions in ``text`` itself (folding may change lengths: "ß" is "ss")."""
    return [Token(match.start(), match.end(), fold(match.group())) for match in _TOKEN.finditer(text)]


def terms(words: tuple[str, ...]) -> list[list[str]]:
    """Each query word (or "quoted phrase") as the folded words found in it; one with none (punctuation) is
    dropped, as the server drops it."""
    found = ([fold(match.group()) for match in _TOKEN.finditer(word)] for word in words)
    return [term for term in found if term]


def occurrences(text_tokens: list[Token], term: list[str]) -> list[Span]:
    """Where ``term`` occurs: consecutive words each starting with its word (a prefix stands in for stemming:
    "sensor" finds "sensors"), as character ranges of the text from the first word's start to the last's end."""
    width = len(term)
    return [
        Span(start=text_tokens[at].start, end=text_tokens[at + width - 1].end)
        for at in range(len(text_tokens) - width + 1)
        if all(text_tokens[at + n].folded.startswith(word) for n, word in enumerate(term))
    ]


def holds_all(text: str, words: tuple[str, ...]) -> bool:
    """Whether ``text`` holds every one of ``words``, each at the start of a word; False when none is searchable
    (the server finds nothing for such a query)."""
    wanted = terms(words)
    if not wanted:
        return False
    text_tokens = tokens(text)
    return all(occurrences(text_tokens, term) for term in wanted)


def make_snippet(text: str, words: tuple[str, ...], width: int = SNIPPET_WIDTH) -> tuple[str, list[Span]]:
    """A one-line excerpt of ``text`` around the first of ``words`` found, with every occurrence highlighted (the
    whole words, as the server highlights them)."""
    flat = " ".join(text.split())
    flat_tokens = tokens(flat)
    found = [span for term in terms(words) for span in occurrences(flat_tokens, term)]
    first = min((span.start for span in found), default=0)
    start = max(0, first - width // 4)
    snippet = _cut(flat, start, width)
    shift = (1 if start > 0 else 0) - start  # the leading "…"
    end = start + width
    spans = [
        Span(start=max(span.start, start) + shift, end=min(span.end, end) + shift)
        for span in found
        if span.end > start and span.start < end
    ]
    return snippet, _merge(spans)


def _cut(text: str, start: int, width: int) -> str:
    part = text[start : start + width]
    return ("…" if start > 0 else "") + part + ("…" if start + width < len(text) else "")


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda span: (span.start, span.end)):
        if merged and span.start <= merged[-1].end:
            merged[-1] = Span(start=merged[-1].start, end=max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return merged
