"""Group commit, the part both stores share: a batch of writes (ticket changes and comments) waiting for one
transaction, and how it ends."""

from __future__ import annotations

import asyncio
from datetime import datetime

from lesbillets_server.errors import GuardFailed
from lesbillets_server.storage.records import LoggedEvent, Write

Batch = list[tuple[Write, datetime, "asyncio.Future[LoggedEvent]"]]
Outcome = LoggedEvent | GuardFailed


def wanted(batch: Batch) -> Batch:
    """The changes still waited for: one whose request was given up on changes nothing."""
    return [item for item in batch if not item[2].cancelled()]


def settle(batch: Batch, outcomes: list[Outcome]) -> None:
    """The transaction committed: each change gets its event, or its own guard's refusal."""
    for (_, _, future), outcome in zip(batch, outcomes, strict=True):
        if future.done():
            continue
        if isinstance(outcome, GuardFailed):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def fail(batch: Batch, exc: BaseException) -> None:
    """The transaction failed as a whole: nothing of it was written, every change gets the failure."""
    for _, _, future in batch:
        if not future.done():
            future.set_exception(exc)
