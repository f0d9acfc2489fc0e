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
(`SessionEnded`, `PresenceChanged`, `InboxChanged`) carries neither: it is not in the log.

One request gets one reply, except `GetRows`, answered by `Rows` pages up to the one with ``more`` false.
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
    r"^[a-z0-9][a-z0-9_.-]*(?![\s\S])": "a tag: lowercase letters and digits, with . _ - inside",
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
TicketNumber = Annotated[
    int, Meta(ge=1, le=RID_MAX, description="A ticket's short number (#1042), unique per helpdesk.")
]
TicketRef = uuid.UUID | TicketNumber
"""Where a request names a ticket it may give its id or its number; replies and events always carry the id."""
COMMENT_MAX: Final = 20_000
TAG_MAX: Final = 32
TAGS_MAX: Final = 20
QUERY_MAX: Final = 200
BATCH_MAX: Final = 200
"""The most tickets one `ChangeTickets` may name."""
CommentBody = Annotated[str, Meta(min_length=1, max_length=COMMENT_MAX, pattern=MULTILINE_TEXT)]
Tag = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=TAG_MAX,
        pattern=r"^[a-z0-9][a-z0-9_.-]*(?![\s\S])",
        description="A free word: lowercase letters, digits, and . _ - inside.",
    ),
]
Tags = Annotated[list[Tag], Meta(max_length=TAGS_MAX)]
Query = Annotated[str, Meta(max_length=QUERY_MAX, pattern=ONE_LINE_TEXT)]


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
    COMMENTED = "commented"
    COMMENT_EDITED = "comment_edited"


class InboxKind(enum.StrEnum):
    ASSIGNED = "assigned"
    """Somebody else assigned the ticket to you."""
    MENTIONED = "mentioned"
    """Somebody named you (@name) in a comment."""
    LOCK_BROKEN = "lock_broken"
    """An admin forced your lock open."""


class HitField(enum.StrEnum):
    """Where a search hit's best match is."""

    TITLE = "title"
    DESCRIPTION = "description"
    COMMENT = "comment"


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
    number: int = 0
    """The ticket's short number (#1042), given by the database at creation."""
    due_at: datetime | None = None
    tags: list[str] = []


class Comment(_Record):
    id: uuid.UUID
    ticket_id: uuid.UUID
    author: uuid.UUID
    author_name: str
    body: str
    """Markdown."""
    created_at: datetime
    edited_at: datetime | None = None
    mentions: list[uuid.UUID] = []
    """The users the body names (@name), as the server resolved them."""


class Viewer(_Record):
    """An agent with a ticket open (presence is ephemeral: not logged, not kept)."""

    user_id: uuid.UUID
    name: str
    editing: bool = False


class TicketPresence(_Record):
    ticket_id: uuid.UUID
    viewers: list[Viewer]


class InboxItem(_Record):
    seq: Seq
    """The log event that put it in the inbox (items are ordered by it)."""
    kind: InboxKind
    ticket_id: uuid.UUID
    number: int
    title: str
    actor: uuid.UUID | None
    actor_name: str
    at: datetime
    read: bool = False
    comment_id: uuid.UUID | None = None
    """For ``mentioned``: the comment."""


class Span(_Record, array_like=True):
    """A highlighted part of a snippet: characters ``start`` up to (not including) ``end``."""

    start: int
    end: int


class SearchHit(_Record):
    ticket_id: uuid.UUID
    number: int
    title: str
    rank: float
    """Higher is better; only comparable within one reply."""
    field: HitField
    snippet: str
    highlights: list[Span] = []
    comment_id: uuid.UUID | None = None


class Row(_Record, array_like=True):
    """A ticket as the table shows it, positional on the wire and without description or conversation.

    ``assignee`` and ``created_by`` index the `Rows` reply's ``users``; times are Unix seconds.
    """

    id: uuid.UUID
    number: int
    title: str
    status: Status
    priority: Priority
    assignee: int | None
    created_by: int
    updated_at: int
    version: int
    lock: Lock | None = None
    due_at: int | None = None
    tags: list[str] = []


class Account(_Record):
    """A user as an admin sees them."""

    user: User
    disabled: bool


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
    due_at: datetime | None = None
    tags: Tags = []


class LockTicket(Request):
    ticket_id: TicketRef


class RenewLock(Request):
    ticket_id: TicketRef
    fence: Fence | UnsetType = UNSET
    """The grant being renewed (from `Lock.fence`); a later grant of the same lock refuses it."""


