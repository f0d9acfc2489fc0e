"""One connection's outgoing frames while its transport has no room, sans-I/O.

The `Outbox` hands a transport at most about its high-water mark plus one batch; everything else waits here, as
whole frames. That is what makes the backlog measure exact (`owed`), lets a laggard's queued frames be dropped so
its close frame leaves next, and lets a big message (a snapshot) be produced a fragment at a time as the client
reads instead of being copied whole into every transport.

Frames leave in the order they were queued, with two exceptions RFC 6455 allows: pings and pongs may pass queued
data frames (§5.4: control frames may sit between the fragments of a message), so keepalive keeps working during a
long snapshot; and a close frame cuts short a stream that has not finished, since nothing after a close is read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Protocol

_CLOSE = 0x88
"""First byte of a server close frame (FIN, no RSV bits, opcode 8): control frames are never fragmented."""
_PING_PONG = (0x89, 0x8A)


class Stream(Protocol):
    """A message produced a fragment at a time as the transport takes it."""

    @property
    def started(self) -> bool:
        """At least one fragment was handed out: the message can no longer be dropped whole."""
        ...

    @property
    def finished(self) -> bool:
        """The last fragment was handed out."""
        ...

    def next_frame(self) -> bytes | None:
        """The next fragment as a whole frame, or None when none is ready yet."""
        ...

    def close(self) -> None:
        """Called once, when the stream finished, was dropped, or its connection ended."""
        ...


class SendQueue:
    def __init__(self) -> None:
        self._control: deque[bytes] = deque()
        self._data: deque[bytes | Stream] = deque()
        self._eof = False
        self.owed = 0
        """Bytes of whole frames waiting here; a stream's unsent part does not count (it is not held anywhere)."""

    def __bool__(self) -> bool:
        return bool(self._control or self._data or self._eof)

    @property
    def streaming(self) -> bool:
        return any(not isinstance(item, bytes) for item in self._data)

    @property
    def at_eof(self) -> bool:
        """Everything was handed out and the protocol asked to end the TCP stream."""
        return self._eof and not self._control and not self._data

    def add(self, chunks: Iterable[bytes]) -> None:
        """Queue what websockets' protocol produced (`data_to_send()`): one frame per chunk, b"" for end of stream.

        The HTTP handshake response goes through here too; its first byte, "H" (0x48), is no control frame's.
        """
        for chunk in chunks:
            if not chunk:
                self._eof = True
            elif chunk[0] in _PING_PONG:
                self._control.append(chunk)
            else:
                if chunk[0] == _CLOSE:
                    self._cut_streams()
                self._data.append(chunk)
                self.owed += len(chunk)

    def add_stream(self, stream: Stream) -> None:
        self._data.append(stream)

    def take(self, budget: int) -> list[bytes]:
        """Frames to hand to the transport now: about `budget` bytes (at least one frame when any is ready)."""
        taken: list[bytes] = []
        size = 0
        while size < budget:
            if self._control:
                frame = self._control.popleft()
            elif not self._data:
                break
            elif isinstance(head := self._data[0], bytes):
                self._data.popleft()
                frame = head
                self.owed -= len(frame)
            else:
                next_frame = head.next_frame()
                if next_frame is None:
                    break  # later frames keep their place behind it
                frame = next_frame
                if head.finished:
                    self._data.popleft()
                    head.close()
            taken.append(frame)
            size += len(frame)
        return taken

    def discard(self) -> None:
        """Drop every queued data frame and stream (a laggard: its close frame goes next)."""
        for item in self._data:
            if not isinstance(item, bytes):
                item.close()
        self._data.clear()
        self.owed = 0

    def clear(self) -> None:
        """The connection ended: drop everything."""
        self.discard()
        self._control.clear()
        self._eof = False

    def _cut_streams(self) -> None:
        head = self._data[0] if self._data else None
        if head is not None and not isinstance(head, bytes) and head.started:
            # a message left unfinished: no data frame may follow it, only control frames
            self.discard()
            return
        kept: deque[bytes | Stream] = deque()
        for item in self._data:
            if isinstance(item, bytes):
                kept.append(item)
            else:
                item.close()
        self._data = kept
