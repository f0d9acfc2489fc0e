"""Exceptions the protocol client raises.

    LesBilletsError
    ├── ServerError             the server answered a request with an `Error` reply
    │   ├── BadRequest          bad_request: a field failed validation (``.detail`` is its path)
    │   ├── Unauthorized        unauthorized: not logged in, wrong password, or the token is no longer valid
    │   │   └── SessionEndedError   the server ended this session while connected (``.reason`` says why)
    │   ├── Forbidden           forbidden: admins only (a forced unlock), account disabled, lock limit reached
    │   ├── NotFound            not_found: no such ticket or user
    │   ├── Locked              locked: someone else holds the ticket (``.lock`` says who, until when)
    │   ├── NotLockHolder       not_lock_holder: the change needs a lock this session does not hold
    │   ├── Conflict            conflict: the ``version`` is stale; reload and apply the change again
    │   ├── RateLimited         rate_limited: too many requests, or failed logins; slow down
    │   ├── Unavailable         unavailable: the server cannot write its database now; nothing changed, retry shortly
    │   └── InternalServerError internal: the server failed; the request may be retried
    └── ClientError             the request did not get a usable reply
        ├── NotConnected        there is no connection (closed, or still reconnecting after the timeout)
        │   └── ConnectionLost  the connection dropped while the request was in flight
        ├── RequestTimeout      no reply within ``request_timeout``
        └── ProtocolViolation   the server sent an undecodable frame or a reply of an unexpected type

``str(exc)`` is always a sentence fit to show a person: for a `ServerError`, the
server's own message.
"""

from __future__ import annotations

from typing import ClassVar

from protocol.messages import Error, ErrorCode, Lock, SessionEndReason


class LesBilletsError(Exception):
    """Base of every exception the protocol package raises on purpose."""


class ServerError(LesBilletsError):
    """The server refused a request; carries everything its `Error` reply said."""

    default_code: ClassVar[ErrorCode] = ErrorCode.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        detail: str | None = None,
        lock: Lock | None = None,
        rid: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code if code is not None else self.default_code
        self.message = message
        self.detail = detail
        self.lock = lock
        self.rid = rid

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.value!r}, message={self.message!r}, detail={self.detail!r})"


class BadRequest(ServerError):
    default_code = ErrorCode.BAD_REQUEST


class Unauthorized(ServerError):
    default_code = ErrorCode.UNAUTHORIZED


class SessionEndedError(Unauthorized):
    """The server ended the session this client was logged in with (`SessionEnded`): log in again.

    ``.reason``: logged out on another connection, expired, revoked (password changed) or account disabled.
    """

    def __init__(self, message: str, *, reason: SessionEndReason) -> None:
        super().__init__(message)
        self.reason = reason


class Forbidden(ServerError):
    default_code = ErrorCode.FORBIDDEN


class NotFound(ServerError):
    default_code = ErrorCode.NOT_FOUND


class Locked(ServerError):
    """``.lock`` tells who holds the ticket and until when (when the server said so)."""

    default_code = ErrorCode.LOCKED


class NotLockHolder(ServerError):
    default_code = ErrorCode.NOT_LOCK_HOLDER


class Conflict(ServerError):
    default_code = ErrorCode.CONFLICT


class RateLimited(ServerError):
    default_code = ErrorCode.RATE_LIMITED


class Unavailable(ServerError):
    """Nothing was changed and the connection stays open: the same request may succeed a little later."""

    default_code = ErrorCode.UNAVAILABLE


class InternalServerError(ServerError):
    default_code = ErrorCode.INTERNAL


_BY_CODE: dict[ErrorCode, type[ServerError]] = {
    cls.default_code: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Locked,
        NotLockHolder,
        Conflict,
        RateLimited,
        Unavailable,
        InternalServerError,
    )
}


def error_from_reply(err: Error) -> ServerError:
    """The typed exception for an `Error` reply."""
    cls = _BY_CODE.get(err.code, ServerError)
    return cls(err.message, code=err.code, detail=err.detail, lock=err.lock, rid=err.rid)


class ClientError(LesBilletsError):
    """The request did not get a usable reply; nothing the server decided."""


class NotConnected(ClientError):
    """There is no connection to send the request on."""


class ConnectionLost(NotConnected):
    """The connection dropped before the reply came; the request may or may not have been applied."""


class RequestTimeout(ClientError):
    """The reply did not come within ``request_timeout``; the request may or may not have been applied."""


class ProtocolViolation(ClientError):
    """The server sent something this client cannot understand."""


__all__ = [
    "BadRequest",
    "ClientError",
    "Conflict",
    "ConnectionLost",
    "Forbidden",
    "InternalServerError",
    "LesBilletsError",
    "Locked",
    "NotConnected",
    "NotFound",
    "NotLockHolder",
    "ProtocolViolation",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "SessionEndedError",
    "Unauthorized",
    "Unavailable",
    "error_from_reply",
]
