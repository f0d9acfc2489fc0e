"""The event log over the wire: resume from a seq, history, fences."""

from __future__ import annotations

import pytest

from protocol.messages import (
    Ack,
    AllTickets,
    CreateTicket,
    Error,
    ErrorCode,
    FieldChange,
    GetHistory,
    GetTickets,
    History,
    HistoryKind,
    LockTicket,
    RenewLock,
    Resume,
    Status,
    TicketCreated,
    UnlockReason,
    UnlockTicket,
    UpdateTicket,
    Welcome,
)
from tests.conftest import ServerFactory
from tests.server.wire import wire
from tests.support import ALICE, BOB, ManualClock, ServerHarness


async def create(peer: object, title: str = "Printer jam") -> Ack:
    from tests.server.wire import Wire

    assert isinstance(peer, Wire)
    return await peer.expect(CreateTicket(rid=peer.rid(), title=title), Ack)


async def test_resume_replays_what_was_missed_then_goes_live(server: ServerHarness) -> None:
    """After missing 5 changes, Resume with last_seq gets exactly those, in order, then live events."""
    async with wire(server.url) as bob:
        welcome = await bob.login(BOB)
        snapshot = await bob.expect(GetTickets(rid=bob.rid()), AllTickets)
    async with wire(server.url, login=ALICE) as alice:
        for n in range(5):
            await create(alice, f"missed {n}")
        async with wire(server.url) as again:
            resumed = await again.expect(
                Resume(rid=again.rid(), token=welcome.token, last_seq=snapshot.seq, epoch=welcome.epoch), Welcome
            )
            assert (resumed.resumed, resumed.seq, resumed.epoch) == (True, snapshot.seq, welcome.epoch)
            await create(alice, "live")
            events = [await again.next_event() for _ in range(6)]
            assert [e.seq for e in events] == list(range(snapshot.seq + 1, snapshot.seq + 7))
            assert [e.ticket.title for e in events if isinstance(e, TicketCreated)] == [
                *(f"missed {n}" for n in range(5)),
                "live",
            ]


async def test_resume_survives_a_restart(server: ServerHarness) -> None:
    """The log is in the database: a resume after a server restart replays from it."""
    async with wire(server.url) as bob:
        welcome = await bob.login(BOB)
        await create(bob, "before")
    async with wire(server.url, login=ALICE) as alice:
        await create(alice, "while away")
    await server.restart()
    async with wire(server.url) as again:
        resumed = await again.expect(
            Resume(rid=again.rid(), token=welcome.token, last_seq=welcome.seq + 1, epoch=welcome.epoch), Welcome
        )
        assert resumed.resumed
        event = await again.next_event()
        assert isinstance(event, TicketCreated) and event.ticket.title == "while away"
        assert event.seq == welcome.seq + 2


@pytest.mark.parametrize(
    ("case", "last_seq", "epoch"),
    [
        ("another epoch", 0, "not-this-log"),
        ("a seq from the future", 10_000, None),
        ("no last_seq", None, None),
    ],
)
async def test_resume_that_cannot_replay_asks_for_a_snapshot(
    server: ServerHarness, case: str, last_seq: int | None, epoch: str | None
) -> None:
    """A seq from another log, one the log never reached, or none: resumed is false, live events follow the head."""
    async with wire(server.url) as bob:
        welcome = await bob.login(BOB)
        await create(bob)
    async with wire(server.url) as again:
        sent_epoch = welcome.epoch if epoch is None else epoch
        reply = await again.expect(
            Resume(rid=again.rid(), token=welcome.token, last_seq=last_seq, epoch=sent_epoch), Welcome
        )
        assert not reply.resumed, case
        assert reply.seq == welcome.seq + 1
        await create(again, "next")
        assert (await again.next_event()).seq == reply.seq + 1


async def test_history_lists_each_change_field_by_field(server: ServerHarness) -> None:
    """GetHistory returns created, locked, updated (with old and new values) and unlocked, oldest first."""
    async with wire(server.url, login=ALICE) as alice:
        ticket = (await create(alice)).ticket
        assert ticket is not None
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        await alice.expect(RenewLock(rid=alice.rid(), ticket_id=ticket.id), Ack)
        await alice.expect(
            UpdateTicket(rid=alice.rid(), ticket_id=ticket.id, version=1, status=Status.BLOCKED, title="Jam"), Ack
        )
        await alice.expect(UnlockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        history = await alice.expect(GetHistory(rid=alice.rid(), ticket_id=ticket.id), History)
    kinds = [entry.kind for entry in history.entries]
    assert kinds == [HistoryKind.CREATED, HistoryKind.LOCKED, HistoryKind.UPDATED, HistoryKind.UNLOCKED]
    assert history.entries[2].changes == [
        FieldChange(field="title", old="Printer jam", new="Jam"),
        FieldChange(field="status", old="open", new="blocked"),
    ]
    assert history.entries[3].reason is UnlockReason.RELEASED
    assert {entry.actor for entry in history.entries} == {ticket.created_by}


async def test_history_of_an_unknown_ticket_is_not_found(server: ServerHarness) -> None:
    """GetHistory for an id no ticket has is `not_found`."""
    import uuid

    async with wire(server.url, login=ALICE) as alice:
        reply = await alice.request(GetHistory(rid=alice.rid(), ticket_id=uuid.uuid4()))
        assert isinstance(reply, Error) and reply.code is ErrorCode.NOT_FOUND


async def test_a_change_under_an_older_grant_is_refused(server_factory: ServerFactory) -> None:
    """Alice's second tab still holds fence 1 after she re-locked (fence 2): its update is refused."""
    server = await server_factory()
    async with wire(server.url, login=ALICE) as alice:
        ticket = (await create(alice)).ticket
        assert ticket is not None
        first = await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        await alice.expect(UnlockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        second = await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        assert first.ticket is not None and first.ticket.lock is not None
        assert second.ticket is not None and second.ticket.lock is not None
        assert second.ticket.lock.fence > first.ticket.lock.fence
        stale = await alice.request(
            UpdateTicket(rid=alice.rid(), ticket_id=ticket.id, version=1, title="x", fence=first.ticket.lock.fence)
        )
        assert isinstance(stale, Error) and (stale.code, stale.detail) == (ErrorCode.NOT_LOCK_HOLDER, "$.fence")
        fresh = await alice.expect(
            UpdateTicket(rid=alice.rid(), ticket_id=ticket.id, version=1, title="y", fence=second.ticket.lock.fence),
            Ack,
        )
        assert fresh.ticket is not None and fresh.ticket.title == "y"


async def test_past_the_retention_a_resume_falls_back_to_a_snapshot(server_factory: ServerFactory) -> None:
    """Events older than --log-retention are forgotten (on start, then hourly): resuming from before them, or
    reading their history, no longer finds them."""
    clock = ManualClock()
    server = await server_factory(clock=clock, log_retention_days=1)
    async with wire(server.url) as bob:
        welcome = await bob.login(BOB)
        old = (await create(bob, "old")).ticket
        assert old is not None
    clock.advance(2 * 24 * 3600)
    await server.restart()
    async with wire(server.url) as again:
        reply = await again.expect(
            Resume(rid=again.rid(), token=welcome.token, last_seq=welcome.seq, epoch=welcome.epoch), Welcome
        )
        assert not reply.resumed and reply.seq == welcome.seq + 1
        history = await again.expect(GetHistory(rid=again.rid(), ticket_id=old.id), History)
        assert history.entries == []
        tickets = await again.expect(GetTickets(rid=again.rid()), AllTickets)
        assert [t.title for t in tickets.tickets] == ["old"]  # the ticket itself stays
