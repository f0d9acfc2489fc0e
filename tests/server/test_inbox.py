"""The inbox over the wire: assignments, mentions and broken locks land in it, durably, pushed live as
`InboxChanged` on every replica; MarkRead counts down and tells the user's other connections."""

from __future__ import annotations

import uuid

from protocol.client import connect
from protocol.messages import (
    Ack,
    AddComment,
    Changed,
    ChangeTickets,
    CreateTicket,
    GetInbox,
    Inbox,
    InboxKind,
    LockTicket,
    MarkRead,
    Ticket,
    UnlockTicket,
    UpdateTicket,
    User,
)
from tests.conftest import Replicas
from tests.server.wire import Wire, wire
from tests.support import ADMIN, ALICE, BOB, ServerHarness


async def inbox(peer: Wire, *, unread_only: bool = False) -> Inbox:
    return await peer.expect(GetInbox(rid=peer.rid(), unread_only=unread_only), Inbox)


async def create(peer: Wire, title: str = "Printer jams", assignee: uuid.UUID | None = None) -> Ticket:
    ack = await peer.expect(CreateTicket(rid=peer.rid(), title=title, assignee=assignee), Ack)
    assert ack.ticket is not None
    return ack.ticket


async def test_an_assignment_by_a_scripted_agent_lands_in_the_inbox(server: ServerHarness) -> None:
    """Alice's script (the Python client) creates a ticket for Bob and reassigns another to him: Bob's connection
    gets InboxChanged for each, and GetInbox lists both newest first; Alice's inbox stays empty."""
    async with wire(server.url) as bob:
        welcome = await bob.login(BOB)
        async with connect(server.url) as script:
            await script.login(ALICE.email, ALICE.password)
            first = await script.create_ticket("Printer jams", assignee=welcome.user.id)
            pushed = await bob.next_inbox_change()
            assert pushed.unread == 1 and pushed.item is not None
            assert (pushed.item.kind, pushed.item.ticket_id, pushed.item.title) == (
                InboxKind.ASSIGNED,
                first.id,
                "Printer jams",
            )
            assert (pushed.item.actor_name, pushed.item.read) == (ALICE.name, False)
            second = await script.create_ticket("VPN")
            second = await script.lock(second.id)
            second = await script.update_ticket(second.id, second.version, assignee=welcome.user.id)
            await script.unlock(second.id)
            again = await bob.next_inbox_change()
            assert again.unread == 2 and again.item is not None and again.item.ticket_id == second.id
            mine = await script.get_inbox()
            assert mine.items == [] and mine.unread == 0
        listed = await inbox(bob)
        assert [(i.kind, i.ticket_id) for i in listed.items] == [
            (InboxKind.ASSIGNED, second.id),
            (InboxKind.ASSIGNED, first.id),
        ]
        assert listed.unread == 2 and listed.items[0] == again.item


async def test_a_quick_change_that_assigns_lands_in_the_inbox(server: ServerHarness) -> None:
    """ChangeTickets assigning two tickets to Bob (one of them his already) gives him one `assigned` item, for the
    ticket that was not his."""
    async with wire(server.url) as bob, wire(server.url, login=ALICE) as alice:
        bob_id = (await bob.login(BOB)).user.id
        already = await create(alice, "Already Bob's", assignee=bob_id)
        await bob.next_inbox_change()
        other = await create(alice, "Nobody's")
        changed = await alice.expect(
            ChangeTickets(rid=alice.rid(), ticket_ids=[already.id, other.id], assignee=bob_id), Changed
        )
        assert len(changed.tickets) == 2 and changed.refused == []
        pushed = await bob.next_inbox_change()
        assert pushed.item is not None and pushed.item.ticket_id == other.id and pushed.unread == 2
        listed = await inbox(bob)
        assert [i.ticket_id for i in listed.items] == [other.id, already.id]


async def test_assigning_yourself_or_keeping_the_assignee_tells_nobody(server: ServerHarness) -> None:
    """Bob taking a ticket himself, and Alice changing a ticket already Bob's, add nothing to Bob's inbox."""
    async with wire(server.url) as bob, wire(server.url, login=ALICE) as alice:
        bob_id = (await bob.login(BOB)).user.id
        await create(bob, assignee=bob_id)
        ticket = await create(alice, assignee=bob_id)
        await alice.expect(LockTicket(rid=alice.rid(), ticket_id=ticket.id), Ack)
        await alice.expect(UpdateTicket(rid=alice.rid(), ticket_id=ticket.id, version=1, title="Printer on fire"), Ack)
        listed = await inbox(bob)
        assert [i.ticket_id for i in listed.items] == [ticket.id] and listed.unread == 1


