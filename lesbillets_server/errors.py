"""Exceptions of the server package.

LesBilletsServerError
├── Rejected          a request broken a rule: becomes one `Error` reply, state unchanged
├── StoreError        the database could not be opened or read as expected
└── UserAdminError    a `lesbillets-server user …` command could not do what was asked
"""

from __future__ import annotations

from protocol.messages import Error, ErrorCode, Lock


class LesBilletsServerError(Exception):
    """Base of every exception this package raises on purpose."""


class Rejected(LesBilletsServerError):
    """A request that breaks a rule; carries everything its `Error` reply needs."""

    def __init__(self, code: ErrorCode, message: str, *, detail: str | None = None, lock: Lock | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail
        self.lock = lock

    def reply(self, rid: int | None) -> Error:
        return Error(rid=rid, code=self.code, message=self.message, detail=self.detail, lock=self.lock)


class StoreError(LesBilletsServerError):
    """The database could not be opened, migrated or read."""


class UserAdminError(LesBilletsServerError):
    """A user-administration command failed (duplicate email, unknown user…)."""
