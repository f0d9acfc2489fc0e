"""A bare-bones websocket client for holding hundreds of connections in one process cheaply.

The bench measures servers, so its clients must cost as little as possible: this one does the opening
handshake, parses the server's (unmasked) frames by hand without copying them, and sends frames masked with
a zero key (legal, and it leaves the payload as is). It answers pings and ignores everything a bench does not
need (extensions, fragmentation, which servers here never use).
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from typing import Final, TypeVar, cast

OPEN_TIMEOUT_S: Final = 30.0

C = TypeVar("C", bound="RawClient")


class HandshakeFailed(Exception):
    pass


class RawClient(asyncio.Protocol):
    """One connection; subclasses override `frame` to see each data frame as a slice of a buffer."""

    def __init__(self, host: str, port: int, subprotocol: str) -> None:
        self._request = (
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
        ).encode()
        self._buffer = bytearray()
        self._open = False
        self.transport: asyncio.Transport | None = None
        self.close_code: int | None = None
        """The code of the server's close frame, once one arrived."""
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    # --- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports quack like asyncio.Transport without subclassing it
        self.transport = cast("asyncio.Transport", transport)
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(HandshakeFailed(f"connection lost during the handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        buffer = self._buffer
        buffer += data
        if not self._open:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status:
                self.opened.set_exception(HandshakeFailed(status.decode(errors="replace")))
                return
            self._open = True
            self.opened.set_result(None)
        size = len(buffer)
        position = 0
        while size - position >= 2:
            length = buffer[position + 1] & 0x7F
            header = 2
            if length == 126:
                if size - position < 4:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                header = 4
            elif length == 127:
                if size - position < 10:
                    break
                length = int.from_bytes(buffer[position + 2 : position + 10], "big")
                header = 10
            end = position + header + length
            if end > size:
                break
            opcode = buffer[position] & 0x0F
            if opcode in (1, 2):
                self.frame(buffer, position + header, end, now)
            elif opcode == 9:
                self._send_frame(0xA, bytes(buffer[position + header : end]))
            elif opcode == 8 and self.transport is not None:
                if length >= 2:
                    self.close_code = int.from_bytes(buffer[position + header : position + header + 2], "big")
                self.transport.close()
            position = end
        if position:
            del buffer[:position]

    # --- for subclasses ------------------------------------------------------------------

    def frame(self, buffer: bytearray, start: int, end: int, now_ns: int) -> None:
        """A data frame is `buffer[start:end]`, read at `now_ns` (perf_counter_ns); the buffer is reused after."""

    def send(self, payload: bytes, *, text: bool = True) -> None:
        self._send_frame(0x1 if text else 0x2, payload)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send_frame(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        length = len(payload)
        if length < 126:
            header = bytes((0x80 | opcode, 0x80 | length))
        elif length < 1 << 16:
            header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
        else:
            header = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
        self.transport.write(header + b"\0\0\0\0" + payload)


async def open_raw(
    factory: type[C],
    host: str,
    port: int,
    *args: object,
    source: str | None = None,
    rcvbuf: int | None = None,
    timeout_s: float = OPEN_TIMEOUT_S,
) -> C:
    """Connect and complete the handshake; `factory(host, port, *args)` builds the protocol.

    `source` is the local address to connect from (any of 127.0.0.0/8 on loopback, so one machine can play
    several clients' addresses); `rcvbuf` shrinks the socket's receive buffer, which keeps the TCP window small.
    """
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout_s):
        if source is None and rcvbuf is None:
            _, protocol = await loop.create_connection(lambda: factory(host, port, *args), host, port)  # type: ignore[arg-type]
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                if rcvbuf is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
                sock.bind((source or "0.0.0.0", 0))
                await loop.sock_connect(sock, (host, port))
            except BaseException:
                sock.close()
                raise
            _, protocol = await loop.create_connection(lambda: factory(host, port, *args), sock=sock)  # type: ignore[arg-type]
        try:
            await protocol.opened
        except BaseException:  # a handshake that failed or timed out leaves no connection behind
            if protocol.transport is not None:
                protocol.transport.abort()
            raise
    return protocol
