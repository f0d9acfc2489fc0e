"""Ticket operations: decide with the board's rules, write through the store's guard, reply once the log has it.

A change is decided on this replica's read model (`Board`), then written by the store in one transaction that
checks the same rule against the database (`Guard`) and appends the event to the log. The event reaches the board
and every connection through the `LogFollower`, in seq order, whichever replica committed it; the reply waits until
it has. When the guard fails (another replica changed the ticket first) the rule runs again on the row as the
database has it, so the refusal names the real holder or version.

Leases are judged on one clock for the whole helpdesk: this machine's clock corrected by the database's offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lesbillets_server import history
from lesbillets_server.board import Actor, Board, too_many_locks
from lesbillets_server.broadcast import Broadcaster
from lesbillets_server.config import ServerConfig
from lesbillets_server.errors import GuardFailed, Rejected, StoreUnavailable
from lesbillets_server.follower import LogFollower
from lesbillets_server.metrics import Metrics
from lesbillets_server.storage import Store
from lesbillets_server.storage.records import LoggedEvent, TicketChange
from lesbillets_server.ticket_fields import QuickChange
from protocol.clock import Clock, utc_now
from protocol.messages import (
    ChangeTickets,
    CreateTicket,
    ErrorCode,
    Event,
    HistoryEntry,
    Refusal,
    Ticket,
    UnlockReason,
    UpdateTicket,
    User,
)

log = logging.getLogger(__name__)

Rule = Callable[[Board, datetime], TicketChange]
MaybeRule = Callable[[Board, datetime], TicketChange | None]
"""A rule that may find nothing to change (None)."""


_CHANGED_MEANWHILE = Rejected(
    ErrorCode.CONFLICT, "The ticket changed on another server while this change was made; try again."
)


_TOO_MUCH_TEXT = Rejected(
    ErrorCode.RATE_LIMITED,
    "The tickets of this quick change hold too much text to send to every agent at once; this one was left as it "
    "was: change it again, with fewer tickets.",
)


def _refusal(ref: uuid.UUID | int, rejected: Rejected) -> Refusal:
    """One ticket of a `ChangeTickets` refused, named as the request named it."""
    return Refusal(ticket_id=ref, code=rejected.code, message=rejected.message, lock=rejected.lock)


class TicketService:
    def __init__(
        self,
        store: Store,
        broadcaster: Broadcaster,
        config: ServerConfig,
        board: Board,
        follower: LogFollower,
        *,
        epoch: str,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self.store = store
        self.broadcaster = broadcaster
        self.config = config
        self.board = board
        self.follower = follower
        self.epoch = epoch
        self.clock = clock
        self.metrics = metrics
        self.replica = uuid.uuid4().hex
        """This process among the servers sharing the database (liveness rows name it)."""
        self._offset = timedelta(0)
        self._live: Counter[str] = Counter()
        """Session id → this replica's connections of it."""
        self._next_trim = datetime.min.replace(tzinfo=UTC)
        self._unreleased: set[str] = set()
        """Ended sessions whose locks could not be released (the database could not be written): the sweeper
        retries."""
        self._last_seen: dict[str, datetime] = {}
        """Sessions whose last connection here dropped, and when: told to the database once, at the next beat."""

    @classmethod
    async def open(
        cls, store: Store, broadcaster: Broadcaster, config: ServerConfig, metrics: Metrics, clock: Clock = utc_now
    ) -> TicketService:
        loaded = await store.load()
        board = Board(
            loaded.tickets,
            loaded.holders,
            lock_ttl=timedelta(seconds=config.lock_ttl_s),
            max_locks=config.max_locks,
        )

        def publish(event: Event) -> None:
            metrics.events_delivered.inc()
            broadcaster.publish(event)

        follower = LogFollower(store, board, publish, seq=loaded.seq)
        service = cls(store, broadcaster, config, board, follower, epoch=loaded.epoch, clock=clock, metrics=metrics)
        metrics.watch(
            connections=lambda: len(broadcaster), locks=board.lock_count, lag=lambda: follower.head - follower.seq
        )
        await service.sync_clock()
        await service.trim_log()  # on start, then hourly
        return service

    def now(self) -> datetime:
        return self.clock() + self._offset

    @property
    def seq(self) -> int:
        return self.follower.seq

    # --- reads: from the read model -------------------------------------------------------------

    def snapshot(self) -> tuple[int, list[Ticket]]:
        """The table exactly as of the follower's seq, from memory (a read never writes): a lease that has run
        out shows with its past `expires_at` until the sweeper's `TicketUnlocked{expired}` follows."""
        return self.follower.seq, list(self.board.tickets.values())

    async def users(self) -> list[User]:
        return [record.user for record in await self.store.list_users() if not record.disabled]

    async def history(self, ticket_id: uuid.UUID) -> list[HistoryEntry]:
        self.board.get(ticket_id)  # not_found for an id that never was
        entries = history.entries(await self.store.history(ticket_id, history.LIMIT + 1))
        return history.newest(entries, history.text_budget(self.config.backlog_bytes))

    # --- changes --------------------------------------------------------------------------------

    async def create(self, request: CreateTicket, actor: Actor) -> Ticket:
        await self._check_assignee(request.assignee)
        now = self.now()
        with self.metrics.commit_seconds.time():
            [event] = await self.store.create_tickets([self.board.create(request, actor, now)], now)
        return await self._delivered(event)

    async def lock(self, ticket_id: uuid.UUID, actor: Actor) -> Ticket:
        return await self._change(lambda board, now: board.lock(ticket_id, actor, now))

    async def renew(self, ticket_id: uuid.UUID, actor: Actor, fence: int | None = None) -> Ticket:
        return await self._change(lambda board, now: board.renew(ticket_id, actor, now, fence))

    async def update(self, request: UpdateTicket, actor: Actor) -> Ticket:
        if isinstance(request.assignee, uuid.UUID):
            await self._check_assignee(request.assignee)
        return await self._change(lambda board, now: board.update(request, actor, now))

    async def unlock(self, ticket_id: uuid.UUID, actor: Actor, *, force: bool) -> None:
        await self._change(lambda board, now: board.unlock(ticket_id, actor, now, force=force))

    async def change_tickets(self, request: ChangeTickets, actor: Actor) -> tuple[list[Ticket], list[Refusal]]:
        """A quick change on each ticket named (each once, however it is named): one guarded transaction each,
        all asked for at once so that they share the group commit. Refusals are reported, not raised."""
        change = QuickChange.of(request)
        if isinstance(change.assignee, uuid.UUID):
            await self._check_assignee(change.assignee)
        named: dict[uuid.UUID, uuid.UUID | int] = {}
        refused: list[Refusal] = []
        for ref in request.ticket_ids:
            try:
                named.setdefault(self.board.resolve(ref), ref)
            except Rejected as rejected:
                refused.append(_refusal(ref, rejected))
        named, too_much = self._within_text_budget(named)
        refused.extend(_refusal(ref, _TOO_MUCH_TEXT) for ref in too_much)
        outcomes = await asyncio.gather(*(self._quick(tid, ref, change, actor) for tid, ref in named.items()))
        changed = [outcome for outcome in outcomes if isinstance(outcome, Ticket)]
        return changed, [*refused, *(outcome for outcome in outcomes if isinstance(outcome, Refusal))]

    def _within_text_budget(
        self, named: dict[uuid.UUID, uuid.UUID | int]
    ) -> tuple[dict[uuid.UUID, uuid.UUID | int], list[uuid.UUID | int]]:
        """The tickets one quick change may change, in the order named, and the refs of those past its budget.

        Each changed ticket goes out whole in an event to every agent at once, and again in the reply: 200 tickets
        of 20,000-character descriptions were 16 MB sent at once, past the backlog every connection may owe, so one
        quick change closed every agent's connection (4000). Half the text budget of a reply keeps the events and
        the reply together under it; the first ticket always fits.
        """
        budget = history.text_budget(self.config.backlog_bytes) // 2
        kept: dict[uuid.UUID, uuid.UUID | int] = {}
        past: list[uuid.UUID | int] = []
        text = 0
        for ticket_id, ref in named.items():
            with contextlib.suppress(Rejected):  # no such ticket: `_quick` refuses it
                ticket = self.board.get(ticket_id)
                text += len(ticket.title) + len(ticket.description) + sum(map(len, ticket.tags))
            if text > budget and kept:
                past.append(ref)
            else:
                kept[ticket_id] = ref
        return kept, past

    async def _quick(
        self, ticket_id: uuid.UUID, ref: uuid.UUID | int, change: QuickChange, actor: Actor
    ) -> Ticket | Refusal:
        try:
            ticket = await self._write(lambda board, now: board.quick_change(ticket_id, change, actor, now))
        except Rejected as rejected:
            return _refusal(ref, rejected)
        except GuardFailed:  # changed by others twice while this was decided: that ticket only is refused
            return _refusal(ref, _CHANGED_MEANWHILE)
        return self.board.get(ticket_id) if ticket is None else ticket

    async def end_session(self, session_id: str) -> None:
        """Logout, or a session ended by an admin: its locks go at once (or, if the database cannot be written
        now, as soon as the sweeper can write it)."""
        self._last_seen.pop(session_id, None)
        try:
            released = await self.store.release_session(session_id, UnlockReason.RELEASED, self.now())
        except StoreUnavailable:
            self._unreleased.add(session_id)
            return
        await self._deliver_all(released)

    async def _change(self, rule: Rule) -> Ticket:
        ticket = await self._write(rule)
        assert ticket is not None  # a `Rule` always changes something
        return ticket

    async def _write(self, rule: MaybeRule) -> Ticket | None:
        """Decide on the read model, write under the guard, reply once delivered; None when the rule found
        nothing to change (nothing written, no event)."""
        now = self.now()
        with self.metrics.commit_seconds.time():
            decided = rule(self.board, now)
            if decided is None:
                return None
            try:
                event = await self.store.change(decided, now)
            except GuardFailed as failed:
                # the database moved on before this replica heard: decide again on the row as it is
                decided = self._decide_again(rule, failed, now)
                if decided is None:
                    return None
                event = await self.store.change(decided, now)
        return await self._delivered(event)

    def _decide_again(self, rule: MaybeRule, failed: GuardFailed, now: datetime) -> TicketChange | None:
        if failed.ticket is None:
            raise Rejected(ErrorCode.NOT_FOUND, "No ticket has that id.")
        if failed.too_many_locks:
            raise too_many_locks(self.config.max_locks)
        holders = {} if failed.holder is None else {failed.ticket.id: failed.holder}
        fresh = Board([failed.ticket], holders, lock_ttl=self.board.lock_ttl, max_locks=self.board.max_locks)
        return rule(fresh, now)  # raises the precise refusal, or the change the database allows now

    async def _delivered(self, event: LoggedEvent) -> Ticket:
        self.metrics.events_committed.inc()
        self.follower.offer([event])
        await self.follower.reached(event.seq)
        assert event.ticket is not None  # a ticket change's event carries the ticket
        return event.ticket

    async def _deliver_all(self, events: list[LoggedEvent]) -> bool:
        """Deliver what a claim released; whether there was anything."""
        if not events:
            return False
        self.metrics.events_committed.inc(len(events))
        self.follower.offer(events)
        await self.follower.reached(events[-1].seq)
        return True

    async def _check_assignee(self, assignee: uuid.UUID | None) -> None:
        if assignee is None:
            return
        record = await self.store.user_by_id(assignee)
        if record is None or record.disabled:
            raise Rejected(ErrorCode.BAD_REQUEST, f"No active user has the id {assignee}.", detail="$.assignee")

    # --- sessions: liveness is shared, so a dropped session keeps its locks while any replica has it -----

    async def attach(self, session_id: str) -> None:
        self._unreleased.discard(session_id)  # resumed before its locks could go: it keeps them
        self._live[session_id] += 1
        self._last_seen.pop(session_id, None)
        if self._live[session_id] == 1:
            # at once, so no replica's grace sweep takes its locks before our next beat; a database that cannot
            # be written now does not stop a Resume (reads go on): the next beat tells it
            with contextlib.suppress(StoreUnavailable):
                await self.store.heartbeat(self.replica, [session_id], self.now())

    def detach(self, session_id: str) -> None:
        self._live[session_id] -= 1
        if self._live[session_id] <= 0:
            del self._live[session_id]
            self._last_seen[session_id] = self.now()

    # --- upkeep: one loop per replica ------------------------------------------------------------

    async def sync_clock(self) -> None:
        self._offset = await self.store.clock_offset()

    async def sweep(self) -> None:
        """Release every lease that has run out (claimed in the write: once, however many replicas sweep), and
        the locks of ended sessions whose release could not be written before. When there was nothing to write,
        check now and then that the database can still be written (for /healthz)."""
        wrote = await self._deliver_all(await self.store.release_expired(self.now()))
        for session_id in list(self._unreleased):
            self._unreleased.discard(session_id)
            await self.end_session(session_id)
            wrote = True
        if not wrote and self.store.health.probe_due(time.monotonic()):
            await self.store.probe()

    async def beat(self) -> None:
        """Tell the database which sessions live here; release the locks of sessions no replica has had for
        the grace period."""
        now = self.now()
        dropped, self._last_seen = self._last_seen, {}
        for session_id, at in dropped.items():
            await self.store.heartbeat(self.replica, [session_id], at)
        await self.store.heartbeat(self.replica, list(self._live), now)
        grace = timedelta(seconds=self.config.lock_grace_s)
        await self._deliver_all(await self.store.release_orphans(now, grace))

    async def watch_head(self) -> None:
        """The safety net under NOTIFY: if the log grew past what this replica delivered, tail it."""
        head = await self.store.head()
        self.follower.head = max(self.follower.head, head)
        if head > self.follower.seq:
            self.follower.poke()

    async def trim_log(self) -> None:
        """Forget events past the retention (`--log-retention`); the tickets themselves stay."""
        now = self.now()
        self._next_trim = now + timedelta(hours=1)
        removed = await self.store.trim_log(now - timedelta(days=self.config.log_retention_days))
        if removed:
            log.info("event log: forgot %d events older than %g days", removed, self.config.log_retention_days)

    async def maintain(self) -> None:
        """Sweep every `sweep_interval_s`; beat every few seconds; resync the clock every minute; trim the log
        hourly. Never returns."""
        interval = self.config.sweep_interval_s
        beat_every = max(1, round(min(5.0, self.config.lock_grace_s / 3) / interval))
        clock_every = max(1, round(60 / interval))
        tick = 0
        while True:
            await asyncio.sleep(interval)
            tick += 1
            jobs = (
                (True, self.sweep),
                (self.store.shared, self.watch_head),
                (tick % beat_every == 0, self.beat),
                (tick % clock_every == 0, self.sync_clock),
                (self.now() >= self._next_trim, self.trim_log),
            )
            for due, job in jobs:
                if due:
                    try:
                        await job()
                    except StoreUnavailable:
                        self.metrics.database_up.set(0)  # the store's health logs the episode, once
                    except Exception:
                        self.metrics.database_up.set(0)
                        log.exception("%s failed; trying again later", job.__name__)
                    else:
                        self.metrics.database_up.set(1)

    async def stop(self) -> None:
        """Shutting down: the sessions connected here were seen until now."""
        with contextlib.suppress(Exception):
            await self.store.heartbeat(self.replica, list(self._live), self.now())