class UpdateTicket(Request):
    """Change some fields of a locked ticket; ``version`` must be the ticket's current one.

    A field left out stays as it is; ``"assignee": null`` unassigns.
    """

    ticket_id: TicketRef
    version: Annotated[int, Meta(ge=1)]
    title: Title | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    assignee: uuid.UUID | UnsetType | None = UNSET
    due_at: datetime | UnsetType | None = UNSET
    tags: Tags | UnsetType = UNSET
    fence: Fence | UnsetType = UNSET
    """The grant the change is made under (from `Lock.fence`); a later grant of the same lock refuses it."""


class UnlockTicket(Request):
    ticket_id: TicketRef
    force: bool = False


class GetHistory(Request):
    """A ticket's changes from the event log, oldest first (the audit trail), comments included."""

    ticket_id: TicketRef


class GetTicket(Request):
    """One ticket in full, with its conversation (the table's rows carry neither description nor comments)."""

    ticket_id: TicketRef


class GetRows(Request):
    """The whole table as `Rows` pages: the ``first`` most recently updated tickets in the first page, at once,
    then the rest. Every page has the same ``seq``; events after it follow the last page."""

    first: Annotated[int, Meta(ge=1, le=1000)] = 100


class AddComment(Request):
    """Speak on a ticket: needs no lock (the lock guards the fields, not the conversation)."""

    ticket_id: TicketRef
    body: CommentBody


class EditComment(Request):
    """Change your own comment; the earlier text stays in the history."""

    comment_id: uuid.UUID
    body: CommentBody


class Search(Request):
    """Full-text search over titles, descriptions and comments, ranked; the table filter's qualifiers
    (``status:``, ``priority:``, ``assignee:me``, ``locked``, ``tag:``, ``#1042``) combine with the words."""

    query: Query
    limit: Annotated[int, Meta(ge=1, le=100)] = 50


class SetPresence(Request):
    """What this connection has open: a ticket (``editing`` when in its edit form), or nothing."""

    ticket_id: TicketRef | None = None
    editing: bool = False


class GetPresence(Request):
    """Who has which ticket open now, across every replica."""


class GetInbox(Request):
    limit: Annotated[int, Meta(ge=1, le=500)] = 100
    unread_only: bool = False


class MarkRead(Request):
    """Mark inbox items read: those named, or with ``up_to`` every item up to that seq."""

    seqs: Annotated[list[Seq], Meta(max_length=1000)] = []
    up_to: Seq | None = None


class ChangeTickets(Request):
    """A quick change without the editor, on one or several tickets: for each, in one transaction, the server
    takes the lock, applies the change and lets go. A ticket whose lock someone else holds is refused (with the
    holder); the others change. Fields left out stay as they are."""

    ticket_ids: Annotated[list[TicketRef], Meta(min_length=1, max_length=BATCH_MAX)]
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    assignee: uuid.UUID | UnsetType | None = UNSET
    due_at: datetime | UnsetType | None = UNSET
    add_tags: Tags = []
    remove_tags: Tags = []


class ListAccounts(Request):
    """Admins only: every user, disabled ones included."""


class AddUser(Request):
    """Admins only: the same rules as ``lesbillets-server user add``."""

    email: Email
    name: UserName
    password: Password
    role: Role = Role.AGENT

    def __repr__(self) -> str:
        return f"AddUser(rid={self.rid!r}, email={self.email!r}, password='***')"


class SetDisabled(Request):
    """Admins only: disable (ending every session of) or enable a user."""

    user_id: uuid.UUID
    disabled: bool


class ResetPassword(Request):
    """Admins only: set a user's password (ending every session of theirs)."""

    user_id: uuid.UUID
    password: Password

    def __repr__(self) -> str:
        return f"ResetPassword(rid={self.rid!r}, user_id={self.user_id!r}, password='***')"


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
    | GetTicket
    | GetRows
    | AddComment
    | EditComment
    | Search
    | SetPresence
    | GetPresence
    | GetInbox
    | MarkRead
    | ChangeTickets
    | ListAccounts
    | AddUser
    | SetDisabled
    | ResetPassword
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
    comment: Comment | None = None
    """For ``commented`` and ``comment_edited``: the comment as that event left it."""


class History(Reply):
    ticket_id: uuid.UUID
    entries: list[HistoryEntry]


class Ack(Reply):
    ticket: Ticket | None = None
    """The ticket as it stands after a create, lock, renew or update; absent otherwise."""
    comment: Comment | None = None
    """The comment after `AddComment` or `EditComment`."""
    user: User | None = None
    """The user after `AddUser`."""


class TicketDetail(Reply):
    ticket: Ticket
    comments: list[Comment]
    """Oldest first (the newest 1,000)."""
    seq: Seq
    """The last event already reflected here."""


