"""Full-text search, what both engines share: the ranking rule, the qualifiers' SQL, and snippets read back.

The ranking rule, the same on SQLite (FTS5, bm25) and PostgreSQL (tsvector, ts_rank), in tiers:

1. tickets whose **title** holds every word;
2. tickets whose title and **description** together hold every word (the snippet is from the description);
3. tickets with a **comment** holding every word (the snippet is from the best such comment).

A ticket appears once, in its best tier; within a tier the engine's relevance orders them. `SearchHit.rank` is
the tier (2, 1, 0) plus the relevance squeezed into [0, 1), so a higher rank is a better hit. Words match whole
words after stemming ("drops" finds "drop"), never as typed syntax: each word or "quoted phrase" is searched as a
phrase of the words the engine finds in it, and a word in which it finds none (punctuation) is dropped; a query
whose words are all dropped finds nothing, and so does an empty one. A query of qualifiers alone lists the tickets
they keep, newest first. The engines differ in small ways: PostgreSQL ignores English stop words
("the"), SQLite also folds accents.

Snippets come back from the engine with private-use characters around each match (`START`, `STOP`), which
`marked` turns into plain text and `Span`s.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from protocol.messages import HitField, SearchHit, Span
from protocol.query import Filter

START: Final = "\ue000"
STOP: Final = "\ue001"
ELLIPSIS: Final = "…"
SNIPPET_WORDS: Final = 16
"""About how many words of a description or comment a snippet shows."""
SNIPPET_CHARS: Final = 240
"""The most characters of text a snippet shows, whatever its words (ellipses aside)."""


class Tier(enum.IntEnum):
    COMMENT = 0
    TEXT = 1
    TITLE = 2


class SearchTimedOut(Exception):
    """The engine was interrupted at the search's deadline."""


@dataclass(frozen=True, slots=True)
class Found:
    """One tier's row, before it becomes a `SearchHit`."""

    ticket_id: uuid.UUID
    number: int | None
    title: str
    relevance: float
    """Higher is better, ≥ 0."""
    marked: str
    """The snippet with `START`/`STOP` around the matches."""
    comment_id: uuid.UUID | None = None


_FIELDS: Final = {Tier.TITLE: HitField.TITLE, Tier.TEXT: HitField.DESCRIPTION, Tier.COMMENT: HitField.COMMENT}


def hit(tier: Tier, found: Found, *, source: str | None = None) -> SearchHit:
    """The hit for a row of `tier`. With `source`, the text the snippet was cut from, the snippet is put back in
    it: what is left out at either end is an ellipsis, or itself when it is only punctuation (PostgreSQL's
    `ts_headline` says neither, and drops the punctuation around its first and last word; FTS5's `snippet` does)."""
    snippet, spans = marked(found.marked)
    if source is not None and snippet:
        snippet, spans = _in_context(snippet, spans, " ".join(source.split()))
    snippet, spans = _clipped(snippet, spans)
    return SearchHit(
        ticket_id=found.ticket_id,
        number=found.number or 0,
        title=found.title,
        rank=int(tier) + found.relevance / (1.0 + found.relevance),
        field=_FIELDS[tier],
        snippet=snippet,
        highlights=spans,
        comment_id=found.comment_id,
    )


def _in_context(snippet: str, spans: list[Span], text: str) -> tuple[str, list[Span]]:
    at = text.find(snippet)
    if at < 0:
        return snippet, spans
    before, after = text[:at], text[at + len(snippet) :]
    head = f"{ELLIPSIS} " if _has_words(before) else before
    tail = f" {ELLIPSIS}" if _has_words(after) else after
    shift = len(head)
    return head + snippet + tail, [Span(start=span.start + shift, end=span.end + shift) for span in spans]


