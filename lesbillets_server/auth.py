"""Logins, session tokens and password hashes.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 defaults). A session
token is 32 random bytes handed to the client once; the database keeps only its
SHA-256, so a leaked database does not leak live sessions.

A login first takes an allowance from the `LoginThrottle` (before any work, so
parallel guesses are counted like sequential ones), then queues its password
check on the `CheckPool` (a few threads, a bounded queue): a flood of logins
costs at most that pool's threads and memory, and is answered `rate_limited`.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from lesbillets_server.checkpool import CheckPool
from lesbillets_server.errors import Rejected, UserAdminError
from lesbillets_server.ratelimit import LoginRefused, LoginScope, LoginThrottle
from lesbillets_server.storage import Store
from lesbillets_server.storage.records import SessionRecord
from protocol.codec import follows
from protocol.messages import PASSWORD_MAX, Email, ErrorCode, Role, User, UserName

_hasher = PasswordHasher()
# Verifying against this when the email is unknown makes both failures take as long.
_DUMMY_HASH = _hasher.hash("not a password anyone has")

_BAD_LOGIN = "The email or password is wrong."


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    user: User
    token: str | None
    """Only set right after `Login`, when it goes to the client; never stored."""
    expires_at: datetime


_DISABLED = "This account is disabled; ask an admin."


class Authenticator:
    def __init__(
        self,
        store: Store,
        *,
        session_ttl: timedelta,
        throttle: LoginThrottle | None = None,
        pool: CheckPool | None = None,
    ) -> None:
        self._store = store
        self._session_ttl = session_ttl
        self._throttle = LoginThrottle() if throttle is None else throttle
        self._pool = CheckPool(workers=1, queue=4, reserved=4) if pool is None else pool

    async def login(self, email: str, password: str, now: datetime, *, address: str) -> Session:
        """`address` is the client's, as `ratelimit.address_key` gives it."""
        slot = await self._throttle.reserve(email, address, now.timestamp())
        if isinstance(slot, LoginRefused):
            raise Rejected(ErrorCode.RATE_LIMITED, _refusal(slot))
        record = await self._store.user_by_email(email)
        password_hash = record.password_hash if record else _DUMMY_HASH
        try:
            ok = await self._pool.run(verify_password, password_hash, password, trusted=slot.trusted)
        except Rejected:  # the pool was full: nothing was checked, so nothing is counted
            await self._throttle.cancel(slot, now.timestamp())
            raise
        if record is None or not ok:
            raise Rejected(ErrorCode.UNAUTHORIZED, _BAD_LOGIN)
        await self._throttle.succeeded(slot, now.timestamp())
        if record.disabled:
            raise Rejected(ErrorCode.FORBIDDEN, _DISABLED)
        token = secrets.token_urlsafe(32)
        session = SessionRecord(id=str(uuid.uuid4()), user_id=record.user.id, expires_at=now + self._session_ttl)
        if not await self._store.add_session(session, token_hash(token), password_hash=password_hash):
            # `user disable` or `user passwd` ran while the password was being checked
            latest = await self._store.user_by_id(record.user.id)
            if latest is not None and latest.disabled:
                raise Rejected(ErrorCode.FORBIDDEN, _DISABLED)
            raise Rejected(ErrorCode.UNAUTHORIZED, _BAD_LOGIN)
        return Session(id=session.id, user=record.user, token=token, expires_at=session.expires_at)

    async def resume(self, token: str, now: datetime) -> Session:
        session = await self._store.session_by_token(token_hash(token))
        if session is None or session.expires_at <= now:
            raise Rejected(ErrorCode.UNAUTHORIZED, "This session has ended; log in again.")
        record = await self._store.user_by_id(session.user_id)
        if record is None or record.disabled:
            raise Rejected(ErrorCode.UNAUTHORIZED, _DISABLED)
        return Session(id=session.id, user=record.user, token=token, expires_at=session.expires_at)

    async def logout(self, session_id: str) -> None:
        await self._store.delete_session(session_id)

    async def hash(self, password: str) -> str:
        """A new password's hash, computed on the check pool like a login's check (never on the loop); an
        admin's request is trusted, so a login flood does not keep it waiting behind the flood."""
        return await self._pool.run(hash_password, password, trusted=True)

    def close(self) -> None:
        self._pool.close()


def _refusal(refused: LoginRefused) -> str:
    wait = math.ceil(refused.retry_after_s)
    if refused.scope is LoginScope.ADDRESS:
        return f"Too many failed logins from your network address; try again in {wait} s."
    return f"Too many failed logins for this account; try again in {wait} s."


# --- user administration: one set of rules for `lesbillets-server user …` and the admin requests ---------------

Hasher = Callable[[str], Awaitable[str]]
"""Turns a password into its stored hash: inline for the CLI, on the `CheckPool` for a running server."""


async def hash_here(password: str) -> str:
    return hash_password(password)


def checked_email(email: str) -> str:
    if not follows(Email, email):
        raise UserAdminError(f"{email!r} is not an email address.", detail="$.email")
    return email


def checked_name(name: str) -> str:
    """The name as it is kept: without surrounding spaces."""
    if not follows(UserName, name.strip()):
        raise UserAdminError(
            "The name must be 1 to 100 characters on one line, without control characters.", detail="$.name"
        )
    return name.strip()


def checked_password(password: str) -> str:
    if not password:
        raise UserAdminError("The password must not be empty.", detail="$.password")
    if len(password) > PASSWORD_MAX:
        raise UserAdminError(f"The password must be at most {PASSWORD_MAX} characters.", detail="$.password")
    return password


async def add_user(
    store: Store, email: str, name: str, password: str, role: Role = Role.AGENT, *, hasher: Hasher = hash_here
) -> User:
    email, name, password = checked_email(email), checked_name(name), checked_password(password)
    if await store.user_by_email(email) is not None:
        raise _taken(email)
    user = User(id=uuid.uuid4(), email=email, name=name, role=role)
    password_hash = await hasher(password)
    try:
        await store.add_user(user, password_hash)
    except Exception:
        if await store.user_by_email(email) is not None:  # added by someone else while the hash was computed
            raise _taken(email) from None
        raise
    return user


def _taken(email: str) -> UserAdminError:
    return UserAdminError(f"A user with the email {email} already exists.", ErrorCode.CONFLICT, detail="$.email")


async def find_user(store: Store, email: str) -> User:
    record = await store.user_by_email(email)
    if record is None:
        raise UserAdminError(f"No user has the email {email}.", ErrorCode.NOT_FOUND)
    return record.user


async def user_with_id(store: Store, user_id: uuid.UUID) -> User:
    record = await store.user_by_id(user_id)
    if record is None:
        raise UserAdminError(f"No user has the id {user_id}.", ErrorCode.NOT_FOUND, detail="$.user_id")
    return record.user


async def reset_password(store: Store, user: User, password: str, *, hasher: Hasher = hash_here) -> None:
    password_hash = await hasher(checked_password(password))
    await store.set_password(user.id, password_hash)
    await store.delete_sessions_of(user.id)  # a new password ends every session opened with the old one


async def set_user_disabled(store: Store, user: User, disabled: bool) -> None:
    """Disabling ends every session of the user (servers then release their locks); enabling lets them log in."""
    await store.set_disabled(user.id, disabled)
    if disabled:
        await store.delete_sessions_of(user.id)


async def set_password(store: Store, email: str, password: str) -> None:
    await reset_password(store, await find_user(store, email), password)


async def disable_user(store: Store, email: str) -> None:
    await set_user_disabled(store, await find_user(store, email), True)
