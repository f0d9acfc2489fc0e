"""Whether the database can be written, as its latest writes found: for /healthz and the log.

The store reports the outcome of every write here. A failure starts an *episode*
that lasts until a write succeeds again. The log gets one line when an episode
starts, a reminder every ten minutes while it lasts and one line when it ends,
never one per failed request; and however often the database flips between the
two, at most one failure line a minute.

Sans-I/O: the owner passes the time in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

LOG_EVERY_S = 60.0
"""The least time between two "cannot write" lines."""
REMIND_EVERY_S = 600.0
"""How often a long episode is mentioned again."""
PROBE_EVERY_S = 30.0
"""While writes work: how long without any write before a probe checks they still do."""


@dataclass(slots=True)
class _Episode:
    reason: str
    started: float
    failures: int = 1
    logged: bool = False


class WriteHealth:
    def __init__(self, db: str, now: float, *, logs: bool = True) -> None:
        self.db = db
        self._logs = logs
        """False where the caller tells people itself (the `user` commands print the error)."""
        self._episode: _Episode | None = None
        self._last_outcome = now
        self._last_logged = float("-inf")
        self._unlogged = 0
        """Failures not yet counted in a log line (episodes that started within a minute of the last line)."""

    @property
    def problem(self) -> str | None:
        """None while the database can be written; otherwise SQLite's reason, as the last write met it."""
        return None if self._episode is None else self._episode.reason

    def probe_due(self, now: float) -> bool:
        """Whether a probe write should check the database now: at every chance while failing, else when idle."""
        return self._episode is not None or now - self._last_outcome >= PROBE_EVERY_S

    def succeeded(self, now: float) -> None:
        self._last_outcome = now
        episode, self._episode = self._episode, None
        if episode is not None and episode.logged and self._logs:
            log.warning(
                "the database %s can be written again (%d writes failed over %.0f s)",
                self.db,
                episode.failures,
                now - episode.started,
            )

    def failed(self, reason: str, now: float) -> None:
        self._last_outcome = now
        if self._episode is None:
            self._episode = _Episode(reason=reason, started=now)
        else:
            self._episode.failures += 1
            self._episode.reason = reason
        self._unlogged += 1
        episode = self._episode
        if not self._logs or now - self._last_logged < (REMIND_EVERY_S if episode.logged else LOG_EVERY_S):
            return
        if episode.logged:
            log.error(
                "still cannot write to the database %s: %s (%d writes failed since the last report)",
                self.db,
                reason,
                self._unlogged,
            )
        else:
            log.error(
                "cannot write to the database %s: %s; every change gets `unavailable` until it can", self.db, reason
            )
        episode.logged = True
        self._last_logged = now
        self._unlogged = 0
