"""Python's cyclic garbage collector paused while the table loads.

Loading 100,000 rows makes some 200,000 long-lived objects (the ticket ids and the sort keys), and each time the
long-lived objects have grown by a quarter CPython runs a full collection that walks every one of them: on the
bench machine 5 to 7 full collections of 40 to 130 ms during one load, one of them usually before the first page
was painted. None of it is garbage. So automatic collection is off from the first page of a load to its last (or
until the load is cut short), and the collector catches up once, after it. Reference counting frees everything
that forms no cycle meanwhile, as always.
"""

from __future__ import annotations

import gc


class CollectorPause:
    """Pauses automatic collection once, until `end` (which is safe to call any number of times)."""

    def __init__(self) -> None:
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        if not self._paused and gc.isenabled():
            gc.disable()
            self._paused = True

    def end(self) -> None:
        if self._paused:
            self._paused = False
            gc.enable()
