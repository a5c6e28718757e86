"""Issue 21: what one large weekday costs the pipeline when Explore reports come as CSV and as JSON.

The floor of scenario 1 (`backfill.run_floor`: download, parse, keep raw entries, aggregate and load, in this
process, no Dagster) over one fixed weekday of the large center, once per format and repetition, alternating
the formats so that a change of load on the machine touches both alike. Each measurement gets a database and a
raw store of its own, so none of them replaces what another stored. The emulator generates the day once first
(its day cache keeps it), so no measurement pays for that. Figures: the median of the repetitions, with every
repetition's own figure and the machine's load beside them.

`python -m benchmarks --report-formats [--repeats N]`: appended to `benchmarks/results/<date>.md`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import backfill
from benchmarks.environment import LARGE_CENTER, REPO_ROOT, EmulatorProcess, fresh_databases
from dagster_harness.reference_day import REFERENCE_DAY

FORMATS = ("csv", "json")
DEFAULT_REPEATS = 3
# The suite's reference day, a Wednesday: a full weekday's volume whatever day the benchmark runs on.
WEEKDAY = REFERENCE_DAY


@dataclass
class Timing:
    wall_seconds: float
    cpu_seconds: float  # this process: the pipeline's own CPU
    emulator_cpu_seconds: float
    contacts: int
    status_records: int
    load_before: float  # 1-minute load average when the measurement began, and when it ended
    load_after: float


@dataclass
class FormatResult:
    report_format: str
    timings: list[Timing] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(t, name) for t in self.timings)


def load_average() -> float:
    return os.getloadavg()[0]


def commit() -> str:
    """The commit the measured code is at (a `+` when the work tree has changes)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    return git("rev-parse", "--short", "HEAD") + ("+" if git("status", "--porcelain", "--untracked-files=no") else "")


def run(work: Path, log: Callable[[str], None], *, repeats: int = DEFAULT_REPEATS) -> list[FormatResult]:
    emulator = EmulatorProcess(LARGE_CENTER, work / "emulator.log").wait_ready()
    results = {report_format: FormatResult(report_format) for report_format in FORMATS}
    labels = ["warm_up"] + [f"{report_format}_{repeat}" for repeat in range(repeats) for report_format in FORMATS]
    try:
        with fresh_databases(*labels) as urls:
            log(f"report formats: the emulator generates {WEEKDAY:%Y-%m-%d} (not measured)")
            backfill.run_floor(emulator, urls["warm_up"], WEEKDAY, 1, work / "raw-warm_up", report_format="csv")
            for label in labels[1:]:
                report_format = label.split("_")[0]
                load_before = load_average()
                floor = backfill.run_floor(emulator, urls[label], WEEKDAY, 1, work / f"raw-{label}",
                                           report_format=report_format)
                timing = Timing(floor.seconds, floor.cost.pipeline_cpu_seconds, floor.cost.emulator_cpu_seconds,
                                floor.counts.contacts, floor.counts.status_records, load_before, load_average())
                results[report_format].timings.append(timing)
                log(f"  {label}: wall {timing.wall_seconds:.1f} s, CPU {timing.cpu_seconds:.1f} s, emulator CPU "
                    f"{timing.emulator_cpu_seconds:.1f} s, {timing.contacts:,} contacts, {timing.status_records:,} "
                    f"status records, load {timing.load_before:.2f} -> {timing.load_after:.2f}")
    finally:
        emulator.stop()
    counts = {(t.contacts, t.status_records) for result in results.values() for t in result.timings}
    if len(counts) != 1:
        raise RuntimeError(f"the formats stored different entries for the same day: {sorted(counts)}")
    return list(results.values())


def render(results: list[FormatResult], command: str) -> str:
    def each(result: FormatResult, name: str) -> str:
        return ", ".join(f"{getattr(t, name):.1f}" for t in result.timings)

    first = results[0].timings[0]
    lines = [
        f"## Issue 21 report formats, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit()}",
        "",
        f"Command: `{command}`. One large weekday ({WEEKDAY:%Y-%m-%d}, {LARGE_CENTER.queues} queues, "
        f"{LARGE_CENTER.agents:,} agents, {LARGE_CENTER.contacts_per_day:,} contacts a day: {first.contacts:,} "
        f"contacts and {first.status_records:,} status records stored) through the floor of scenario 1 (download, "
        f"parse, raw files, aggregate, load into PostgreSQL; no Dagster), the formats alternating, each "
        f"measurement in a fresh database. Median of {len(results[0].timings)}; each repetition in "
        f"brackets.",
        "",
        "| format | pipeline CPU | wall | emulator CPU (its own process) | 1-min load at start -> end |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        loads = ", ".join(f"{t.load_before:.2f} -> {t.load_after:.2f}" for t in result.timings)
        lines.append(
            f"| {result.report_format} | {result.median('cpu_seconds'):.1f} s ({each(result, 'cpu_seconds')}) | "
            f"{result.median('wall_seconds'):.1f} s ({each(result, 'wall_seconds')}) | "
            f"{result.median('emulator_cpu_seconds'):.1f} s | {loads} |")
    csv_cpu = next(r for r in results if r.report_format == "csv").median("cpu_seconds")
    json_cpu = next(r for r in results if r.report_format == "json").median("cpu_seconds")
    lines += ["", f"JSON / CSV pipeline CPU: {json_cpu / csv_cpu:.2f}x."]
    return "\n".join(lines) + "\n"


def measure(work: Path, log: Callable[[str], None], command: str, repeats: int) -> str:
    began = time.perf_counter()
    text = render(run(work, log, repeats=repeats), command)
    log(f"report formats measured in {(time.perf_counter() - began) / 60:.1f} min")
    return text

