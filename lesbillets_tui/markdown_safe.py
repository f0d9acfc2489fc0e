"""Comments are Markdown written by anyone with an account: rendered, but never able to act.

Decisions (tests/tui/test_comment_markdown.py holds them):

- Control characters are drawn as symbols before parsing (`safe_block`), as everywhere else.
- Raw HTML is text: ``<b>x</b>`` shows its tags (Textual would otherwise drop HTML silently, hiding words).
- A link is its text followed by where it goes, ``bank <https://evil.example/>``, and is not clickable: a
  terminal app has no good way to show a link's target before it is followed, and "open in a browser" on a
  colleague's (or an attacker's) URL is not something a click in a ticket should do. Links equal to their text
  (a bare ``https://…``) are shown once. No terminal hyperlink (OSC 8) is ever written.
- An image is never fetched: ``🖼 alt <https://…>``.
- A comment whose Markdown would make more than `MAX_BLOCKS` blocks (each a widget) is shown as plain text, so one
  hostile comment cannot freeze every agent who opens the ticket.
"""

from __future__ import annotations

from typing import Final

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from lesbillets_tui.safe_text import safe_line

MAX_BLOCKS: Final = 200
_BLOCK_LEAVES = frozenset({"fence", "code_block", "hr", "html_block"})
_SCHEMES = ("https://", "http://", "mailto:")


def _bare(url: str) -> str:
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            url = url[len(scheme) :]
            break
    return url.rstrip("/")


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _target(url: str) -> Token:
    return _text(f" <{safe_line(url)}>")


def _inline_children(children: list[Token]) -> list[Token]:
    """Links become their text and their target; images their alt text and their source."""
    result: list[Token] = []
    href: str | None = None
    words: list[str] = []
    for child in children:
        if child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            words = []
        elif child.type == "link_close":
            if href is not None and _bare(href) != _bare("".join(words)):
                result.append(_target(href))
            href = None
        elif child.type == "image":
            alt = "".join(grandchild.content for grandchild in child.children or ())
            result.append(_text(f"🖼 {alt}".rstrip()))
            result.append(_target(str(child.attrs.get("src", ""))))
        else:
            if href is not None and child.type in ("text", "code_inline"):
                words.append(child.content)
            result.append(child)
    return result


def _defuse(state: StateCore) -> None:
    for token in state.tokens:
        if token.type == "inline" and token.children:
            token.children = _inline_children(token.children)


def comment_parser() -> MarkdownIt:
    """The parser of comments: GitHub-like Markdown, HTML as text, links and images defused."""
    # without linkify: it only made a bare URL a link, shown the same as its text, and its scan is quadratic (a
    # comment of 20,000 characters repeating "<http://" took 0.8 s to parse, twice per comment shown)
    parser = MarkdownIt("gfm-like", {"html": False}).disable("linkify")
    parser.core.ruler.push("lesbillets_defuse", _defuse)
    return parser


def block_count(markdown: str) -> int:
    """How many block widgets Textual's Markdown would build for ``markdown``."""
    return sum(1 for token in comment_parser().parse(markdown) if token.nesting == 1 or token.type in _BLOCK_LEAVES)


def formattable(markdown: str) -> bool:
    """Whether to render ``markdown`` as Markdown (else as plain text)."""
    return block_count(markdown) <= MAX_BLOCKS