def _clipped(snippet: str, spans: list[Span]) -> tuple[str, list[Span]]:
    """At most `SNIPPET_CHARS` characters of the snippet, from a little before its first highlight. Its words
    are few, but a word may be long: text without spaces (a pasted CSV line, a blob) made snippets of 20,000
    characters, and a hundred hits of those a reply bigger than a connection may owe."""
    if len(snippet) <= SNIPPET_CHARS:
        return snippet, spans
    anchor = spans[0].start if spans else 0
    at = max(0, min(anchor - SNIPPET_CHARS // 4, len(snippet) - SNIPPET_CHARS))
    end = at + SNIPPET_CHARS
    head = f"{ELLIPSIS} " if at else ""
    tail = f" {ELLIPSIS}" if end < len(snippet) else ""
    shift = len(head) - at
    kept = [
        Span(start=max(span.start, at) + shift, end=min(span.end, end) + shift)
        for span in spans
        if span.end > at and span.start < end
    ]
    return head + snippet[at:end] + tail, kept


def _has_words(text: str) -> bool:
    return any(char.isalnum() for char in text)


def window(text: str, words: int = SNIPPET_WORDS) -> str:
    """A snippet cut from a whole highlighted text (`START`/`STOP` around its matches): the `words` words holding
    the most distinct matched words (the earliest such), moved to start `_LEAD` words before its first match when
    that loses none, with an ellipsis for what is left out at either end. Linear in the text: FTS5's own
    ``snippet()`` scores windows in time quadratic in the matches, so one description of 20,000 characters
    repeating a word took 0.4 s to cut, and a few such tickets made every search for that word time out."""
    matched: list[str | None] = []
    """Per word: its case-folded letters when a match covers part of it, else None."""
    opened = False
    tokens = text.split()
    for token in tokens:
        if START in token or STOP in token:
            hit = True
            opened = token.rfind(START) > token.rfind(STOP)
        else:
            hit = opened
        matched.append("".join(char for char in token if char.isalnum()).casefold() if hit else None)
    if len(tokens) <= words:
        return " ".join(tokens)
    start = _best_start(matched, words)
    first = next((i for i in range(start, start + words) if matched[i] is not None), start)
    lead = min(max(0, first - _LEAD), len(tokens) - words)
    if _distinct(matched[lead : lead + words]) == _distinct(matched[start : start + words]):
        start = lead
    end = start + words
    inside = _inside_at(tokens, start)
    head = (f"{ELLIPSIS} " if start else "") + (START if inside else "")
    tail = f" {ELLIPSIS}" if end < len(tokens) else ""
    return head + " ".join(tokens[start:end]) + (STOP if _inside_at(tokens, end) else "") + tail


_LEAD: Final = 3
"""Words of context a snippet keeps before its first match when it can."""


def _best_start(matched: list[str | None], words: int) -> int:
    """Where the window of `words` words with the most distinct matches starts (the earliest of the best)."""
    counts: dict[str, int] = {}

    def add(key: str | None, step: int) -> None:
        if key is not None:
            counts[key] = counts.get(key, 0) + step
            if not counts[key]:
                del counts[key]

    for key in matched[:words]:
        add(key, 1)
    best, best_start = len(counts), 0
    for start in range(1, len(matched) - words + 1):
        add(matched[start - 1], -1)
        add(matched[start + words - 1], 1)
        if len(counts) > best:
            best, best_start = len(counts), start
    return best_start


def _distinct(matched: list[str | None]) -> int:
    return len({key for key in matched if key is not None})


def _inside_at(tokens: list[str], index: int) -> bool:
    """Whether a match opened before word `index` is still open there."""
    for token in reversed(tokens[:index]):
        if START in token or STOP in token:
            return token.rfind(START) > token.rfind(STOP)
    return False


def listed(ticket_id: uuid.UUID, number: int | None, title: str) -> SearchHit:
    """A hit of a search without words (qualifiers only): the ticket's title, nothing highlighted."""
    return SearchHit(
        ticket_id=ticket_id, number=number or 0, title=title, rank=0.0, field=HitField.TITLE, snippet=title
    )


def marked(text: str) -> tuple[str, list[Span]]:
    """The text without its markers, on one line (each run of white space one space), and the marked spans.

    Never fails on text that itself holds a marker character: its spans may then be off, but stay in bounds.
    """
    out: list[str] = []
    spans: list[Span] = []
    start: int | None = None
    space = False
    for char in text:
        if char == START:
            if start is None:
                if space and out:
                    out.append(" ")
                    space = False
                start = len(out)
            continue
        if char == STOP:
            if start is not None and len(out) > start:
                spans.append(Span(start=start, end=len(out)))
            start = None
            continue
        if char.isspace():
            space = True
            continue
        if space and out:
            out.append(" ")
        space = False
        out.append(char)
    if start is not None and len(out) > start:
        spans.append(Span(start=start, end=len(out)))
    return "".join(out), spans


def searchable(words: tuple[str, ...]) -> list[str]:
    """The words the engines can find something in: those holding at least one letter or digit."""
    return [word for word in words if any(char.isalnum() for char in word)]


def fts5_phrases(words: list[str]) -> str:
    """An FTS5 query: each word a quoted phrase (so nothing the user typed is FTS5 syntax), all required."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


Param = Callable[[Any], Any]


def qualifier_clause(query: Filter, placeholder: str, *, tags: str, as_param: Param) -> tuple[str, list[Any]]:
    """The WHERE conditions the qualifiers put on `tickets t`, and their parameters.

    `tags` is the engine's condition that the ticket has one of the tags, with one placeholder for the list of
    them; `as_param` turns each value (a string, a UUID, an int, that list) into what the engine binds.
    """
    p = placeholder
    parts: list[str] = []
    params: list[Any] = []

    def any_of(column: str, values: list[Any]) -> None:
        parts.append(f"{column} IN ({', '.join([p] * len(values))})")
        params.extend(as_param(value) for value in values)

    if query.statuses:
        any_of("t.status", sorted(status.value for status in query.statuses))
    if query.priorities:
        any_of("t.priority", sorted(priority.value for priority in query.priorities))
    if query.assignees is not None:
        ids = sorted(str(user) for user in query.assignees if user is not None)
        alternatives = [f"t.assignee IN ({', '.join([p] * len(ids))})"] if ids else []
        params.extend(as_param(uuid.UUID(user)) for user in ids)
        if None in query.assignees:
            alternatives.append("t.assignee IS NULL")
        parts.append(f"({' OR '.join(alternatives) or '1 = 0'})")
    if query.locked is not None:
        parts.append("t.lock_session IS NOT NULL" if query.locked else "t.lock_session IS NULL")
    if query.tags:
        parts.append(tags)
        params.append(as_param(sorted(query.tags)))
    if query.numbers:
        any_of("t.number", sorted(query.numbers))
    return " AND ".join(parts) or "1 = 1", params
