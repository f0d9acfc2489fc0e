"""The collector pause around a load: off from the first page, back on after the last, whatever happens."""

from __future__ import annotations

import gc

from lesbillets_tui.gcpause import CollectorPause


def test_pause_turns_collection_off_once_and_back_on() -> None:
    """`start` turns automatic collection off, `end` back on; a second `end`, or an `end` alone, changes nothing."""
    assert gc.isenabled()
    pause = CollectorPause()
    pause.end()
    assert gc.isenabled() and not pause.paused
    try:
        pause.start()
        pause.start()
        assert not gc.isenabled() and pause.paused
    finally:
        pause.end()
    assert gc.isenabled() and not pause.paused
    pause.end()
    assert gc.isenabled()


def test_pause_leaves_collection_off_if_someone_else_turned_it_off() -> None:
    """Started while collection was already off, the pause does not turn it on at its end."""
    gc.disable()
    try:
        pause = CollectorPause()
        pause.start()
        pause.end()
        assert not gc.isenabled()
    finally:
        gc.enable()
