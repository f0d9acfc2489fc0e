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
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from lesbillets_server.checkpool import CheckPool
from lesbillets_server.errors import Rejected, UserAdminError
from lesbillets_server.ratelimit import LoginRefused, LoginScope, LoginThrottle
from lesbillets_server.store import SessionRecord, Store
from protocol.messages import ErrorCode, Role, User

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
        slot = self._throttle.reserve(email, address, time.monotonic())
        if isinstance(slot, LoginRefused):
            raise Rejected(ErrorCode.RATE_LIMITED, _refusal(slot))
        record = self._store.user_by_email(email)
        password_hash = record.password_hash if record else _DUMMY_HASH
        try:
            ok = await self._pool.run(verify_password, password_hash, password, trusted=slot.trusted)
        except Rejected:  # the pool was full: nothing was checked, so nothing is counted
            self._throttle.cancel(slot, time.monotonic())
            raise
        if record is None or not ok:
            raise Rejected(ErrorCode.UNAUTHORIZED, _BAD_LOGIN)
        self._throttle.succeeded(slot, time.monotonic())
        if record.disabled:
            raise Rejected(ErrorCode.FORBIDDEN, _DISABLED)
        token = secrets.token_urlsafe(32)
        session = SessionRecord(id=str(uuid.uuid4()), user_id=record.user.id, expires_at=now + self._session_ttl)
        if not self._store.add_session(session, token_hash(token), password_hash=password_hash):
            # `user disable` or `user passwd` ran while the password was being checked
            latest = self._store.user_by_id(record.user.id)
            if latest is not None and latest.disabled:
                raise Rejected(ErrorCode.FORBIDDEN, _DISABLED)
            raise Rejected(ErrorCode.UNAUTHORIZED, _BAD_LOGIN)
        return Session(id=session.id, user=record.user, token=token, expires_at=session.expires_at)

    def resume(self, token: str, now: datetime) -> Session:
        session = self._store.session_by_token(token_hash(token))
        if session is None or session.expires_at <= now:
            raise Rejected(ErrorCode.UNAUTHORIZED, "This session has ended; log in again.")
        record = self._store.user_by_id(session.user_id)
        if record is None or record.disabled:
            raise Rejected(ErrorCode.UNAUTHORIZED, _DISABLED)
        return Session(id=session.id, user=record.user, token=token, expires_at=session.expires_at)

    def logout(self, session_id: str) -> None:
        self._store.delete_session(session_id)

    def close(self) -> None:
        self._pool.close()


def _refusal(refused: LoginRefused) -> str:
    wait = math.ceil(refused.retry_after_s)
    if refused.scope is LoginScope.ADDRESS:
        return f"Too many failed logins from your network address; try again in {wait} s."
    return f"Too many failed logins for this account; try again in {wait} s."


# --- user administration (the `lesbillets-server user` commands) -------------------


def add_user(store: Store, email: str, name: str, password: str, role: Role = Role.AGENT) -> User:
    if store.user_by_email(email) is not None:
        raise UserAdminError(f"A user with the email {email} already exists.")
    user = User(id=uuid.uuid4(), email=email, name=name, role=role)
    store.add_user(user, hash_password(password))
    return user


def find_user(store: Store, email: str) -> User:
    record = store.user_by_email(email)
    if record is None:
        raise UserAdminError(f"No user has the email {email}.")
    return record.user


def set_password(store: Store, email: str, password: str) -> None:
    user = find_user(store, email)
    store.set_password(user.id, hash_password(password))
    store.delete_sessions_of(user.id)  # a new password ends every session opened with the old one


def disable_user(store: Store, email: str) -> None:
    user = find_user(store, email)
    store.set_disabled(user.id, True)
    store.delete_sessions_of(user.id)
