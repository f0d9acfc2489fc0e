"""Bytes ↔ messages, for both directions and both encodings.

One `Codec` per websocket subprotocol, each holding one reused encoder and one
decoder per direction (msgspec's fast path). Sans-I/O: nothing here touches a
socket, so it is tested without an event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import msgspec

from protocol.messages import TEXT_RULES, ClientMessage, Rid, ServerMessage

JSON_SUBPROTOCOL: Final = "lesbillets.json"
MSGPACK_SUBPROTOCOL: Final = "lesbillets.msgpack"
SUBPROTOCOLS: Final = (JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL)


class _RidOnly(msgspec.Struct):
    """Lenient view of a frame, used only to echo ``rid`` in a ``bad_request`` reply."""

    rid: Rid | None = None


class RowsHead(msgspec.Struct, tag_field="type", tag="Rows"):
    """What a `Rows` page says of itself without its rows: read in a tenth of the time of the whole page, so a
    client can route a stream of pages and decode each one only when it is used."""

    rid: Rid
    seq: int
    more: bool


@dataclass(frozen=True, slots=True)
class Codec:
    """Encoders and decoders for one wire encoding."""

    subprotocol: str
    text: bool
    """Whether frames of this encoding are sent as websocket text frames."""
    _encoder: msgspec.json.Encoder | msgspec.msgpack.Encoder
    _client_decoder: msgspec.json.Decoder[ClientMessage] | msgspec.msgpack.Decoder[ClientMessage]
    _server_decoder: msgspec.json.Decoder[ServerMessage] | msgspec.msgpack.Decoder[ServerMessage]
    _rid_decoder: msgspec.json.Decoder[_RidOnly] | msgspec.msgpack.Decoder[_RidOnly] = field(repr=False)
    _rows_head_decoder: msgspec.json.Decoder[RowsHead] | msgspec.msgpack.Decoder[RowsHead] = field(repr=False)
    _rows_prefix: bytes = field(repr=False)
    """How a `Rows` frame starts, after MessagePack's map header (msgspec encodes the tag first)."""

    def encode(self, message: msgspec.Struct) -> bytes:
        return self._encoder.encode(message)

    def decode_client(self, data: bytes | str) -> ClientMessage:
        """Decode a client message.

        Whatever the bytes, this raises only `msgspec.DecodeError` (incl. `ValidationError`): a failure here is
        the client's, so the server answers it with ``bad_request`` and never logs a traceback.
        """
        return _decode(self._client_decoder, data)

    def decode_client_frame(self, frame: bytes | str) -> ClientMessage:
        """Decode a websocket frame from a client (``str`` for a text frame, ``bytes`` for a binary one).

        Each encoding has one frame type, JSON text and MessagePack binary; the other is refused with
        `msgspec.DecodeError` like any unreadable frame.
        """
        if isinstance(frame, str) != self.text:
            raise msgspec.DecodeError(self._wrong_frame_type)
        return self.decode_client(frame)

    def decode_server(self, data: bytes | str) -> ServerMessage:
        """Decode a server frame, text or binary; raises only `msgspec.DecodeError` (incl. `ValidationError`)."""
        return _decode(self._server_decoder, data)

    def peek_rid(self, data: bytes | str) -> int | None:
        """The ``rid`` of a frame that failed to decode, when it can still be read; never raises."""
        try:
            return _decode(self._rid_decoder, data).rid
        except Exception:
            # best effort on the failure path: a second failure here must not turn bad_request into a crash
            return None

    def peek_rows(self, data: bytes | str) -> RowsHead | None:
        """The head of a `Rows` page (rid, seq, more) without decoding its rows; None for any other frame, or one
        that cannot be read (whose full decode then says why); never raises."""
        raw = _as_bytes(data)
        if self._rows_prefix not in raw[:24]:
            return None
        try:
            return _decode(self._rows_head_decoder, raw)
        except msgspec.DecodeError:
            return None

    @property
    def _wrong_frame_type(self) -> str:
        if self.text:
            return "JSON must be sent in text frames, not binary frames"
        return "MessagePack must be sent in binary frames, not text frames"


