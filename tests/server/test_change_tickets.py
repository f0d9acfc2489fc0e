"""ChangeTickets over a real websocket: one write per ticket, refused where another agent holds the lock."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone

from lesbillets_server.storage.sqlite import ts
from protocol.messages import (
    Ack,
    Changed,
    ChangeTickets,
    CreateTicket,
    Error,
    ErrorCode,
    Event,
    GetUsers,
    LockTicket,
    Priority,
    Status,
    Ticket,
    TicketCreated,
    TicketLocked,
    TicketUpdated,
    UpdateTicket,
    Users,
)
from tests.conftest import Replicas, ServerFactory
from tests.server.wire import Wire, wire
from tests.support import ALICE, BOB, ServerHarness


async def new(peer: Wire, title: str = "Printer jam", **fields: object) -> Ticket:
    ack = await peer.expect(CreateTicket(rid=peer.rid(), title=title, **fields), Ack)  # type: ignore[arg-type]
    assert ack.ticket is not None
    return ack.ticket


async def events_until_marker(peer: Wire) -> list[Event]:
    """Every event up to the `TicketCreated` of a marker ticket created now: what came before it, in order."""
    marker = await new(peer, "marker")
    seen: list[Event] = []
    while not (isinstance(event := await peer.next_event(), TicketCreated) and event.ticket.id == marker.id):
        seen.append(event)
    return seen


async def change(peer: Wire, refs: list[uuid.UUID | int], **fields: object) -> Changed:
    return await peer.expect(ChangeTickets(rid=peer.rid(), ticket_ids=refs, **fields), Changed)  # type: ignore[arg-type]


async def test_a_free_ticket_changes_with_one_event_and_no_lock(server: ServerHarness) -> None:
    """Nobody holds it: the change is one TicketUpdated (version + 1), with no lock taken or released."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        ticket = await new(alice)
        await events_until_marker(bob)
        await events_until_marker(alice)
        changed = await change(bob, [ticket.id], status=Status.CLOSED, priority=Priority.URGENT)
        assert changed.refused == []
        [after] = changed.tickets
        assert (after.status, after.priority, after.version, after.lock) == (Status.CLOSED, Priority.URGENT, 2, None)
        assert after.number == ticket.number and after.updated_at >= ticket.updated_at
        seen = await events_until_marker(alice)
        assert [type(e) for e in seen] == [TicketUpdated]
        assert isinstance(seen[0], TicketUpdated) and seen[0].ticket == after


async def test_a_lock_i_hold_is_used_and_kept(server: ServerHarness) -> None:
    """The agent holding the lock may quick-change the ticket: it changes and the lock stays theirs."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await new(alice)
        locked = (await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)).ticket
        assert locked is not None and locked.lock is not None
        [after] = (await change(alice, [ticket.number], add_tags=["vpn"])).tickets
        assert (after.tags, after.version, after.lock) == (["vpn"], 2, locked.lock)
        # the editor's next save goes on from the new version, under the same lock
        await alice.expect(UpdateTicket(rid=alice.rid(), ticket_id=ticket.id, version=2, title="VPN"), Ack)


async def test_a_lock_held_by_another_agent_refuses_with_the_holder(server: ServerHarness) -> None:
    """Bob holds the lock: Alice's change is refused `locked`, naming Bob, and nothing is written."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        ticket = await new(alice)
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=ticket.number), Ack)
        await events_until_marker(alice)
        changed = await change(alice, [ticket.number], status=Status.CLOSED)
        assert changed.tickets == []
        [refusal] = changed.refused
        assert (refusal.ticket_id, refusal.code) == (ticket.number, ErrorCode.LOCKED)
        assert BOB.name in refusal.message and refusal.lock is not None and refusal.lock.user_name == BOB.name
        assert await events_until_marker(alice) == []


