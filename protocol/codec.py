"""Bytes ↔ messages, for both directions and both encodings.

One `Codec` per websocket subprotocol, each holding one reused encoder and one
decoder per direction (msgspec's fast path). Sans-I/O: nothing here touches a
socket, so it is tested without an event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from protocol.messages import ClientMessage, Rid, ServerMessage

JSON_SUBPROTOCOL: Final = "lesbillets.json"
MSGPACK_SUBPROTOCOL: Final = "lesbillets.msgpack"
SUBPROTOCOLS: Final = (JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL)


class _RidOnly(msgspec.Struct):
    """Lenient view of a frame, used only to echo ``rid`` in a ``bad_request`` reply."""

    rid: Rid | None = None


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

    def encode(self, message: msgspec.Struct) -> bytes:
        return self._encoder.encode(message)

    def decode_client(self, data: bytes | str) -> ClientMessage:
        """Decode a client frame; raises `msgspec.DecodeError` (incl. `ValidationError`)."""
        try:
            return self._client_decoder.decode(_as_bytes(data))
        except UnicodeDecodeError as exc:
            raise _not_utf8(exc) from exc

    def decode_server(self, data: bytes | str) -> ServerMessage:
        """Decode a server frame; raises `msgspec.DecodeError` (incl. `ValidationError`)."""
        try:
            return self._server_decoder.decode(_as_bytes(data))
        except UnicodeDecodeError as exc:
            raise _not_utf8(exc) from exc

    def peek_rid(self, data: bytes | str) -> int | None:
        """The ``rid`` of a frame that failed to decode, when it can still be read."""
        try:
            return self._rid_decoder.decode(_as_bytes(data)).rid
        except msgspec.DecodeError:
            return None


def _not_utf8(exc: UnicodeDecodeError) -> msgspec.DecodeError:
    # msgspec lets this one escape its DecodeError family; the boundary should only ever see DecodeError
    return msgspec.DecodeError(f"A string is not valid UTF-8 (byte {exc.start})")


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


JSON: Final = Codec(
    subprotocol=JSON_SUBPROTOCOL,
    text=True,
    _encoder=msgspec.json.Encoder(),
    _client_decoder=msgspec.json.Decoder(ClientMessage),
    _server_decoder=msgspec.json.Decoder(ServerMessage),
    _rid_decoder=msgspec.json.Decoder(_RidOnly),
)
MSGPACK: Final = Codec(
    subprotocol=MSGPACK_SUBPROTOCOL,
    text=False,
    _encoder=msgspec.msgpack.Encoder(),
    _client_decoder=msgspec.msgpack.Decoder(ClientMessage),
    _server_decoder=msgspec.msgpack.Decoder(ServerMessage),
    _rid_decoder=msgspec.msgpack.Decoder(_RidOnly),
)
CODECS: Final = {JSON.subprotocol: JSON, MSGPACK.subprotocol: MSGPACK}


def codec_for(subprotocol: str | None) -> Codec:
    """The codec a connection negotiated; JSON when none was asked for."""
    return CODECS.get(subprotocol or JSON_SUBPROTOCOL, JSON)


_PATH = re.compile(r" - at `(?P<path>[^`]+)`$")


def describe_decode_error(exc: msgspec.DecodeError) -> tuple[str, str | None]:
    """A sentence for a person and the failing field path (``$.title``), if any."""
    text = str(exc)
    match = _PATH.search(text)
    if match is None:
        return f"The message could not be read: {text}.", None
    return f"Invalid field {match['path']}: {text[: match.start()]}.", match["path"]


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
