"""Two lines under the table while the filter has words: what the server's search found, and where the selected
ticket matched (its snippet, the matched words highlighted)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from lesbillets_tui.palette import MUTED
from lesbillets_tui.safe_text import safe_line
from lesbillets_tui.search import LiveSearch, SearchState
from protocol.messages import HitField, SearchHit

WHERE: dict[HitField, str] = {
    HitField.TITLE: "in the title",
    HitField.DESCRIPTION: "in the description",
    HitField.COMMENT: "in a comment",
}
HIGHLIGHT = "$text-accent bold underline"


def snippet_content(hit: SearchHit) -> Content:
    """The snippet with its highlighted spans (offsets are characters of the snippet, as the server sends them)."""
    text = safe_line(hit.snippet)  # one stand-in per control character: the offsets still hold
    parts: list[tuple[str, str] | str] = []
    at = 0
    for span in hit.highlights:
        start, end = max(at, span.start), min(len(text), span.end)
        if start >= end:
            continue
        parts.append(text[at:start])
        parts.append((text[start:end], HIGHLIGHT))
        at = end
    parts.append(text[at:])
    return Content.assemble(*parts)


class SearchStrip(Static):
    """Hidden while the filter has no words."""

    DEFAULT_CSS = """
    SearchStrip {
        height: 2;
        padding: 0 1;
        background: $panel;
        color: $foreground;
        display: none;
        &.-shown { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._summary = Content("")
        self._hit = Content("")

    def show_search(self, search: LiveSearch, only_there: int) -> None:
        """``only_there``: hits whose best match is not the title (the loaded rows may not have shown them)."""
        self.set_class(search.state is not SearchState.IDLE, "-shown")
        if search.state is SearchState.WAITING:
            self._summary = Content.styled("Searching titles, descriptions and comments on the server…", MUTED)
        elif search.state is SearchState.FAILED:
            self._summary = Content.styled(f"The server's search failed: {search.error}", "$text-warning")
        else:
            count = len(search.hits)
            found = f"The server found {count:,} ticket{'s' if count != 1 else ''}"
            extra = f" · {only_there:,} by their description or a comment" if only_there else ""
            self._summary = Content.assemble((found, ""), (extra, MUTED))
        self._render_all()

    def show_hit(self, hit: SearchHit | None) -> None:
        """The selected ticket's hit (None: it matched in the loaded rows only, or nothing is selected)."""
        if hit is None:
            self._hit = Content("")
        else:
            self._hit = Content.assemble((f"#{hit.number} {WHERE[hit.field]}: ", MUTED), snippet_content(hit))
        self._render_all()

    def _render_all(self) -> None:
        self.update(Content("\n").join([self._summary, self._hit]))
