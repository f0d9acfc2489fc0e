"""Exceptions of the server package.

LesBilletsServerError
├── Rejected              a request that cannot be carried out: becomes one `Error` reply, state unchanged
│   └── StoreUnavailable  the database cannot be written now (disk full, read-only, I/O error, locked): `unavailable`
├── StoreError            the database could not be opened or read as expected
└── UserAdminError        a `lesbillets-server user …` command could not do what was asked
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


class StoreUnavailable(Rejected):
    """A write the database refused for a reason outside the request: nothing was written.

    The client's `Error{unavailable}` sentence says nothing about the server's files;
    ``str()`` is the operator's sentence, naming the file and SQLite's reason.
    """

    CLIENT_MESSAGE = "The server cannot write to its database right now; nothing was changed. Try again shortly."

    def __init__(self, db: str, reason: str) -> None:
        super().__init__(ErrorCode.UNAVAILABLE, self.CLIENT_MESSAGE)
        self.db = db
        self.reason = reason

    def __str__(self) -> str:
        return (
            f"Cannot write to the database {self.db}: {self.reason}. Check that this user may write the file and its"
            " directory, and that the disk has free space."
        )


class StoreError(LesBilletsServerError):
    """The database could not be opened, migrated or read."""


class UserAdminError(LesBilletsServerError):
    """A user-administration command failed (duplicate email, unknown user…)."""
