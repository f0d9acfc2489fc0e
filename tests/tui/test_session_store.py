"""The remembered session: owner-only file, per-server tokens, forgiving of a damaged file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from lesbillets_tui.session_store import SessionStore


def test_remembers_last_server_and_token_in_an_owner_only_file(tmp_path: Path) -> None:
    """The file and its folder are readable by the owner only; the last server is the default."""
    store = SessionStore(tmp_path / "cfg" / "session.json")
    store.remember("ws://a:1", "alice@example.com", "tok-a")
    store.remember("ws://b:2", "bob@example.com", "tok-b")
    assert store.last_url == "ws://b:2"
    saved = store.get("ws://a:1")
    assert saved is not None and (saved.email, saved.token) == ("alice@example.com", "tok-a")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_loose_permissions_are_tightened_on_write(tmp_path: Path) -> None:
    """A pre-existing world-readable file becomes 0600 at the next write."""
    path = tmp_path / "session.json"
    path.write_text("{}")
    path.chmod(0o644)
    SessionStore(path).remember("ws://a:1", "a@b.c", "t")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_forget_keeps_the_email(tmp_path: Path) -> None:
    """Forgetting drops tokens (one server or all) but keeps the email for the login form."""
    store = SessionStore(tmp_path / "session.json")
    store.remember("ws://a:1", "alice@example.com", "tok-a")
    store.remember("ws://b:2", "bob@example.com", "tok-b")
    assert store.forget_token("ws://a:1") == ["ws://a:1"]
    assert store.tokens() == {"ws://b:2": "tok-b"}
    assert store.forget_token() == ["ws://b:2"]
    assert store.forget_token() == []
    saved = store.get("ws://a:1")
    assert saved is not None and saved.email == "alice@example.com" and saved.token is None


@pytest.mark.parametrize("content", [b"", b"not json", b'{"sessions": 3}', b"\xff\xfe"])
def test_a_damaged_file_reads_as_empty(tmp_path: Path, content: bytes) -> None:
    """Whatever is in the file, the app starts (and asks for a login)."""
    path = tmp_path / "session.json"
    path.write_bytes(content)
    store = SessionStore(path)
    assert store.last_url is None and store.get("ws://a:1") is None
    store.remember("ws://a:1", "a@b.c", "t")
    assert store.tokens() == {"ws://a:1": "t"}