async def test_a_mixed_batch_changes_what_it_may_and_says_why_not_for_the_rest(server: ServerHarness) -> None:
    """Free, mine, Bob's, an unknown number and an unknown id: two change, three are refused, each as named."""
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=BOB) as bob:
        free, mine, bobs = [await new(alice, title) for title in ("free", "mine", "bobs")]
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=mine.id), Ack)
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=bobs.id), Ack)
        unknown = uuid.uuid4()
        await events_until_marker(alice)
        refs: list[uuid.UUID | int] = [free.number, mine.id, bobs.number, 999, unknown, free.id]
        changed = await change(alice, refs, assignee=None, status=Status.BLOCKED)
        assert [t.id for t in changed.tickets] == [free.id, mine.id]  # free named twice: changed once
        assert all(t.status is Status.BLOCKED and t.version == 2 for t in changed.tickets)
        refused = {r.ticket_id: r.code for r in changed.refused}
        assert refused == {bobs.number: ErrorCode.LOCKED, 999: ErrorCode.NOT_FOUND, unknown: ErrorCode.NOT_FOUND}
        seen = await events_until_marker(alice)
        assert sorted(e.ticket.id for e in seen if isinstance(e, TicketUpdated)) == sorted([free.id, mine.id])
        assert len(seen) == 2


async def test_a_change_that_changes_nothing_succeeds_without_an_event(server: ServerHarness) -> None:
    """The ticket already is as asked: it comes back unchanged (same version) and nobody is told anything."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await new(alice, tags=["vpn"])
        await events_until_marker(alice)
        changed = await change(alice, [ticket.id], status=Status.OPEN, add_tags=["vpn"], remove_tags=["wifi"])
        assert changed.tickets == [ticket] and changed.refused == []
        assert await events_until_marker(alice) == []


async def test_assign_to_me_and_a_due_time(server: ServerHarness) -> None:
    """The morning triage: assign several tickets to oneself and set a due time (kept in UTC), in one request."""
    async with wire(server.url, login=ALICE) as alice:
        users = (await alice.expect(GetUsers(rid=alice.rid()), Users)).users
        me = next(u.id for u in users if u.email == ALICE.email)
        tickets = [await new(alice, f"t{i}") for i in range(3)]
        due = datetime(2026, 12, 1, 17, 0, tzinfo=timezone(timedelta(hours=1)))
        changed = await change(alice, [t.number for t in tickets], assignee=me, due_at=due)
        assert [(t.id, t.assignee, t.due_at) for t in changed.tickets] == [
            (t.id, me, datetime(2026, 12, 1, 16, 0, tzinfo=UTC)) for t in tickets
        ]


async def test_an_inactive_assignee_refuses_the_whole_request(server: ServerHarness) -> None:
    """An assignee who is no active user is bad_request on $.assignee, and no ticket changes."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await new(alice)
        await events_until_marker(alice)
        reply = await alice.request(ChangeTickets(rid=alice.rid(), ticket_ids=[ticket.id], assignee=uuid.uuid4()))
        assert isinstance(reply, Error) and (reply.code, reply.detail) == (ErrorCode.BAD_REQUEST, "$.assignee")
        assert await events_until_marker(alice) == []


async def test_quick_changes_are_counted_per_user(server_factory: ServerFactory) -> None:
    """Past the quota of tickets changed, `rate_limited` with a sentence, whichever connection asks."""
    server = await server_factory(change_rate_per_s=0.01, change_burst=3)
    async with wire(server.url, login=ALICE) as alice, wire(server.url, login=ALICE) as again:
        tickets = [(await new(alice, f"t{i}")).id for i in range(4)]
        too_many = await alice.request(ChangeTickets(rid=alice.rid(), ticket_ids=tickets, status=Status.CLOSED))
        assert isinstance(too_many, Error) and too_many.code is ErrorCode.RATE_LIMITED
        assert "3 at once" in too_many.message
        await change(alice, tickets[:3], status=Status.CLOSED)
        refused = await again.request(ChangeTickets(rid=again.rid(), ticket_ids=tickets[3:], status=Status.CLOSED))
        assert isinstance(refused, Error) and refused.code is ErrorCode.RATE_LIMITED
        assert "Try again in" in refused.message


