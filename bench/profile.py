"""Summarise a py-spy ``--format raw`` profile (collapsed stacks) into the functions that take the time."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")
_OTHER_THREAD = "Thread.run (threading.py"
"""Worker threads (the launcher's stdin watch, argon2 in `to_thread`) wait most of the time, yet py-spy does not
always see them as idle; the event loop's thread is what the scenarios load, so only its stacks are counted."""


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


def summarise(raw: Path, top: int = 25) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        match = _LINE.match(line)
        if match is None or _OTHER_THREAD in match["stack"]:
            continue
        count = int(match["count"])
        frames = [_short(frame) for frame in match["stack"].split(";") if frame]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return f"{raw}: no samples"
    lines = [
        f"{raw.name}: {total} samples of the event loop's thread while it was not idle",
        "",
        "inclusive %  self %  function",
    ]
    for name, count in inclusive.most_common(top):
        lines.append(f"{count / total * 100:10.1f}  {own[name] / total * 100:6.1f}  {name}")
    lines += ["", "top self time:"]
    for name, count in own.most_common(top):
        lines.append(f"{count / total * 100:10.1f}  {name}")
    return "\n".join(lines)
