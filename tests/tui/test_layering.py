"""Which parts of the app may import which: read from the source, lazy and type-only imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lesbillets_tui

PACKAGE = Path(lesbillets_tui.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports anywhere (top level, inside functions, under TYPE_CHECKING)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py"))


@pytest.mark.parametrize("path", modules_under("screens") + modules_under("widgets"), ids=lambda p: p.name)
def test_screens_and_widgets_do_not_import_the_app(path: Path) -> None:
    """Screens get a `Desk` and post messages; nothing under screens/ or widgets/ imports app.py."""
    assert not {name for name in imported_modules(path) if name.startswith("lesbillets_tui.app")}


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_app_package_imports_nothing_from_the_server(path: Path) -> None:
    """The app reaches the server over the wire or as a process, never by importing `lesbillets_server`."""
    assert not {name for name in imported_modules(path) if name.split(".")[0] == "lesbillets_server"}
