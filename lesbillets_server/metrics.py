"""Prometheus metrics of one replica, served at /metrics.

One registry per server (not the library's global one), so several servers in one process — tests, the bench —
each report their own.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.connections = Gauge(
            "lesbillets_connections", "Open websocket connections on this replica.", registry=self.registry
        )
        self.events_committed = Counter(
            "lesbillets_events_committed", "Events this replica appended to the log.", registry=self.registry
        )
        self.events_delivered = Counter(
            "lesbillets_events_delivered",
            "Events of the log this replica applied and fanned out (whoever committed them).",
            registry=self.registry,
        )
        self.delivery_lag = Gauge(
            "lesbillets_delivery_lag_events",
            "How many events of the log this replica has not delivered yet.",
            registry=self.registry,
        )
        self.locks_held = Gauge("lesbillets_locks_held", "Tickets locked now.", registry=self.registry)
        self.commit_seconds = Histogram(
            "lesbillets_commit_seconds",
            "Time to write a change and append its event (one database transaction).",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.laggards_dropped = Counter(
            "lesbillets_laggards_dropped",
            "Connections closed with 4000 for falling too far behind the event stream.",
            registry=self.registry,
        )
        self.database_up = Gauge(
            "lesbillets_database_up", "1 when the last database round trip succeeded.", registry=self.registry
        )

    def watch(self, *, connections: Callable[[], int], locks: Callable[[], int], lag: Callable[[], int]) -> None:
        """Gauges read at scrape time."""
        self.connections.set_function(lambda: float(connections()))
        self.locks_held.set_function(lambda: float(locks()))
        self.delivery_lag.set_function(lambda: float(lag()))

    def render(self) -> bytes:
        return generate_latest(self.registry)
