"""The large center's week through Dagster's backfill path, judged by issue 11's targets (columnar collection) beside
what the issue measured before: the "Issue 11 figures" table of a full run.

The "before" column and the targets are read from `benchmarks/targets.toml` (each with its source); nothing in the
"before" column is measured by this run. The issue states its per-day figures for a large weekday; a backfill of 7
days holds 5 weekdays and a quieter weekend (the emulator's weekend volume is about half), so totals / days would
understate a weekday. The per-weekday figures here are totals / days x (mean contacts of the range's weekdays /
mean contacts of its days), both counted in the run's own `wfm_contact_volume_interval` rows (`entered_count`):
cost taken as proportional to volume. Totals / days are shown beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from benchmarks.rendering import MIB, cell, met_cell, mib
from benchmarks.statistics import TWO_YEARS_DAYS, two_years_seconds, weekday_scale
from benchmarks.targets import before, target

TARGET_CPU_SECONDS = target("pipeline_cpu_per_weekday_s")
TARGET_WALL_SECONDS = target("wall_per_weekday_s")
TARGET_BYTES = target("bytes_per_weekday_mib") * MIB
TARGET_RAW_BYTES = target("raw_bytes_per_weekday_mib") * MIB
TARGET_PEAK_MIB = target("peak_mib")
TARGET_BACKFILL_VS_FLOOR = target("backfill_vs_floor")
TARGET_TWO_YEARS_SECONDS = target("two_years_s")
MOONSHOT_TWO_YEARS_SECONDS = target("two_years_moonshot_s")


@dataclass
class IssueRow:
    figure: str
    before: str
    now: str
    target: str
    met: bool | None  # None: not comparable (not the large center)
    miss: str = ""  # measured facts on where the figure goes, when missed


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h"


def _met(ok: bool, comparable: bool) -> bool | None:
    return ok if comparable else None


def issue_rows(plan, start: datetime, floor, dagster, *, comparable: bool) -> tuple[list[IssueRow], float | None, str]:
    """The issue's six figures from this run, the weekday scale used (None: no weekday in the range) and how
    per-day figures were taken."""
    days = plan.days
    scale = weekday_scale(start, dagster.counts.entered_per_day)
    factor = scale or 1.0
    basis = (f"per weekday = totals / {days} d x {factor:.3f} (weekday volume share)" if scale else
             f"per day = totals / {days} d (no weekday in the range)")
    per_day = lambda total: total / days  # noqa: E731
    per_weekday = lambda total: total / days * factor  # noqa: E731
    cost, floor_cost = dagster.cost, floor.cost
    run_span = dagster.run_span
    rows = []

    cpu = per_weekday(cost.pipeline_cpu_seconds)
    all_dagster = sum(cost.cpu_parts.values())
    rows.append(IssueRow(
        "pipeline CPU per large weekday",
        before("pipeline_cpu_per_weekday"),
        f"{cpu:.1f} s: Dagster run workers ({per_day(cost.pipeline_cpu_seconds):.1f} s totals/day); all Dagster "
        f"processes {per_weekday(all_dagster):.1f} s; floor process "
        f"{per_weekday(floor_cost.pipeline_cpu_seconds):.1f} s; "
        f"emulator {per_weekday(cost.emulator_cpu_seconds):.1f} s (Dagster side, not counted)",
        f"<= {TARGET_CPU_SECONDS:.0f} s", _met(cpu <= TARGET_CPU_SECONDS, comparable),
        f"steps' wall summed over the runs: "
        f"{', '.join(f'{step} {per_weekday(seconds):.1f} s' for step, seconds in dagster.steps.items())} "
        f"per weekday; floor process {per_weekday(floor_cost.pipeline_cpu_seconds):.1f} s per weekday does the same "
        f"work without Dagster"))

    wall = per_weekday(dagster.seconds)
    outside = dagster.seconds - run_span
    rows.append(IssueRow(
        "wall per large weekday, Dagster ranged run, emulator answering each job in 1 s",
        before("wall_per_weekday"),
        f"{wall:.1f} s: backfill launch -> done ({per_day(dagster.seconds):.1f} s totals/day); the run(s) alone "
        f"{per_weekday(run_span):.1f} s",
        f"<= {TARGET_WALL_SECONDS:.0f} s", _met(wall <= TARGET_WALL_SECONDS, comparable),
        f"{outside:.1f} s of the {dagster.seconds:.1f} s backfill is outside its runs (Dagster's 30 s backfill "
        f"daemon cycle, 5 s run-queue dequeue, run start), {per_weekday(outside):.1f} s per weekday at "
        f"{days} d; the runs' CPU {per_weekday(cost.pipeline_cpu_seconds):.1f} s and the emulator's "
        f"{per_weekday(cost.emulator_cpu_seconds):.1f} s per weekday share the same cores"))

    stored = cost.stored
    total, raw = per_weekday(stored.total), per_weekday(stored.raw)
    rows.append(IssueRow(
        "bytes stored per large weekday (database + raw files)",
        before("bytes_per_weekday") + " (raw part not stated)",
        f"{mib(total)} ({mib(per_day(stored.total))} totals/day); raw part {mib(raw)} = raw files "
        f"{mib(per_weekday(stored.raw_files))} + raw tables {mib(per_weekday(stored.raw_tables))}",
        f"<= {TARGET_BYTES // MIB} MiB, raw part <= {TARGET_RAW_BYTES // MIB} MiB",
        _met(total <= TARGET_BYTES and raw <= TARGET_RAW_BYTES, comparable),
        f"per weekday: database without raw tables {mib(per_weekday(stored.database_rest))}, raw tables "
        f"{mib(per_weekday(stored.raw_tables))}, raw files {mib(per_weekday(stored.raw_files))}"))

    peak, source = peak_rss(dagster)
    rows.append(IssueRow(
        "peak RSS of a 7-day run", before("peak"), f"{peak:,.0f} MiB on {days} d ({source})",
        f"< {TARGET_PEAK_MIB:.0f} MiB", _met(peak < TARGET_PEAK_MIB, comparable),
        f"the assets' own peak_rss_mib (taken before the IO manager's write and the checks): "
        f"{dagster.metadata_peak_rss_mib or 0:,.0f} MiB"))

    ratio = dagster.seconds / floor.seconds
    rows.append(IssueRow(
        "7-day backfill through Dagster's backfill path vs the floor", before("backfill_vs_floor"),
        f"{ratio:.2f}x on {days} d (wall {dagster.seconds:.1f} s / {floor.seconds:.1f} s)",
        f"<= {TARGET_BACKFILL_VS_FLOOR}x", _met(ratio <= TARGET_BACKFILL_VS_FLOOR, comparable),
        f"outside the runs {outside:.1f} s; the runs' span {run_span:.1f} s is {run_span / floor.seconds:.2f}x "
        f"the floor"))

    years = two_years_seconds(dagster.seconds, days)
    moonshot = " (moonshot 1 h met)" if years <= MOONSHOT_TWO_YEARS_SECONDS else ""
    rows.append(IssueRow(
        "two years of the large center, extrapolated", before("two_years"),
        f"{_hours(years)} = {TWO_YEARS_DAYS} / {days} x {dagster.seconds:.1f} s (EXTRAPOLATED){moonshot}",
        f"<= {TARGET_TWO_YEARS_SECONDS / 3600:g} h; moonshot {MOONSHOT_TWO_YEARS_SECONDS / 3600:g} h",
        _met(years <= TARGET_TWO_YEARS_SECONDS, comparable),
        f"of it, Dagster's latency outside the runs paid once per {days}-day backfill: {TWO_YEARS_DAYS} / {days} x "
        f"{outside:.1f} s = {_hours(two_years_seconds(outside, days))}"))
    return rows, scale, basis


def peak_rss(dagster) -> tuple[float, str]:
    """The sampled VmHWM of the run workers; the assets' metadata only when the sampler saw none."""
    if dagster.sampled_peak_rss_mib:
        return dagster.sampled_peak_rss_mib, "run worker VmHWM, sampled"
    return dagster.metadata_peak_rss_mib or 0.0, "assets' peak_rss_mib metadata: the sampler saw no run worker"


def issue_table(rows: list[IssueRow]) -> str:
    lines = ["| figure | before (issue 11) | now | target | met? |", "|---|---|---|---|---|"]
    for row in rows:
        cells = (row.figure, row.before, row.now, row.target, met_cell(row.met))
        lines.append("| " + " | ".join(cell(text) for text in cells) + " |")
    return "\n".join(lines)


def misses(rows: list[IssueRow]) -> str:
    """Where targets are missed, with the run's own figures on where the time or the bytes go."""
    missed = [row for row in rows if row.met is False]
    if not missed:
        return ""
    return "\n".join(f"- **{row.figure}**: {row.now}; target {row.target}. {row.miss}." for row in missed)
