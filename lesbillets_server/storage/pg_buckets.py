"""Login allowances in PostgreSQL, shared by every replica: one atomic statement takes an allowance.

Times are seconds on the helpdesk's clock (each replica's clock corrected by the database's offset). Rows of
buckets that have long refilled are deleted with the hourly session purge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesbillets_server.ratelimit import Rule

if TYPE_CHECKING:
    from lesbillets_server.storage.postgres import PostgresStore

_TAKE = """
INSERT INTO login_allowances AS a (name, key, tokens, at) VALUES (%(name)s, %(key)s, %(burst)s - 1, %(now)s)
ON CONFLICT (name, key) DO UPDATE
    SET tokens = LEAST(%(burst)s, a.tokens + GREATEST(0, excluded.at - a.at) * %(per_s)s) - 1, at = excluded.at
    WHERE LEAST(%(burst)s, a.tokens + GREATEST(0, excluded.at - a.at) * %(per_s)s) >= 1
RETURNING tokens
"""
_TOKENS = """
SELECT LEAST(%(burst)s, tokens + GREATEST(0, %(now)s - at) * %(per_s)s) FROM login_allowances
WHERE name = %(name)s AND key = %(key)s
"""
_GIVE_BACK = """
UPDATE login_allowances SET tokens = LEAST(%(burst)s, tokens + GREATEST(0, %(now)s - at) * %(per_s)s + 1), at = %(now)s
WHERE name = %(name)s AND key = %(key)s
"""
_TRUST = """
INSERT INTO login_trust (pair, until) VALUES (%(pair)s, %(until)s)
ON CONFLICT (pair) DO UPDATE SET until = GREATEST(login_trust.until, excluded.until)
"""
FORGET_AFTER_S = 24 * 3600.0
"""Every rule refills within a day: older rows say nothing a missing row does not."""


class PgBuckets:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def take(self, table: str, key: str, rule: Rule, now: float) -> float:
        params = {"name": table, "key": key, "burst": float(rule.burst), "per_s": rule.per_s, "now": now}
        async with self._store.writing() as conn:
            if await (await conn.execute(_TAKE, params)).fetchone() is not None:
                return 0.0
            row = await (await conn.execute(_TOKENS, params)).fetchone()
        tokens = rule.burst if row is None else float(row[0])
        return max(0.0, 1.0 - tokens) / rule.per_s

    async def give_back(self, table: str, key: str, rule: Rule, now: float) -> None:
        params = {"name": table, "key": key, "burst": float(rule.burst), "per_s": rule.per_s, "now": now}
        async with self._store.writing() as conn:
            await conn.execute(_GIVE_BACK, params)

    async def trusted_until(self, pair: str) -> float | None:
        async with self._store.reading() as conn:
            row = await (await conn.execute("SELECT until FROM login_trust WHERE pair = %s", (pair,))).fetchone()
        return None if row is None else float(row[0])

    async def trust(self, pair: str, until: float) -> None:
        async with self._store.writing() as conn:
            await conn.execute(_TRUST, {"pair": pair, "until": until})
