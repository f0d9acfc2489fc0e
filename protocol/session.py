"""The client's bookkeeping that needs no socket: request ids, event order, backoff, reply checks.

Kept apart from `protocol.client` so the rules are tested without an event loop.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from protocol.errors import ProtocolViolation, error_from_reply
from protocol.messages import RID_MAX, Error, Reply, ServerMessage

R = TypeVar("R", bound=Reply)


class RidCounter:
    """Client-chosen request ids: increasing, never reused on one client, even across reconnects."""

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def next(self) -> int:
        rid = self._next
        # Wrapping is harmless: a reply only ever matches a request still waiting, and 2**53 is never reached.
        self._next = rid + 1 if rid < RID_MAX else 1
        return rid


class EventAction(enum.Enum):
    DELIVER = "deliver"
    """Apply it: it is the next event (or no snapshot has been fetched, so anything goes)."""
    DROP = "drop"
    """Already reflected in the last snapshot or delivered before."""
    RESYNC = "resync"
    """Events were missed: fetch a fresh `AllTickets` instead of applying this one."""


@dataclass
class SeqTracker:
    """Where the local view stands in the server's event stream."""

    last_seq: int | None = None
    """The last event reflected locally (from a snapshot or a delivered event)."""
    has_snapshot: bool = False
    """Whether an `AllTickets` was fetched; before that, there is nothing to keep consistent."""

    def snapshot(self, seq: int) -> None:
        """An `AllTickets` reflecting every event up to ``seq`` arrived.

        Set, not maxed: a snapshot is the server's truth, even if its numbering went backwards.
        """
        self.last_seq = seq
        self.has_snapshot = True

    def check(self, seq: int) -> EventAction:
        """Decide what to do with the event numbered ``seq``; DELIVER also advances ``last_seq``."""
        if not self.has_snapshot or self.last_seq is None:
            self.last_seq = seq
            return EventAction.DELIVER
        if seq <= self.last_seq:
            return EventAction.DROP
        if seq > self.last_seq + 1:
            return EventAction.RESYNC
        self.last_seq = seq
        return EventAction.DELIVER

    def reset(self) -> None:
        """Forget the stream (after a logout: the next login starts from a new snapshot)."""
        self.last_seq = None
        self.has_snapshot = False


@dataclass
class Backoff:
    """Exponential backoff with jitter between reconnect attempts."""

    initial: float = 0.05
    maximum: float = 5.0
    factor: float = 2.0
    rand: Callable[[], float] = field(default=random.random, repr=False)
    _current: float = field(default=0.0, init=False, repr=False)

    def next_delay(self) -> float:
        """The next pause: each doubles up to ``maximum``, then shrunk by up to half at random.

        The jitter spreads out the clients that all lost the same server at the same instant.
        """
        self._current = self.initial if self._current == 0.0 else min(self._current * self.factor, self.maximum)
        return self._current * (0.5 + 0.5 * self.rand())

    def reset(self) -> None:
        self._current = 0.0


def expect(reply: ServerMessage, kind: type[R]) -> R:
    """The reply as ``kind``; its typed `ServerError` for an `Error`; `ProtocolViolation` for anything else."""
    if isinstance(reply, Error):
        raise error_from_reply(reply)
    if not isinstance(reply, kind):
        raise ProtocolViolation(f"The server answered with {type(reply).__name__} where {kind.__name__} was expected.")
    return reply
