"""The hostile section's rows and run lines: the honest client with vs without each attack, and what it did."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final

from bench.honest import Honest, Latencies
from bench.report import Row, Target

WITHIN_TWICE: Final = Target("ratio", "<=", 2.0, "≤ 2 times without")


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    without: Honest
    under: Honest
    attack: dict[str, Any]
    stopped_early: str
    peak_rss: tuple[int, int]
    """Server VmHWM in bytes: (before the attack, after it)."""
    log_rate: tuple[float, float]
    """Server log bytes a second: (during the measurement without, during the attack)."""
    log_written: int
    """Server log bytes written from the attack's start to its end."""
    fds: tuple[int, int]
    """(open file descriptors at the end of the attack, the server's limit)."""
    after: str
    """The victim's own login after the attack (guessing only)."""
    seconds: float
    """How long the whole scenario took, server start to stop."""


def _line(name: str, phase: str, measured: Honest) -> str:
    return (
        f"hostile {name:16} {phase:7} login {measured.logins.summary()} | GetUsers {measured.get_users.summary()}"
        f" | lock+update+unlock {measured.rounds.summary()}"
    )


def rows_for(outcome: Outcome, title: str, details: list[str]) -> list[Row]:
    """Three rows with the 2-times target (honest login, GetUsers, lock round; p95), the attack's own, run lines."""
    label = f"hostile, {title}"
    pairs: list[tuple[str, Latencies, Latencies]] = [
        ("honest login", outcome.under.logins, outcome.without.logins),
        ("honest GetUsers", outcome.under.get_users, outcome.without.get_users),
        ("honest lock+update+unlock", outcome.under.rounds, outcome.without.rounds),
    ]
    rows = []
    for what, under, without in pairs:
        note = f"({under.failed} of {under.failed + len(under.ms)} failed)" if under.failed else ""
        failed = under.failed + without.failed
        rows.append(
            Row(f"{label}: {what} p95 (vs without)", "ms", under.p(95), without.p(95), WITHIN_TWICE, note, failed)
        )
    passed = all(WITHIN_TWICE.met(row) for row in rows)
    ratios = ", ".join(
        f"{what.removeprefix('honest ')} {_ratio(row)}" for (what, _, _), row in zip(pairs, rows, strict=True)
    )
    name = outcome.name
    fds = outcome.fds
    end = f"open fds at the end of the attack {fds[0]} (limit {fds[1]})" if fds[1] else "gone by the end of the attack"
    server = (
        f"peak RSS {outcome.peak_rss[0] / 1e6:.0f} → {outcome.peak_rss[1] / 1e6:.0f} MB,"
        f" log {outcome.log_rate[0] / 1e3:.1f} → {outcome.log_rate[1] / 1e3:.1f} kB/s"
        f" ({outcome.log_written / 1e3:,.0f} kB during the attack), {end}"
    )
    details += [
        _line(name, "without", outcome.without),
        _line(name, "with", outcome.under),
        f"hostile {name:16} attack  {json.dumps(outcome.attack)} {outcome.stopped_early}".rstrip(),
        f"hostile {name:16} server  {server}",
    ]
    if outcome.after:
        details.append(f"hostile {name:16} victim  the attacked user's own login afterwards: {outcome.after}")
    details += [
        f"hostile {name:16} {'PASS' if passed else 'FAIL'}: honest p95 within 2 times without? ({ratios});"
        f" took {outcome.seconds:.0f} s",
    ]
    return rows + _attack_rows(outcome, label)


def _ratio(row: Row) -> str:
    text = "—" if row.ratio is None or math.isnan(row.ratio) else f"{row.ratio:.2f}"
    return text + (f" ({row.failures} failed)" if row.failures else "")


def _attack_rows(outcome: Outcome, label: str) -> list[Row]:
    """What each attack did, beside what the honest client felt."""
    attack = outcome.attack
    tally: dict[str, int] = attack.get("tally", {})
    if outcome.name == "hoarders":
        peak = [value / 1e6 for value in outcome.peak_rss]
        return [Row(f"{label}: server peak RSS (vs without)", "MB", peak[1], peak[0], note=outcome.stopped_early)]
    if outcome.name == "guessing":
        first: dict[str, int] = attack.get("first burst", {})
        checked = first.get("unauthorized", 0) + first.get("Welcome", 0)
        note = (
            f"(rate_limited {first.get('rate_limited', 0)}, attacker got in: {'yes' if first.get('Welcome') else 'no'})"
        )
        return [Row(f"{label}: passwords checked in one burst of {sum(first.values())}", "count", checked, note=note)]
    if outcome.name == "connection-flood":
        tried = tally.get("handshakes accepted", 0) + sum(
            n for k, n in tally.items() if k.startswith("handshake failed")
        )
        return [
            Row(
                f"{label}: attacker's websockets open at once",
                "count",
                attack.get("peak open"),
                note=f"(server fd limit {outcome.fds[1]})",
            ),
            Row(
                f"{label}: attacker's handshakes answered 503",
                "count",
                tally.get("handshake failed: HTTP 503", 0),
                note=f"(of {tried})",
            ),
        ]
    if outcome.name == "bad-frames":
        rates = [value / 1e3 for value in outcome.log_rate]
        return [Row(f"{label}: server log written (vs without)", "kB/s", rates[1], rates[0])]
    if outcome.name == "slow-reader":
        closed = float(attack.get("close code") == 4000)
        promise = Target("project", ">=", 1, "close 4000")
        return [
            Row(
                f"{label}: slow reader closed with 4000 (1 = yes)",
                "count",
                closed,
                target=promise,
                note=f"({attack.get('outcome')})",
            )
        ]
    return []
