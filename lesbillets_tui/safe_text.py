"""Text from the server made safe to draw: every character shows as itself, none acts on the terminal.

The protocol refuses control characters in new titles, names and descriptions (docs/protocol.md, "Text"), but a
database from before that rule, or a name set outside the protocol, may still hold them. Textual strips only BEL,
BS, VT, FF and CR, and the ticket table writes its cells as raw segments, so ESC, NUL, C1 codes and the bidi
overrides would reach the terminal and act there (clear the screen, set the window title, reverse a line).
Here each becomes a visible stand-in: C0 controls their Unicode "control picture" (ESC is ␛), DEL ␡, the rest
U+FFFD. Markup needs no help: server text is never parsed as markup (`Content(text)`, `markup=False`, rich
`Text` for Select prompts), so ``[bold]`` shows as those characters.
"""

from __future__ import annotations

import re
from typing import Final

_REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
_OTHERS = (*range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_STAND_INS: Final[dict[int, str]] = {
    **{code: chr(0x2400 + code) for code in range(0x20)},  # ␀ … ␟
    0x7F: "\N{SYMBOL FOR DELETE}",
    **{code: _REPLACEMENT for code in _OTHERS},
}
_LINE: Final = str.maketrans(_STAND_INS)
_BLOCK: Final = str.maketrans({code: stand_in for code, stand_in in _STAND_INS.items() if chr(code) not in "\n\t"})
_UNSAFE_IN_LINE: Final = re.compile("[" + "".join(re.escape(chr(code)) for code in _STAND_INS) + "]")
_UNSAFE_IN_BLOCK: Final = re.compile(
    "\r\n|[" + "".join(re.escape(chr(code)) for code in _STAND_INS if chr(code) not in "\n\t") + "]"
)


def safe_line(text: str) -> str:
    """``text`` for one line of the screen (a title, a name): every control character drawn as a symbol."""
    return text.translate(_LINE) if _UNSAFE_IN_LINE.search(text) else text


def safe_block(text: str) -> str:
    """``text`` for a block of lines (a description, a message): as `safe_line`, but newlines and tabs stay.

    A Windows line break (CR LF) is a newline.
    """
    if not _UNSAFE_IN_BLOCK.search(text):
        return text
    return text.replace("\r\n", "\n").translate(_BLOCK)