T = TypeVar("T")


def _decode(decoder: msgspec.json.Decoder[T] | msgspec.msgpack.Decoder[T], data: bytes | str) -> T:
    try:
        return decoder.decode(_as_bytes(data))
    except RecursionError:
        # msgspec's depth guard: deep nesting (even inside an unknown field it skips) ends here, not in a crash
        raise msgspec.DecodeError("it is nested too deeply") from None
    except UnicodeError:
        # msgspec lets a string that is not UTF-8 escape its DecodeError family
        raise msgspec.DecodeError("a string is not valid UTF-8") from None


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


JSON: Final = Codec(
    subprotocol=JSON_SUBPROTOCOL,
    text=True,
    _encoder=msgspec.json.Encoder(),
    _client_decoder=msgspec.json.Decoder(ClientMessage),
    _server_decoder=msgspec.json.Decoder(ServerMessage),
    _rid_decoder=msgspec.json.Decoder(_RidOnly),
    _rows_head_decoder=msgspec.json.Decoder(RowsHead),
    _rows_prefix=b'{"type":"Rows"',
)
MSGPACK: Final = Codec(
    subprotocol=MSGPACK_SUBPROTOCOL,
    text=False,
    _encoder=msgspec.msgpack.Encoder(),
    _client_decoder=msgspec.msgpack.Decoder(ClientMessage),
    _server_decoder=msgspec.msgpack.Decoder(ServerMessage),
    _rid_decoder=msgspec.msgpack.Decoder(_RidOnly),
    _rows_head_decoder=msgspec.msgpack.Decoder(RowsHead),
    _rows_prefix=b"\xa4type\xa4Rows",
)
CODECS: Final = {JSON.subprotocol: JSON, MSGPACK.subprotocol: MSGPACK}


def codec_for(subprotocol: str | None) -> Codec:
    """The codec a connection negotiated; JSON when none was asked for."""
    return CODECS.get(subprotocol or JSON_SUBPROTOCOL, JSON)


_PATH = re.compile(r" - at `(?P<path>[^`]+)`$")


def follows(rule: object, text: str) -> bool:
    """Whether ``text`` passes a wire type's rule (`Email`, `Title`…): what a peer would admit. Forms and the CLI
    check with it, so they refuse what the protocol would, in the same words."""
    try:
        msgspec.convert(text, rule)
    except msgspec.ValidationError:
        return False
    return True


def describe_decode_error(exc: msgspec.DecodeError) -> tuple[str, str | None]:
    """A sentence for a person and the failing field path (``$.title``), if any."""
    text = str(exc)
    match = _PATH.search(text)
    if match is None:
        return f"The message could not be read: {_shorten(text)}.", None
    problem = text[: match.start()]
    for pattern, rule in TEXT_RULES.items():
        if problem.endswith(f"matching regex {pattern!r}"):  # a regex is no sentence for a person
            problem = f"expected {rule}"
    return f"Invalid field {match['path']}: {_shorten(problem)}.", match["path"]


_PROBLEM_MAX = 200


def _shorten(problem: str) -> str:
    # msgspec quotes what it refused (a type tag, a field name), which may be most of a 1 MiB frame
    return problem if len(problem) <= _PROBLEM_MAX else problem[: _PROBLEM_MAX - 1] + "…"


def json_schema() -> dict[str, Any]:
    """JSON Schema of both directions, generated from the types (never written by hand)."""
    (client, server), components = msgspec.json.schema_components(
        (ClientMessage, ServerMessage), ref_template="#/$defs/{name}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Les Billets wire protocol",
        "$defs": components,
        "properties": {"client_to_server": client, "server_to_client": server},
    }
