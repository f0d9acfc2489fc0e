"""Choosing a folder to save into: the first that exists and is writable."""

from __future__ import annotations

import tempfile
from pathlib import Path

from lesbillets_tui.save_dir import writable_directory


def test_the_first_folder_that_exists_is_chosen(tmp_path: Path) -> None:
    """A missing Downloads folder is skipped for the next candidate."""
    assert writable_directory([tmp_path / "Downloads", tmp_path]) == tmp_path


def test_with_no_usable_candidate_the_temporary_folder(tmp_path: Path) -> None:
    """Nothing usable: the system's temporary folder, which exists."""
    assert writable_directory([tmp_path / "missing", tmp_path / "file.txt"]) == Path(tempfile.gettempdir())
