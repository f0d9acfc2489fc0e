"""`Search`: the query parsed with the app's filter language (protocol/query.py), run by the store's full-text
index, and bounded, since each one is a database query a client can ask for at will.

What one client can make the server spend on searches:

- one search at a time per connection: a connection reads its next request only after replying to this one;
- per user, across all their connections, a budget of search time (`TimeBudget`): by default a quarter of a
  second each second, two seconds banked, so typing in the app (a few cheap searches a second) never notices, and
  a script of expensive searches gets at most a quarter of one database thread;
- each search is stopped by the database at ``search_timeout_s`` (1 s) and answered `bad_request`;
- per server, at most a few searches run at once (SQLite: 2 worker threads; PostgreSQL: 3 pooled connections of
  10, so changes always find one); the others wait their turn, at most one per connection.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from lesbillets_server.errors import Rejected
from lesbillets_server.quota import TimeBudget
from lesbillets_server.storage import Store
from lesbillets_server.storage.fts import SearchTimedOut
from protocol.messages import ErrorCode, SearchHit, User
from protocol.query import parse_query

TOO_BROAD = "This search matches too much to finish in time; add words or qualifiers (status:open, #1042…)."


class Searcher:
    def __init__(
        self,
        store: Store,
        budget: TimeBudget,
        *,
        timeout_s: float,
        users: Callable[[], Awaitable[list[User]]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.budget = budget
        self.timeout_s = timeout_s
        self._users = users
        self._clock = clock

    async def search(self, text: str, limit: int, user: User) -> list[SearchHit]:
        """Hits best first; `Rejected` with a sentence for a query not understood, over budget, or too broad."""
        # `assignee:` may name agents by name or email: only then is the list of users needed
        users = await self._users() if "assignee:" in text.casefold() else []
        parsed = parse_query(text, me=user.id, users=users)
        if parsed.errors:
            raise Rejected(ErrorCode.BAD_REQUEST, " ".join(parsed.errors), detail="$.query")
        started = self._clock()
        reserved = min(self.timeout_s, self.budget.burst_s)
        wait_s = self.budget.take(user.id, reserved, started)
        if wait_s:
            raise Rejected(
                ErrorCode.RATE_LIMITED,
                f"Too many searches: each agent may use {self.budget.share:g} s of search time a second. "
                f"Try again in {max(wait_s, 0.1):.1f} s.",
            )
        try:
            return await self.store.search(parsed.filter, limit, timeout_s=self.timeout_s)
        except SearchTimedOut:
            raise Rejected(ErrorCode.BAD_REQUEST, TOO_BROAD, detail="$.query") from None
        finally:
            ended = self._clock()
            self.budget.give_back(user.id, reserved - (ended - started), ended)
