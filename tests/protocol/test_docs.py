"""docs/protocol.md cannot drift from the types: every example decodes, every name is documented."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import msgspec
import pytest

from protocol.codec import JSON
from protocol.messages import ClientMessage, CloseCode, ErrorCode, Message, ServerMessage, UnlockReason

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
TEXT = DOC.read_text(encoding="utf-8")
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)

JSON_BLOCKS = [m["body"] for m in FENCE.finditer(TEXT) if m["lang"] == "json"]
TEXT_LINES = [line for m in FENCE.finditer(TEXT) if m["lang"] == "text" for line in m["body"].splitlines()]
TRANSCRIPT = [line for line in TEXT_LINES if line[:2] in {"> ", "< "}]


def _decode(text: str) -> Message:
    try:
        return JSON.decode_client(text)
    except msgspec.DecodeError:
        return JSON.decode_server(text)


def test_doc_has_examples() -> None:
    """The page has JSON examples and a transcript to check (the regex still finds them)."""
    assert len(JSON_BLOCKS) >= 20
    assert len(TRANSCRIPT) >= 10


@pytest.mark.parametrize("block", JSON_BLOCKS, ids=lambda b: b.split('"type": "', 1)[-1].split('"', 1)[0])
def test_every_json_block_decodes(block: str) -> None:
    """Each ```json block is a valid client or server message."""
    _decode(block)


@pytest.mark.parametrize("line", TRANSCRIPT, ids=lambda line: line[:40])
def test_every_transcript_line_decodes(line: str) -> None:
    """Each line typed (>) or received (<) in the hand session is a valid message in its direction."""
    direction, frame = line[:2], line[2:]
    if direction == "> ":
        JSON.decode_client(frame)
    else:
        JSON.decode_server(frame)


def test_every_message_has_an_example_and_a_heading() -> None:
    """Each message type of both directions has a ### heading and at least one JSON example."""
    shown = {type(_decode(block)).__name__ for block in JSON_BLOCKS}
    for cls in (*typing.get_args(ClientMessage), *typing.get_args(ServerMessage)):
        assert cls.__name__ in shown, f"no JSON example of {cls.__name__}"
        assert f"\n### {cls.__name__}\n" in TEXT, f"no section for {cls.__name__}"


@pytest.mark.parametrize(
    "row",
    [
        *(f"| `{code.value}` |" for code in ErrorCode),
        *(f"| {code.value} |" for code in CloseCode),
        *(f"| `{reason.value}` |" for reason in UnlockReason),
    ],
)
def test_every_code_has_a_table_row(row: str) -> None:
    """Every error code, close code and unlock reason is explained in a table."""
    assert row in TEXT
