"""The summary table, the machine description, and bench/RESULTS.md."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final, Literal

RESULTS: Final = Path(__file__).with_name("RESULTS.md")
BEGIN: Final = "<!-- bench:begin (rewritten by `python -m bench`; edit outside the markers) -->"
END: Final = "<!-- bench:end -->"
PACKAGES: Final = ("websockets", "msgspec", "textual", "uvloop", "argon2-cffi")


@dataclass(frozen=True, slots=True)
class Target:
    subject: Literal["project", "ratio"]
    op: Literal[">=", "<", "<="]
    value: float
    text: str

    def met(self, row: Row) -> bool | None:
        if row.failures:
            return False
        value = row.project if self.subject == "project" else row.ratio
        if value is None or math.isnan(value):
            return None
        if self.op == ">=":
            return value >= self.value
        if self.op == "<":
            return value < self.value
        return value <= self.value

    def verdict(self, row: Row) -> str:
        met = self.met(row)
        if met is None:
            return "not measured"
        if met:
            return "yes"
        if row.failures:
            return f"no ({row.failures} failed)"
        value = row.project if self.subject == "project" else row.ratio
        assert value is not None
        if self.op == ">=":
            return f"no ({(1 - value / self.value) * 100:.0f}% short)"
        return f"no ({value / self.value:.1f} times the limit)"


@dataclass(frozen=True, slots=True)
class Row:
    metric: str
    unit: str
    project: float | None
    baseline: float | None = None
    target: Target | None = None
    note: str = ""
    failures: int = 0
    """Attempts behind this number that failed outright; any fails the target, whatever the number says."""

    @property
    def ratio(self) -> float | None:
        if self.project is None or self.baseline is None or self.baseline == 0:
            return None
        return self.project / self.baseline


def _number(value: float | None, unit: str) -> str:
    if value is None or math.isnan(value):
        return "—"
    if unit in ("events/s", "ops/s", "count"):
        return f"{value:,.0f}"
    if unit == "MB":
        return f"{value:.1f}"
    if unit == "s":
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if unit in ("ms", "KiB", "kB/s"):
        return f"{value:.1f}" if value < 100 else f"{value:,.0f}"
    return f"{value:.3g}"


def table_cells(rows: list[Row]) -> list[list[str]]:
    header = ["metric", "project", "baseline", "ratio", "target", "met?"]
    cells = [header]
    for row in rows:
        ratio = row.ratio
        cells.append(
            [
                f"{row.metric} ({row.unit})",
                _number(row.project, row.unit) + (f" {row.note}" if row.note else ""),
                _number(row.baseline, row.unit),
                "—" if ratio is None else f"{ratio:.2f}",
                row.target.text if row.target else "",
                row.target.verdict(row) if row.target else "",
            ]
        )
    return cells


def text_table(rows: list[Row]) -> str:
    cells = table_cells(rows)
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = []
    for number, line in enumerate(cells):
        lines.append(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    cells = table_cells(rows)
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join(["---"] + ["---:"] * 3 + ["---"] * 2) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in cells[1:]]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


def _ram() -> str:
    try:
        match = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
    except OSError:
        return "unknown"
    return f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> list[tuple[str, str]]:
    return [
        ("CPU", _cpu_model()),
        ("cores", str(os.cpu_count())),
        ("RAM", _ram()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", ", ".join(f"{name} {_version(name)}" for name in PACKAGES)),
    ]


def write_results(
    rows: list[Row], details: list[str], *, command: str, started: dt.datetime, elapsed_s: float, notes: list[str]
) -> Path:
    """Rewrite the generated block of RESULTS.md, keeping everything outside the markers."""
    block = [
        BEGIN,
        "## Latest run",
        "",
        f"Command: `{command}` — {started:%Y-%m-%d %H:%M} UTC, {elapsed_s / 60:.1f} min.",
        "",
        *(f"- {name}: {value}" for name, value in machine()),
        *(f"- {note}" for note in notes),
        "",
        markdown_table(rows),
        "",
        "<details><summary>Every run</summary>",
        "",
        "```",
        *details,
        "```",
        "",
        "</details>",
        END,
    ]
    generated = "\n".join(block)
    if RESULTS.exists():
        text = RESULTS.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            RESULTS.write_text(head + generated + tail, encoding="utf-8")
            return RESULTS
    RESULTS.write_text(f"# Benchmark results\n\n{generated}\n", encoding="utf-8")
    return RESULTS
