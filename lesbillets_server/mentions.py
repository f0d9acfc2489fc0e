"""`@name` mentions in a comment, resolved to users: a plain function of the text and the users.

A mention is ``@`` followed by letters, digits, ``.``, ``_`` or ``-``, where the ``@`` does not follow a letter or
a digit (so ``bob@example.com`` in a sentence names nobody). A trailing ``.``, ``-`` or ``_`` is not part of it
(``@bob.`` ends a sentence). It names every active user whose email's part before the ``@`` is that word, or whose
name without its spaces is, ignoring case: ``@bob`` and ``@BobDubois`` both name Bob Dubois <bob@example.com>.
A word that names nobody stays plain text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from protocol.messages import User

_MENTION = re.compile(r"(?<![\w@])@([\w][\w.\-]*)")
MAX_MENTIONS = 100
"""The most distinct words one body may mention that are looked up (a body is 20,000 characters at most)."""


def handles(body: str) -> list[str]:
    """The words mentioned, case-folded, in order of first appearance, each once."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(body):
        word = match.group(1).rstrip(".-_").casefold()
        if word:
            seen.setdefault(word, None)
            if len(seen) >= MAX_MENTIONS:
                break
    return list(seen)


def keys(user: User) -> set[str]:
    """The words that name this user."""
    local = user.email.rsplit("@", 1)[0]
    return {local.casefold(), "".join(user.name.split()).casefold()} - {""}


def resolve(body: str, users: Iterable[User]) -> list[uuid.UUID]:
    """The users the body names, in the order they are first named, each once."""
    words = handles(body)
    if not words:
        return []
    named: dict[str, list[uuid.UUID]] = {}
    for user in users:
        for key in keys(user):
            named.setdefault(key, []).append(user.id)
    resolved: dict[uuid.UUID, None] = {}
    for word in words:
        for user_id in named.get(word, ()):
            resolved.setdefault(user_id, None)
    return list(resolved)
