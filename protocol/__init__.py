"""Les Billets wire protocol: message types, their codecs and an asyncio client."""

from protocol.codec import JSON, MSGPACK, SUBPROTOCOLS, Codec, codec_for
from protocol.messages import *  # noqa: F403
from protocol.messages import __all__ as _messages_all

__all__ = ["JSON", "MSGPACK", "SUBPROTOCOLS", "Codec", "codec_for", *_messages_all]
