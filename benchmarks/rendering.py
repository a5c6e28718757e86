"""Markdown for the results files: the figures table, key-value tables, amounts, and where the text is written
(`benchmarks/results/<date>.md`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024


@dataclass
class Figure:
    scenario: str
    measured: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: no target for this line
    miss: str = ""  # by how much, when missed


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def met_cell(met: bool | None) -> str:
    """A 'met?' column's cell: '-' where there is nothing to meet."""
    return "-" if met is None else ("yes" if met else "**no**")


def mib(value: float) -> str:
    return f"{value / MIB:,.1f} MiB"


def figures_table(figures: list[Figure]) -> str:
    lines = ["| scenario | measured | baseline (same run) | ratio | target | met |", "|---|---|---|---|---|---|"]
    for f in figures:
        met = "-" if f.met is None else ("yes" if f.met else f"**no** ({f.miss})")
        lines.append(f"| {' | '.join(cell(c) for c in (f.scenario, f.measured, f.baseline, f.ratio, f.target, met))} |")
    return "\n".join(lines)


def key_value_table(rows: dict[str, str], header: tuple[str, str] = ("", "")) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {cell(k)} | {cell(str(v))} |" for k, v in rows.items()]
    return "\n".join(lines)


def write_results(text: str, day: date | None = None, suffix: str = "") -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{(day or date.today()).isoformat()}{suffix}.md"
    path.write_text(text)
    return path


def append_results(text: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        if path.stat().st_size:
            handle.write("\n")
        handle.write(text)
    return path