class Rows(Reply):
    """One page of the table (see `GetRows`)."""

    seq: Seq
    users: list[uuid.UUID]
    """The users this page's rows refer to by index."""
    rows: list[Row]
    more: bool
    """Another page follows; the last one has False."""


class SearchResults(Reply):
    hits: list[SearchHit]


class Presence(Reply):
    tickets: list[TicketPresence]


class Inbox(Reply):
    items: list[InboxItem]
    """Newest first."""
    unread: int


class Refusal(_Record):
    ticket_id: uuid.UUID | int
    """The ticket as the request named it."""
    code: ErrorCode
    message: str
    lock: Lock | None = None


class Changed(Reply):
    """The reply to `ChangeTickets`: what changed, and what was refused and why."""

    tickets: list[Ticket]
    refused: list[Refusal]


class Accounts(Reply):
    accounts: list[Account]


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


class CommentAdded(Event):
    comment: Comment


class CommentEdited(Event):
    comment: Comment


TicketEvent = TicketCreated | TicketUpdated | TicketLocked | TicketUnlocked
"""The events that change a ticket's row (what the app's table applies)."""
ServerEvent = TicketEvent | CommentAdded | CommentEdited


# --- server → client: notices ------------------------------------------------------


class SessionEnded(Message):
    """This connection's session is over: it is logged out, gets no more events, and its requests `unauthorized`.

    The last thing the connection receives about the session; the session's locks are already released.
    """

    reason: SessionEndReason
    message: str
    """A sentence to show a person."""


class PresenceChanged(Message):
    """Who has this ticket open changed (sent to every logged-in connection; no seq: presence is not logged)."""

    ticket_id: uuid.UUID
    viewers: list[Viewer]


class InboxChanged(Message):
    """Your inbox changed: a new item (``item``), or items marked read on another connection (``item`` null)."""

    unread: int
    item: InboxItem | None = None


Notice = SessionEnded | PresenceChanged | InboxChanged

ServerMessage = (
    Welcome
    | AllTickets
    | Users
    | History
    | Ack
    | Error
    | TicketDetail
    | Rows
    | SearchResults
    | Presence
    | Inbox
    | Changed
    | Accounts
    | ServerEvent
    | Notice
)

__all__ = [
    "BATCH_MAX",
    "COMMENT_MAX",
    "DESCRIPTION_MAX",
    "EMAIL_MAX",
    "EMAIL_PATTERN",
    "MULTILINE_TEXT",
    "NAME_MAX",
    "ONE_LINE_TEXT",
    "PASSWORD_MAX",
    "QUERY_MAX",
    "RID_MAX",
    "TAGS_MAX",
    "TAG_MAX",
    "TEXT_RULES",
    "TITLE_MAX",
    "TOKEN_MAX",
    "UNSET",
    "Account",
    "Accounts",
    "Ack",
    "AddComment",
    "AddUser",
    "AllTickets",
    "ChangeTickets",
    "Changed",
    "ClientMessage",
    "CloseCode",
    "Comment",
    "CommentAdded",
    "CommentBody",
    "CommentEdited",
    "CreateTicket",
    "Description",
    "EditComment",
    "Email",
    "Epoch",
    "Error",
    "ErrorCode",
    "Event",
    "Fence",
    "FieldChange",
    "GetHistory",
    "GetInbox",
    "GetPresence",
    "GetRows",
    "GetTicket",
    "GetTickets",
    "GetUsers",
    "History",
    "HistoryEntry",
    "HistoryKind",
    "HitField",
    "Inbox",
    "InboxChanged",
    "InboxItem",
    "InboxKind",
    "ListAccounts",
    "Lock",
    "LockTicket",
    "Login",
    "Logout",
    "MarkRead",
    "Message",
    "Notice",
    "Password",
    "Presence",
    "PresenceChanged",
    "Priority",
    "Query",
    "Refusal",
    "RenewLock",
    "Reply",
    "Request",
    "ResetPassword",
    "Resume",
    "Rid",
    "Role",
    "Row",
    "Rows",
    "Search",
    "SearchHit",
    "SearchResults",
    "Seq",
    "ServerEvent",
    "ServerMessage",
    "SessionEndReason",
    "SessionEnded",
    "SetDisabled",
    "SetPresence",
    "Span",
    "Status",
    "Tag",
    "Tags",
    "Ticket",
    "TicketCreated",
    "TicketDetail",
    "TicketEvent",
    "TicketLocked",
    "TicketNumber",
    "TicketPresence",
    "TicketRef",
    "TicketUnlocked",
    "TicketUpdated",
    "Title",
    "Token",
    "UnlockReason",
    "UnlockTicket",
    "UnsetType",
    "UpdateTicket",
    "User",
    "UserName",
    "Users",
    "Viewer",
    "Welcome",
]
