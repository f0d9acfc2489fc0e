# mypy: disable-error-code="misc"
# (msgspec Structs inherit frozen=True from their base; mypy's dataclass_transform does not know that.)
"""Every message that crosses the wire, in one place.

Two tagged unions, one per direction: `ClientMessage` (client → server) and
`ServerMessage` (server → client). The tag field is ``"type"`` and its value is
the class name, so ``{"type": "GetTickets", "rid": 1}`` decodes to
`GetTickets(rid=1)`.

Requests carry ``rid``, a client-chosen integer echoed by the one reply the
request gets (the specific reply, `Ack` or `Error`). Broadcast events carry
``seq``, a server-wide, gap-free, increasing number, and no ``rid``. A notice
(`SessionEnded`) carries neither: it is about this connection alone.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Final

from msgspec import UNSET, Meta, Struct, UnsetType

PROTOCOL_VERSION: Final = 1

TITLE_MAX: Final = 200
DESCRIPTION_MAX: Final = 20_000
NAME_MAX: Final = 100
EMAIL_MAX: Final = 254
PASSWORD_MAX: Final = 1024
TOKEN_MAX: Final = 256
RID_MAX: Final = 2**53 - 1  # the largest integer JavaScript clients can echo exactly

# Text rules, as regexes both msgspec (Python `re.search`) and JSON Schema (ECMA-262) read the same way: a negated
# class over the whole string. The end is `(?![\s\S])`, not `$`, which in Python also matches before a final "\n".
# Refused everywhere: C0 controls, DEL and C1 controls (ESC, NUL, BEL… act on terminals), U+2028/U+2029 (line
# breaks in disguise), and the bidi embeddings, overrides and isolates U+202A to U+202E and U+2066 to U+2069 (they
# reorder what is shown: the "Trojan Source" spoof). Right-to-left text needs none of them; the marks U+200E/U+200F
# stay allowed.
ONE_LINE_TEXT: Final = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*(?![\s\S])"
"""Titles and names: one line, no control characters at all."""
MULTILINE_TEXT: Final = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*(?![\s\S])"
"""Descriptions: the same, except that newline and tab are allowed."""
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+"
EMAIL_PATTERN: Final = rf"^{_EMAIL_PART}@{_EMAIL_PART}(?![\s\S])"
TEXT_RULES: Final = {
    ONE_LINE_TEXT: "one line of text without control characters or bidirectional formatting characters",
    MULTILINE_TEXT: (
        "text without control characters (newline and tab are allowed) or bidirectional formatting characters"
    ),
    EMAIL_PATTERN: "an email address: one @, no spaces or control characters",
}
"""Each pattern above in words, for the `bad_request` sentence."""

Rid = Annotated[int, Meta(ge=0, le=RID_MAX, description="Client-chosen request id, echoed in the reply.")]
Seq = Annotated[int, Meta(ge=0, description="Server-wide, gap-free, increasing event number.")]
Title = Annotated[str, Meta(min_length=1, max_length=TITLE_MAX, pattern=ONE_LINE_TEXT)]
Description = Annotated[str, Meta(max_length=DESCRIPTION_MAX, pattern=MULTILINE_TEXT)]
Email = Annotated[str, Meta(min_length=3, max_length=EMAIL_MAX, pattern=EMAIL_PATTERN)]
Password = Annotated[str, Meta(min_length=1, max_length=PASSWORD_MAX)]
Token = Annotated[str, Meta(min_length=1, max_length=TOKEN_MAX)]
UserName = Annotated[str, Meta(min_length=1, max_length=NAME_MAX, pattern=ONE_LINE_TEXT)]
Epoch = Annotated[str, Meta(max_length=64, description="Identifies the event log; changes when it starts over.")]
Fence = Annotated[int, Meta(ge=0, description="The grant of a ticket's lock; grows with every new grant.")]


class Status(enum.StrEnum):
    OPEN = "open"
    BLOCKED = "blocked"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Role(enum.StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class UnlockReason(enum.StrEnum):
    RELEASED = "released"
    """The holder unlocked it (or saved and unlocked)."""
    EXPIRED = "expired"
    """The lease ran out without a `RenewLock`."""
    DISCONNECTED = "disconnected"
    """The holder's connection dropped and did not resume within the grace period."""
    BROKEN = "broken"
    """An admin forced it open."""


