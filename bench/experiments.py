"""Server variants for measuring what a change gained, patched into the bench's server process only.

`python -m bench.launch project --experiment NAME` applies one of these before the server starts. Each undoes an
optimisation the server has adopted, so the "gain" rows compare the server as it is with the server without it.

- ``per-frame-writes``: no write combining (`lesbillets_server.outbox`): every frame is its own socket write, as
  websockets does by default. Adopted after the profile showed one `send()` per frame to be 58 % of the server's
  CPU under 50 concurrent writers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from lesbillets_server.outbox import Outbox


def _per_frame_writes() -> None:
    Outbox.combine_writes = False


EXPERIMENTS: Final[dict[str, Callable[[], None]]] = {"per-frame-writes": _per_frame_writes}


def apply(names: list[str]) -> None:
    for name in names:
        EXPERIMENTS[name]()