async def test_a_mention_lands_in_the_inbox_but_not_the_authors(server: ServerHarness) -> None:
    """Alice names Bob and herself: Bob gets a pushed `mentioned` item with the comment's id; Alice gets none."""
    async with wire(server.url, login=BOB) as bob, wire(server.url, login=ALICE) as alice:
        ticket = await create(alice)
        ack = await alice.expect(
            AddComment(rid=alice.rid(), ticket_id=ticket.id, body="@bob, @alice thinks it is the toner"), Ack
        )
        assert ack.comment is not None
        pushed = await bob.next_inbox_change()
        assert pushed.item is not None
        assert (pushed.item.kind, pushed.item.comment_id, pushed.item.ticket_id, pushed.unread) == (
            InboxKind.MENTIONED,
            ack.comment.id,
            ticket.id,
            1,
        )
        assert (await inbox(alice)).items == []


async def test_a_broken_lock_lands_in_the_holders_inbox(server: ServerHarness) -> None:
    """An admin forces Bob's lock open: Bob gets `lock_broken` naming the admin."""
    async with wire(server.url, login=BOB) as bob, wire(server.url, login=ADMIN) as admin:
        ticket = await create(bob)
        await bob.expect(LockTicket(rid=bob.rid(), ticket_id=ticket.id), Ack)
        await admin.expect(UnlockTicket(rid=admin.rid(), ticket_id=ticket.id, force=True), Ack)
        pushed = await bob.next_inbox_change()
        assert pushed.item is not None
        assert (pushed.item.kind, pushed.item.actor_name, pushed.item.ticket_id) == (
            InboxKind.LOCK_BROKEN,
            ADMIN.name,
            ticket.id,
        )
        assert (await inbox(admin)).items == []


async def test_the_inbox_holds_what_happened_while_offline(server: ServerHarness) -> None:
    """Bob is not connected when Alice assigns him a ticket and mentions him, nor across a restart: at his next
    login the inbox has both, unread."""
    async with wire(server.url) as bob:
        bob_id = (await bob.login(BOB)).user.id
    async with wire(server.url, login=ALICE) as alice:
        ticket = await create(alice, assignee=bob_id)
        await alice.expect(AddComment(rid=alice.rid(), ticket_id=ticket.id, body="@bob see above"), Ack)
    await server.restart()
    async with wire(server.url, login=BOB) as bob:
        listed = await inbox(bob, unread_only=True)
        assert [i.kind for i in listed.items] == [InboxKind.MENTIONED, InboxKind.ASSIGNED]
        assert listed.unread == 2


async def test_mark_read_counts_down_and_tells_the_other_connections(server: ServerHarness) -> None:
    """Bob marks one item read by seq, then the rest with up_to: each Ack is followed by InboxChanged with the
    new count (and no item) on his other connection, not on the one that asked."""
    async with wire(server.url, login=BOB) as bob, wire(server.url, login=BOB) as bob2:
        async with wire(server.url, login=ALICE) as alice:
            ticket = await create(alice)
            for n in range(3):
                await alice.expect(AddComment(rid=alice.rid(), ticket_id=ticket.id, body=f"@bob {n}"), Ack)
        for peer in (bob, bob2):
            for _ in range(3):
                await peer.next_inbox_change()
        items = (await inbox(bob)).items
        await bob.expect(MarkRead(rid=bob.rid(), seqs=[items[0].seq]), Ack)
        told = await bob2.next_inbox_change()
        assert (told.unread, told.item) == (2, None)
        await bob.expect(MarkRead(rid=bob.rid(), up_to=items[1].seq), Ack)
        told = await bob2.next_inbox_change()
        assert (told.unread, told.item) == (0, None)
        assert not bob.inbox_changes
        listed = await inbox(bob2)
        assert listed.unread == 0 and all(i.read for i in listed.items)


async def test_the_inbox_works_across_replicas(replicas: Replicas) -> None:
    """On PostgreSQL, Alice on replica A mentions Bob, who is on replica B: B pushes it to him, and B's GetInbox
    has it; an assignment made on A reaches him on B too."""
    a, b = await replicas(2)
    async with wire(b.url) as bob, wire(a.url, login=ALICE) as alice:
        bob_user: User = (await bob.login(BOB)).user
        ticket = await create(alice)
        await alice.expect(AddComment(rid=alice.rid(), ticket_id=ticket.id, body="@bob over to you"), Ack)
        pushed = await bob.next_inbox_change()
        assert pushed.item is not None and pushed.item.kind is InboxKind.MENTIONED and pushed.unread == 1
        assigned = await create(alice, "Yours", assignee=bob_user.id)
        pushed = await bob.next_inbox_change()
        assert pushed.item is not None and pushed.item.ticket_id == assigned.id and pushed.unread == 2
        listed = await inbox(bob)
        assert [i.kind for i in listed.items] == [InboxKind.ASSIGNED, InboxKind.MENTIONED]