async def test_a_change_holding_too_much_text_leaves_the_rest_and_nobody_is_closed(
    server_factory: ServerFactory,
) -> None:
    """200 tickets of 20,000 four-byte characters, 16 MB of events at once past the 4 MiB backlog: the change takes
    the first ones up to half the text a reply may carry (262,144 characters) and refuses the others rate_limited;
    the author and an agent reading along stay connected (the author was closed 4000, too far behind)."""
    server = await server_factory(create_rate_per_s=1000.0, create_burst=1000)
    roomy = {"max_size": None}  # as the bundled client: no frame is too big to read
    async with wire(server.url, login=ALICE, **roomy) as alice:
        tickets = [await new(alice, f"Pasted log {n}", description="\U0001f600" * 20_000) for n in range(200)]

        async def read_along() -> list[Event]:
            """Alice reads every event as it comes, up to the ticket Bob creates after his change."""
            seen: list[Event] = []
            while not (isinstance(event := await alice.next_event(), TicketCreated) and event.ticket.title == "after"):
                seen.append(event)
            return seen

        reading = asyncio.create_task(read_along())
        async with wire(server.url, login=BOB, **roomy) as bob:  # after the creations, which he would not read
            changed = await change(bob, [ticket.id for ticket in tickets], priority=Priority.LOW)
            fits = 262_144 // (20_000 + len("Pasted log 10"))
            assert [ticket.id for ticket in changed.tickets] == [ticket.id for ticket in tickets[:fits]]
            assert [refusal.ticket_id for refusal in changed.refused] == [ticket.id for ticket in tickets[fits:]]
            assert {refusal.code for refusal in changed.refused} == {ErrorCode.RATE_LIMITED}
            assert changed.refused[0].message.endswith(".")
            await new(bob, "after")
        seen = await reading
        updated = [event.ticket.id for event in seen if isinstance(event, TicketUpdated)]
        assert updated == [ticket.id for ticket in tickets[:fits]]


async def test_a_lock_on_another_replica_refuses_the_change(replicas: Replicas) -> None:
    """Bob holds the lock through replica B: Alice's quick change on replica A is refused, naming Bob."""
    a, b = await replicas(2)
    async with wire(a.url, login=ALICE) as alice, wire(b.url, login=BOB) as bob:
        ticket = await new(alice)
        assert isinstance(await bob.next_event(), TicketCreated)
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=ticket.number), Ack)
        while not isinstance(await alice.next_event(), TicketLocked):
            pass
        [refusal] = (await change(alice, [ticket.number], status=Status.CLOSED)).refused
        assert refusal.code is ErrorCode.LOCKED and refusal.lock is not None and refusal.lock.user_name == BOB.name
        [after] = (await change(bob, [ticket.number], status=Status.CLOSED)).tickets
        assert after.lock is not None and after.version == 2


def write_behind_the_board(server: ServerHarness, ticket: Ticket, sql: str, *params: object) -> None:
    """Change the ticket's row as another server would, without a log event: this server's board never hears."""
    with sqlite3.connect(server.config.db) as db:
        db.execute(f"UPDATE tickets SET {sql} WHERE id = ?", (*params, str(ticket.id)))


async def test_a_lock_only_the_database_knows_refuses_the_change(server: ServerHarness) -> None:
    """The board thinks the ticket free, the row says Bob holds it: the write's guard fails, the refusal names Bob."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await new(alice)
        until = ts(datetime.now(UTC) + timedelta(minutes=3))
        write_behind_the_board(
            server,
            ticket,
            "lock_user_id = ?, lock_user_name = ?, lock_expires_at = ?, lock_session = ?",
            str(uuid.uuid4()),
            BOB.name,
            until,
            "s-bob",
        )
        [refusal] = (await change(alice, [ticket.id], status=Status.CLOSED)).refused
        assert refusal.code is ErrorCode.LOCKED and refusal.lock is not None and refusal.lock.user_name == BOB.name
        assert BOB.name in refusal.message


async def test_a_change_decided_on_an_old_version_is_decided_again_on_the_new_one(server: ServerHarness) -> None:
    """The row moved on to version 5 unheard: the change is applied on top of it, not over it."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = await new(alice, tags=["vpn"])
        write_behind_the_board(server, ticket, "version = 5, status = 'blocked', tags = ?", '["vpn", "wifi"]')
        [after] = (await change(alice, [ticket.id], priority=Priority.HIGH, remove_tags=["vpn"])).tickets
        assert (after.version, after.status, after.priority, after.tags) == (6, Status.BLOCKED, Priority.HIGH, ["wifi"])
