"""Exceptions of the server package.

LesBilletsServerError
├── Rejected              a request that cannot be carried out: becomes one `Error` reply, state unchanged
│   ├── StoreUnavailable  the database cannot be written now (disk full, read-only, I/O error, locked): `unavailable`
│   └── UserAdminError    a user command (`lesbillets-server user …`, or an admin's request) broke a rule
├── StoreError            the database could not be opened or read as expected
└── GuardFailed           a guarded write found the ticket changed (another replica won): nothing written
"""

from __future__ import annotations

from protocol.messages import Error, ErrorCode, Lock, Ticket


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


class UserAdminError(Rejected):
    """A user-administration rule refused: bad input (`bad_request`), the email taken (`conflict`), no such user
    (`not_found`). The CLI prints the sentence; a request gets it as its `Error`."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.BAD_REQUEST, *, detail: str | None = None) -> None:
        super().__init__(code, message, detail=detail)


class GuardFailed(LesBilletsServerError):
    """A guarded ticket change found the row not as the rules expected; nothing was written.

    Carries the row as the database has it, so the rules can say precisely why (another replica may have
    changed it since this one's read model last heard).
    """

    def __init__(self, ticket: Ticket | None, holder: str | None, *, too_many_locks: bool = False) -> None:
        super().__init__("the ticket changed under the request")
        self.ticket = ticket
        self.holder = holder
        self.too_many_locks = too_many_locks
        """The user already holds the most locks allowed (a grant's `Guard.max_locks`)."""
