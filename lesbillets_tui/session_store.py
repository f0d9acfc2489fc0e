"""The remembered server and session token, in the platform's config dir, readable by the owner only.

A token is as good as a password until it expires, so the file is created with mode 0600 (and its folder
0700) and is replaced atomically. A file that cannot be read is treated as empty: the agent logs in again.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import msgspec
import platformdirs

log = logging.getLogger(__name__)

DEFAULT_URL = "ws://127.0.0.1:8765"


class SavedSession(msgspec.Struct, frozen=True):
    email: str
    token: str | None = None


class _State(msgspec.Struct):
    last_url: str | None = None
    sessions: dict[str, SavedSession] = msgspec.field(default_factory=dict)


class SessionStore:
    """Read and write ``session.json``; every method re-reads the file, so two apps do not clobber each other."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls) -> SessionStore:
        return cls(platformdirs.user_config_path("lesbillets") / "session.json")

    @property
    def last_url(self) -> str | None:
        return self._load().last_url

    def get(self, url: str) -> SavedSession | None:
        return self._load().sessions.get(url)

    def remember(self, url: str, email: str, token: str | None) -> None:
        state = self._load()
        state.last_url = url
        state.sessions[url] = SavedSession(email=email, token=token)
        self._save(state)

    def forget_token(self, url: str | None = None) -> list[str]:
        """Drop the token for ``url`` (every token when None), keeping the email; returns the urls that had one."""
        state = self._load()
        forgotten = []
        for saved_url, saved in list(state.sessions.items()):
            if (url is None or saved_url == url) and saved.token is not None:
                state.sessions[saved_url] = SavedSession(email=saved.email)
                forgotten.append(saved_url)
        if forgotten:
            self._save(state)
        return forgotten

    def tokens(self) -> dict[str, str]:
        return {url: saved.token for url, saved in self._load().sessions.items() if saved.token is not None}

    def _load(self) -> _State:
        try:
            return msgspec.json.decode(self.path.read_bytes(), type=_State)
        except FileNotFoundError:
            return _State()
        except (OSError, msgspec.DecodeError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return _State()

    def _save(self, state: _State) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(msgspec.json.format(msgspec.json.encode(state)))
            os.chmod(tmp, 0o600)  # in case the file pre-existed with looser bits
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
