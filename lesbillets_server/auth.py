"""Logins, session tokens and password hashes.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 defaults). A session
token is 32 random bytes handed to the client once; the database keeps only its
SHA-256, so a leaked database does not leak live sessions.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from lesbillets_server.errors import Rejected, UserAdminError
from lesbillets_server.ratelimit import LoginThrottle
from lesbillets_server.storage import Store
from lesbillets_server.storage.records import SessionRecord
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


class Authenticator:
    def __init__(self, store: Store, *, session_ttl: timedelta, throttle: LoginThrottle | None = None) -> None:
        self._store = store
        self._session_ttl = session_ttl
        self._throttle = throttle or LoginThrottle()

    async def login(self, email: str, password: str, now: datetime) -> Session:
        wait = self._throttle.retry_after(email, time.monotonic())
        if wait > 0:
            raise Rejected(
                ErrorCode.RATE_LIMITED, f"Too many failed logins for this account; try again in {math.ceil(wait)} s."
            )
        record = await self._store.user_by_email(email)
        # argon2 takes tens of milliseconds on purpose: off the event loop
        ok = await asyncio.to_thread(verify_password, record.password_hash if record else _DUMMY_HASH, password)
        if record is None or not ok:
            self._throttle.failed(email, time.monotonic())
            raise Rejected(ErrorCode.UNAUTHORIZED, _BAD_LOGIN)
        self._throttle.succeeded(email)
        if record.disabled:
            raise Rejected(ErrorCode.FORBIDDEN, "This account is disabled; ask an admin.")
        token = secrets.token_urlsafe(32)
        session = SessionRecord(id=str(uuid.uuid4()), user_id=record.user.id, expires_at=now + self._session_ttl)
        await self._store.add_session(session, token_hash(token))
        return Session(id=session.id, user=record.user, token=token)

    async def resume(self, token: str, now: datetime) -> Session:
        session = await self._store.session_by_token(token_hash(token))
        if session is None or session.expires_at <= now:
            raise Rejected(ErrorCode.UNAUTHORIZED, "This session has ended; log in again.")
        record = await self._store.user_by_id(session.user_id)
        if record is None or record.disabled:
            raise Rejected(ErrorCode.UNAUTHORIZED, "This account is disabled; ask an admin.")
        return Session(id=session.id, user=record.user, token=token)

    async def logout(self, session_id: str) -> None:
        await self._store.delete_session(session_id)


# --- user administration (the `lesbillets-server user` commands) -------------------


async def add_user(store: Store, email: str, name: str, password: str, role: Role = Role.AGENT) -> User:
    if await store.user_by_email(email) is not None:
        raise UserAdminError(f"A user with the email {email} already exists.")
    user = User(id=uuid.uuid4(), email=email, name=name, role=role)
    await store.add_user(user, hash_password(password))
    return user


async def find_user(store: Store, email: str) -> User:
    record = await store.user_by_email(email)
    if record is None:
        raise UserAdminError(f"No user has the email {email}.")
    return record.user


async def set_password(store: Store, email: str, password: str) -> None:
    user = await find_user(store, email)
    await store.set_password(user.id, hash_password(password))
    await store.delete_sessions_of(user.id)  # a new password ends every session opened with the old one


async def disable_user(store: Store, email: str) -> None:
    user = await find_user(store, email)
    await store.set_disabled(user.id, True)
    await store.delete_sessions_of(user.id)
