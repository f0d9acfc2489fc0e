"""Lock and version rules, without an event loop or a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lesbillets_server.board import Actor, Board
from lesbillets_server.errors import Rejected
from lesbillets_server.storage.records import EventKind, Guard, with_fence
from protocol.messages import CreateTicket, ErrorCode, Role, Status, UnlockReason, UpdateTicket, User

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=180)


def user(name: str, role: Role = Role.AGENT) -> User:
    return User(id=uuid.uuid4(), email=f"{name}@example.com", name=name, role=role)


ALICE = Actor(user("alice"), "s-alice")
ALICE_ELSEWHERE = Actor(ALICE.user, "s-alice-2")
BOB = Actor(user("bob"), "s-bob")
ADMIN = Actor(user("admin", Role.ADMIN), "s-admin")


def board_with_ticket(max_locks: int = 5) -> tuple[Board, uuid.UUID]:
    board = Board([], {}, lock_ttl=TTL, max_locks=max_locks)
    ticket = board.create(CreateTicket(rid=1, title="Printer"), ALICE, T0)
    board.apply(ticket, None)
    return board, ticket.id


def locked(board: Board, tid: uuid.UUID, actor: Actor, now: datetime = T0) -> None:
    change = board.lock(tid, actor, now)
    board.apply(change.ticket, change.holder)


def test_create_starts_at_version_one_unlocked() -> None:
    """A new ticket has version 1, no lock, and its author as creator and updater."""
    board, tid = board_with_ticket()
    ticket = board.get(tid)
    assert (ticket.version, ticket.lock) == (1, None)
    assert ticket.created_by == ticket.updated_by == ALICE.user.id


def test_lock_sets_holder_and_lease() -> None:
    """Locking names the user and expires one TTL later."""
    board, tid = board_with_ticket()
    ticket = board.lock(tid, ALICE, T0).ticket
    assert ticket.lock is not None
    assert (ticket.lock.user_name, ticket.lock.expires_at) == ("alice", T0 + TTL)


@pytest.mark.parametrize(
    ("contender", "message_part"),
    [(BOB, "alice"), (ALICE_ELSEWHERE, "you, in another session")],
)
def test_lock_held_elsewhere_is_refused(contender: Actor, message_part: str) -> None:
    """A second session gets `locked`, naming the holder, and the board is unchanged."""
    board, tid = board_with_ticket()
    locked(board, tid, ALICE)
    before = board.get(tid)
    with pytest.raises(Rejected) as caught:
        board.lock(tid, contender, T0)
    assert caught.value.code is ErrorCode.LOCKED
    assert message_part in caught.value.message
    assert caught.value.lock == before.lock
    assert board.get(tid) == before


def test_relock_by_holder_extends() -> None:
    """The holder locking again just moves the lease on."""
    board, tid = board_with_ticket()
    locked(board, tid, ALICE)
    later = T0 + timedelta(seconds=60)
    lock = board.lock(tid, ALICE, later).ticket.lock
    assert lock is not None and lock.expires_at == later + TTL


def test_max_locks_per_user() -> None:
    """Past max_locks a user gets `forbidden` until they unlock one."""
    board = Board([], {}, lock_ttl=TTL, max_locks=2)
    ids = []
    for n in range(3):
        ticket = board.create(CreateTicket(rid=n, title=f"t{n}"), ALICE, T0)
        board.apply(ticket, None)
        ids.append(ticket.id)
    locked(board, ids[0], ALICE)
    locked(board, ids[1], ALICE_ELSEWHERE)
    with pytest.raises(Rejected) as caught:
        board.lock(ids[2], ALICE, T0)
    assert caught.value.code is ErrorCode.FORBIDDEN


def test_update_needs_lock_and_version() -> None:
    """Update succeeds for the holder at the current version and bumps it."""
    board, tid = board_with_ticket()
    locked(board, tid, ALICE)
    ticket = board.update(UpdateTicket(rid=2, ticket_id=tid, version=1, status=Status.CLOSED), ALICE, T0).ticket
    assert (ticket.version, ticket.status, ticket.title) == (2, Status.CLOSED, "Printer")


@pytest.mark.parametrize(
    ("holder", "actor", "version", "code"),
    [
        (None, ALICE, 1, ErrorCode.NOT_LOCK_HOLDER),
        (BOB, ALICE, 1, ErrorCode.NOT_LOCK_HOLDER),
        (ALICE, ALICE_ELSEWHERE, 1, ErrorCode.NOT_LOCK_HOLDER),
        (ALICE, ALICE, 7, ErrorCode.CONFLICT),
    ],
)
def test_update_refusals(holder: Actor | None, actor: Actor, version: int, code: ErrorCode) -> None:
    """Update without the lock, from another session, or at a stale version is refused."""
    board, tid = board_with_ticket()
    if holder is not None:
        locked(board, tid, holder)
    before = board.get(tid)
    with pytest.raises(Rejected) as caught:
        board.update(UpdateTicket(rid=2, ticket_id=tid, version=version, title="new"), actor, T0)
    assert caught.value.code is code
    assert board.get(tid) == before


def test_update_with_no_field_is_bad_request() -> None:
    """An update that changes nothing is refused rather than bumping the version."""
    board, tid = board_with_ticket()
    locked(board, tid, ALICE)
    with pytest.raises(Rejected) as caught:
        board.update(UpdateTicket(rid=2, ticket_id=tid, version=1), ALICE, T0)
    assert caught.value.code is ErrorCode.BAD_REQUEST


@pytest.mark.parametrize(
    ("actor", "force", "result"),
    [
        (ALICE, False, UnlockReason.RELEASED),
        (ALICE, True, UnlockReason.RELEASED),
        (ADMIN, True, UnlockReason.BROKEN),
        (BOB, False, ErrorCode.NOT_LOCK_HOLDER),
        (BOB, True, ErrorCode.FORBIDDEN),
        (ADMIN, False, ErrorCode.NOT_LOCK_HOLDER),
    ],
)
def test_unlock_rules(actor: Actor, force: bool, result: UnlockReason | ErrorCode) -> None:
    """The holder releases, an admin forces (broken), anyone else is refused."""
    board, tid = board_with_ticket()
    locked(board, tid, ALICE)
    if isinstance(result, UnlockReason):
        change = board.unlock(tid, actor, T0, force=force)
        ticket, reason = change.ticket, change.reason
        assert (ticket.lock, reason) == (None, result)
    else:
        with pytest.raises(Rejected) as caught:
            board.unlock(tid, actor, T0, force=force)
        assert caught.value.code is result


def test_force_unlock_of_unlocked_ticket() -> None:
    """Forcing a ticket nobody holds is `not_lock_holder`, not a silent success."""
    board, tid = board_with_ticket()
    with pytest.raises(Rejected) as caught:
        board.unlock(tid, ADMIN, T0, force=True)
    assert caught.value.code is ErrorCode.NOT_LOCK_HOLDER


def test_expired_lists_only_lapsed_leases() -> None:
    """A lease is expired from its expiry instant on, not before."""
    board, tid = board_with_ticket()
    locked(board, tid, ALICE)
    assert board.expired(T0 + TTL - timedelta(microseconds=1)) == []
    assert board.expired(T0 + TTL) == [tid]


def test_unknown_ticket_is_not_found() -> None:
    """Every rule answers `not_found` for an id that does not exist."""
    board, _ = board_with_ticket()
    with pytest.raises(Rejected) as caught:
        board.lock(uuid.uuid4(), ALICE, T0)
    assert caught.value.code is ErrorCode.NOT_FOUND


def test_each_rule_guards_its_write_with_what_it_decided_on() -> None:
    """The change carries the guard the database must check: free lease, holder and fence, version."""
    board, tid = board_with_ticket(max_locks=3)
    grant = board.lock(tid, ALICE, T0)
    assert (grant.guard, grant.grant, grant.kind) == (Guard(free=True, max_locks=3), True, EventKind.LOCKED)
    board.apply(with_fence(grant.ticket, 4), grant.holder)
    held = Guard(holder=ALICE.session_id, fence=4)
    assert board.lock(tid, ALICE, T0).guard == held  # locking again extends
    assert board.renew(tid, ALICE, T0).guard == held
    update = board.update(UpdateTicket(rid=1, ticket_id=tid, version=1, title="x"), ALICE, T0)
    assert update.guard == Guard(version=1, holder=ALICE.session_id, fence=4)
    assert board.unlock(tid, ALICE, T0, force=False).guard == Guard(holder=ALICE.session_id, live=False)
    assert board.unlock(tid, ADMIN, T0, force=True).guard == Guard(locked=True)


def test_a_lapsed_lease_holds_nothing_before_the_sweep() -> None:
    """Past its end a lease lets another session lock, and tells its holder it expired."""
    board, tid = board_with_ticket()
    locked(board, tid, ALICE)
    later = T0 + TTL
    assert board.lock(tid, BOB, later).guard.free
    with pytest.raises(Rejected, match="expired"):
        board.update(UpdateTicket(rid=1, ticket_id=tid, version=1, title="late"), ALICE, later)
    assert board.unlock(tid, ALICE, later, force=False).reason is UnlockReason.RELEASED


def test_a_stale_fence_is_refused() -> None:
    """A change sent under an older grant of the lock is not_lock_holder, naming the fence."""
    board, tid = board_with_ticket()
    change = board.lock(tid, ALICE, T0)
    board.apply(with_fence(change.ticket, 2), change.holder)
    with pytest.raises(Rejected) as caught:
        board.update(UpdateTicket(rid=1, ticket_id=tid, version=1, title="x", fence=1), ALICE, T0)
    assert (caught.value.code, caught.value.detail) == (ErrorCode.NOT_LOCK_HOLDER, "$.fence")
    assert board.renew(tid, ALICE, T0, fence=2).guard.fence == 2
