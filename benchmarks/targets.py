"""The targets the benchmarks judge their figures by, and the earlier figures shown beside them, from
`benchmarks/targets.toml`, which records where each one came from."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

TARGETS_FILE = Path(__file__).resolve().with_name("targets.toml")


@dataclass(frozen=True)
class Recorded:
    value: float | str
    unit: str
    source: str


def _read(table: str) -> dict[str, Recorded]:
    entries = tomllib.loads(TARGETS_FILE.read_text())[table]
    return {name: Recorded(entry["value"], entry.get("unit", ""), entry["source"]) for name, entry in entries.items()}


TARGETS = _read("targets")
BEFORE = _read("before")


def target(name: str) -> float | int:
    """The value as the file writes it (an int stays an int: it shows as one in the results)."""
    return TARGETS[name].value


def before(name: str) -> float | str:
    return BEFORE[name].value
