"""The server's side of the `/` filter, sans I/O: which query the hits answer, and what a new comment adds.

The filter bar filters the loaded rows at once; the server's full-text search (`Search`) adds tickets that match
only by their description or a comment, with a snippet. `LiveSearch` keeps the hits of the query in the box:
an answer to an older query is dropped, and a comment that arrives later is checked here, against the query's
words, rather than by searching again: with many agents each holding a query open, a search per comment per
agent would multiply the server's work by the number of agents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import Enum

from protocol.messages import Comment, HitField, SearchHit, Span, Ticket
from protocol.rows import TableRow

SNIPPET_WIDTH = 80
"""Characters of a snippet built here (about what the server sends)."""


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
    hits: dict[uuid.UUID, SearchHit] = field(default_factory=dict)
    from_comments: dict[uuid.UUID, SearchHit] = field(default_factory=dict)
    """Hits made here from comments that arrived since the query was typed (an answer in flight may lack them)."""
    state: SearchState = SearchState.IDLE
    error: str = ""

    def set_query(self, query: str, words: tuple[str, ...]) -> bool:
        """The filter box changed; returns whether the server should be asked (after the debounce)."""
        query = query.strip()
        if query == self.query and words == self.words:
            return False
        self.query, self.words = query, words
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

        A ticket matches when every word occurs in its title, description or this comment, and one at least in
        the comment (else it matched before, or does not). Plain substring matching, as the filter does. The
        table's rows carry no description: from a row, a word only the description holds does not count.
        """
        if not self.words or comment.ticket_id in self.hits:
            return None
        body = comment.body.casefold()
        description = ticket.description if isinstance(ticket, Ticket) else ""
        rest = f"{ticket.title}\n{description}".casefold() if ticket is not None else ""
        if not any(word in body for word in self.words):
            return None
        if not all(word in body or word in rest for word in self.words):
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


def make_snippet(text: str, words: tuple[str, ...], width: int = SNIPPET_WIDTH) -> tuple[str, list[Span]]:
    """A one-line excerpt of ``text`` around the first of ``words`` found, with every occurrence highlighted."""
    flat = " ".join(text.split())
    folded = flat.casefold()
    if len(folded) != len(flat):  # casefolding changed lengths (ß → ss): positions would drift, so show no marks
        return _cut(flat, 0, width), []
    positions = [folded.find(word) for word in words if word and word in folded]
    first = min(positions, default=0)
    start = max(0, first - width // 4)
    snippet = _cut(flat, start, width)
    shift = 1 if start > 0 else 0  # the leading "…"
    spans: list[Span] = []
    window = folded[start : start + width]
    for word in words:
        at = window.find(word) if word else -1
        while at >= 0:
            end = min(at + len(word), len(window))
            spans.append(Span(start=at + shift, end=end + shift))
            at = window.find(word, at + len(word))
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