class HistoryKind(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    LOCKED = "locked"
    UNLOCKED = "unlocked"


class SessionEndReason(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    """`Logout` on another connection of the same session."""
    EXPIRED = "expired"
    """The session reached its end of life."""
    REVOKED = "revoked"
    """Ended from outside: the password was changed (``lesbillets-server user passwd``), or logged out elsewhere."""
    DISABLED = "disabled"
    """The account was disabled (``lesbillets-server user disable``)."""


class ErrorCode(enum.StrEnum):
    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    LOCKED = "locked"
    NOT_LOCK_HOLDER = "not_lock_holder"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


class CloseCode(enum.IntEnum):
    """WebSocket close codes the server uses, with what a client should do."""

    GOING_AWAY = 1001
    """Server shutting down: reconnect with backoff."""
    POLICY_VIOLATION = 1008
    """Kept flooding after `rate_limited`."""
    MESSAGE_TOO_BIG = 1009
    """A frame larger than the server's ``--max-message``."""
    INTERNAL_ERROR = 1011
    """The server failed unexpectedly while handling this connection."""
    RESYNC = 4000
    """The client fell too far behind the event stream: reconnect and fetch `AllTickets`."""
    LOGIN_TIMEOUT = 4001
    """Not logged in within the server's ``--login-timeout`` of connecting (or of logging out)."""


# --- shared records -------------------------------------------------------------


class _Record(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Plain data carried inside messages (not tagged)."""


class User(_Record):
    id: uuid.UUID
    email: str
    name: str
    role: Role


class Lock(_Record):
    user_id: uuid.UUID
    user_name: str
    expires_at: datetime
    fence: Fence = 0
    """Grows with every grant of this ticket's lock: a change sent with an older fence is refused."""


class Ticket(_Record):
    id: uuid.UUID
    title: str
    description: str
    status: Status
    priority: Priority
    assignee: uuid.UUID | None
    created_at: datetime
    created_by: uuid.UUID
    updated_at: datetime
    updated_by: uuid.UUID
    version: Annotated[int, Meta(ge=1)]
    lock: Lock | None = None


# --- the tagged base -------------------------------------------------------------


class Message(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type", tag=True):
    """Base of every wire message; the tag is the class name."""


class Request(Message):
    rid: Rid
    needs_auth: ClassVar[bool] = True


# --- client → server ------------------------------------------------------------


class Login(Request):
    email: Email
    password: Password
    last_seq: Seq | None = None
    """The last event the client already has (with ``epoch``): the server replays what came after."""
    epoch: Epoch | None = None
    needs_auth: ClassVar[bool] = False

    def __repr__(self) -> str:  # never print the password, not even in a debugger or a log line
        return f"Login(rid={self.rid!r}, email={self.email!r}, password='***')"


class Resume(Request):
    token: Token
    last_seq: Seq | None = None
    """The last event the client already has (with ``epoch``): the server replays what came after."""
    epoch: Epoch | None = None
    needs_auth: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"Resume(rid={self.rid!r}, token='***')"


class Logout(Request):
    pass


class GetTickets(Request):
    pass


class GetUsers(Request):
    pass


class CreateTicket(Request):
    title: Title
    description: Description = ""
    status: Status = Status.OPEN
    priority: Priority = Priority.NORMAL
    assignee: uuid.UUID | None = None


class LockTicket(Request):
    ticket_id: uuid.UUID


class RenewLock(Request):
    ticket_id: uuid.UUID
    fence: Fence | UnsetType = UNSET
    """The grant being renewed (from `Lock.fence`); a later grant of the same lock refuses it."""


class UpdateTicket(Request):
    """Change some fields of a locked ticket; ``version`` must be the ticket's current one.

    A field left out stays as it is; ``"assignee": null`` unassigns.
    """

    ticket_id: uuid.UUID
    version: Annotated[int, Meta(ge=1)]
    title: Title | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    assignee: uuid.UUID | UnsetType | None = UNSET
    fence: Fence | UnsetType = UNSET
    """The grant the change is made under (from `Lock.fence`); a later grant of the same lock refuses it."""


class UnlockTicket(Request):
    ticket_id: uuid.UUID
    force: bool = False


class GetHistory(Request):
    """A ticket's changes from the event log, oldest first (the audit trail)."""

    ticket_id: uuid.UUID


ClientMessage = (
    Login
    | Resume
    | Logout
    | GetTickets
    | GetUsers
    | CreateTicket
    | LockTicket
    | RenewLock
    | UpdateTicket
    | UnlockTicket
    | GetHistory
)


# --- server → client: replies -------------------------------------------------


class Reply(Message):
    rid: Rid


class Welcome(Reply):
    user: User
    token: str
    lock_ttl_s: float
    server_version: str
    protocol_version: int = PROTOCOL_VERSION
    epoch: Epoch = ""
    """The log's identity: a ``last_seq`` is only meaningful with the epoch it was read in."""
    seq: Seq = 0
    """Every event after this one follows on this connection, in order."""
    resumed: bool = False
    """The events after the ``last_seq`` sent follow (``seq`` is that ``last_seq``): keep the table you have.
    False: fetch ``AllTickets`` (the log no longer holds what you missed, or you named no ``last_seq``)."""

    def __repr__(self) -> str:
        return f"Welcome(rid={self.rid!r}, user={self.user!r}, token='***', lock_ttl_s={self.lock_ttl_s!r})"


class AllTickets(Reply):
    seq: Seq
    """The last event already reflected in ``tickets``; the next event is ``seq + 1``."""
    tickets: list[Ticket]


class Users(Reply):
    users: list[User]


class FieldChange(_Record):
    field: str
    old: str | None
    new: str | None


class HistoryEntry(_Record):
    seq: Seq
    at: datetime
    actor: uuid.UUID | None
    """Who made the change; null for the server's own (a lease that ran out, a session that dropped)."""
    kind: HistoryKind
    changes: list[FieldChange] = []
    """For ``created`` and ``updated``: each field that changed, with its value before and after."""
    reason: UnlockReason | None = None
    """For ``unlocked``."""


class History(Reply):
    ticket_id: uuid.UUID
    entries: list[HistoryEntry]


class Ack(Reply):
    ticket: Ticket | None = None
    """The ticket as it stands after a create, lock, renew or update; absent otherwise."""


class Error(Reply):
    """The one reply to a request that failed; ``rid`` is null when it could not be read."""

    rid: Rid | None  # type: ignore[assignment]
    code: ErrorCode
    message: str
    detail: str | None = None
    """For ``bad_request``: the path of the field that failed (``$.title``)."""
    lock: Lock | None = None
    """For ``locked``: who holds the ticket and until when."""


# --- server → client: events -----------------------------------------------------


class Event(Message):
    seq: Seq


class TicketCreated(Event):
    ticket: Ticket


class TicketUpdated(Event):
    ticket: Ticket


class TicketLocked(Event):
    ticket_id: uuid.UUID
    lock: Lock


class TicketUnlocked(Event):
    ticket_id: uuid.UUID
    reason: UnlockReason


ServerEvent = TicketCreated | TicketUpdated | TicketLocked | TicketUnlocked


# --- server → client: notices ------------------------------------------------------


class SessionEnded(Message):
    """This connection's session is over: it is logged out, gets no more events, and its requests `unauthorized`.

    The last thing the connection receives about the session; the session's locks are already released.
    """

    reason: SessionEndReason
    message: str
    """A sentence to show a person."""


ServerMessage = Welcome | AllTickets | Users | History | Ack | Error | ServerEvent | SessionEnded

__all__ = [
    "UNSET",
    "Ack",
    "AllTickets",
    "ClientMessage",
    "CloseCode",
    "CreateTicket",
    "Error",
    "ErrorCode",
    "Event",
    "FieldChange",
    "GetHistory",
    "GetTickets",
    "GetUsers",
    "History",
    "HistoryEntry",
    "HistoryKind",
    "Lock",
    "LockTicket",
    "Login",
    "Logout",
    "Message",
    "Priority",
    "RenewLock",
    "Reply",
    "Request",
    "Resume",
    "Role",
    "ServerEvent",
    "ServerMessage",
    "SessionEndReason",
    "SessionEnded",
    "Status",
    "Ticket",
    "TicketCreated",
    "TicketLocked",
    "TicketUnlocked",
    "TicketUpdated",
    "UnlockReason",
    "UnlockTicket",
    "UnsetType",
    "UpdateTicket",
    "User",
    "Users",
    "Welcome",
]
