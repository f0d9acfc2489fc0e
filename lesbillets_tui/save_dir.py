"""Where the app saves what the agent asks it to save (the palette's Screenshot), choosing a folder that exists."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from platformdirs import user_downloads_path


def writable_directory(candidates: Iterable[Path]) -> Path:
    """The first candidate that is a folder this process may write in; the temporary folder when none is."""
    for candidate in candidates:
        if candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    return Path(tempfile.gettempdir())


def screenshot_directory() -> Path:
    """~/Downloads (Textual's choice) when it exists, else the folder the app was started in."""
    return writable_directory([user_downloads_path(), Path.cwd()])
