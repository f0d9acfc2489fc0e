"""The admin requests: `ListAccounts`, `AddUser`, `SetDisabled`, `ResetPassword`, for admins only.

The rules are the CLI's (`lesbillets-server user …`), the same functions in `auth`: the email unique (`conflict`),
the name's and password's rules, a new password or a disabled account ending every session of the user. Those
sessions then end on every replica the way they do after the CLI: each server's `SessionWatch` sees the session
generation move, releases their locks and sends their connections `SessionEnded`. Passwords are hashed on the
login check pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging

from lesbillets_server.auth import Authenticator, add_user, reset_password, set_user_disabled, user_with_id
from lesbillets_server.board import Actor
from lesbillets_server.errors import Rejected
from lesbillets_server.storage import Store
from protocol.messages import (
    Account,
    Accounts,
    Ack,
    AddUser,
    ErrorCode,
    ListAccounts,
    ResetPassword,
    Role,
    SetDisabled,
)

log = logging.getLogger(__name__)

AdminRequest = ListAccounts | AddUser | SetDisabled | ResetPassword


class AccountAdmin:
    def __init__(self, store: Store, auth: Authenticator) -> None:
        self._store = store
        self._auth = auth
        self._disabling = asyncio.Lock()
        """`SetDisabled` requests run one after another on this server, each checking its admin inside: two admins
        disabling each other at the same moment left both disabled (both checks ran before either write). The
        others need no turn: one that passed its check a moment before its admin was disabled did what that admin
        could do a moment earlier, and a turn would queue password hashes here, unbounded, in front of the check
        pool's own bounded queue."""

    async def handle(self, message: AdminRequest, actor: Actor) -> Accounts | Ack:
        if not actor.is_admin:
            raise Rejected(ErrorCode.FORBIDDEN, "Only an admin may manage accounts.")
        if isinstance(message, SetDisabled):
            async with self._disabling:
                return await self._handle(message, actor)
        return await self._handle(message, actor)

    async def _handle(self, message: AdminRequest, actor: Actor) -> Accounts | Ack:
        store, admin = self._store, actor.user.email
        # the session may outlive its account by up to the session watch's interval: read the account itself, or
        # an admin disabled by another could still re-enable themselves, or disable the one who disabled them
        record = await store.user_by_id(actor.user.id)
        if record is None or record.disabled or record.user.role is not Role.ADMIN:
            raise Rejected(ErrorCode.FORBIDDEN, "This account was disabled; it may no longer manage accounts.")
        match message:
            case ListAccounts(rid=rid):
                records = await store.list_users()
                return Accounts(rid=rid, accounts=[Account(user=r.user, disabled=r.disabled) for r in records])
            case AddUser(rid=rid, email=email, name=name, password=password, role=role):
                user = await add_user(store, email, name, password, role, hasher=self._auth.hash)
                log.info("%s added the user %s (%s)", admin, user.email, user.role.value)
                return Ack(rid=rid, user=user)
            case SetDisabled(rid=rid, user_id=user_id, disabled=disabled):
                if disabled and user_id == actor.user.id:
                    raise Rejected(ErrorCode.BAD_REQUEST, "You cannot disable your own account.", detail="$.user_id")
                user = await user_with_id(store, user_id)
                await set_user_disabled(store, user, disabled)
                log.info("%s %s the user %s", admin, "disabled" if disabled else "enabled", user.email)
                return Ack(rid=rid)
            case ResetPassword(rid=rid, user_id=user_id, password=password):
                user = await user_with_id(store, user_id)
                await reset_password(store, user, password, hasher=self._auth.hash)
                log.info("%s reset the password of %s", admin, user.email)
                return Ack(rid=rid)
