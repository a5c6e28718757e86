"""From measurements to the figures table (each with its baseline and ratio) and the details below it."""

from __future__ import annotations

from benchmarks.accounting import CODE_SERVERS, DAEMON, UNATTRIBUTED, WEBSERVER
from benchmarks.large_center import peak_rss
from benchmarks.rendering import MIB, Figure, key_value_table


def _miss(measured: float, target: float, *, higher_is_better: bool) -> tuple[bool, str]:
    met = measured >= target if higher_is_better else measured <= target
    if met:
        return True, ""
    factor = target / measured if higher_is_better else measured / target
    return False, f"missed by {factor:.2f}x"


def build_figures(plan, states, loaded, floor, dagster, ticked, per_partition, targets) -> list[Figure]:
    contacts, unit = _contacts(dagster.counts)
    floor_contacts, _ = _contacts(floor.counts)
    partitions = plan.days * 96
    backfill_ratio = dagster.seconds / floor.seconds
    met, miss = _miss(backfill_ratio, targets["backfill_vs_floor"], higher_is_better=False)
    figures = [Figure(
        f"1. backfill {partitions} partitions x 2 assets via Dagster backfill (daemon + run queue, GraphQL)",
        f"{dagster.seconds:.1f} s, {dagster.runs} run(s), {contacts / dagster.seconds:,.0f} {unit}",
        f"floor (plain loop): {floor.seconds:.1f} s, {floor_contacts / floor.seconds:,.0f} {unit}",
        f"{backfill_ratio:.2f}x floor", f"<= {targets['backfill_vs_floor']}x floor", met, miss)]
    if per_partition is None:
        figures.append(Figure("1b. one run per partition", "not run (--quick, or --sample-partitions 0)",
                              "-", "-", f">= {targets['per_partition_vs_backfill']:.0f}x faster", None))
    else:
        speedup = per_partition.extrapolated_seconds / dagster.seconds
        scale = partitions / per_partition.target_partitions
        met, miss = _miss(speedup * scale, targets["per_partition_vs_backfill"], higher_is_better=True)
        figures.append(Figure(
            f"1b. one run per partition, {per_partition.target_partitions} partitions (EXTRAPOLATED from "
            f"{per_partition.sample_partitions} measured)",
            f"{per_partition.extrapolated_seconds:,.0f} s ({per_partition.target_partitions} runs); sample "
            f"{per_partition.sample.seconds:.1f} s for {per_partition.sample.runs} runs",
            f"Dagster backfill above: {dagster.seconds:.1f} s" + ("" if scale == 1 else
                f" for {partitions} partitions ({dagster.seconds / partitions:.2f} s a partition)"),
            f"backfill {speedup * scale:.1f}x faster" + ("" if scale == 1 else " per partition"),
            f">= {targets['per_partition_vs_backfill']:.0f}x faster", met, miss))
    met, miss = _miss(ticked.seconds_to_rows, targets["tick_s"], higher_is_better=False)
    figures.append(Figure(
        f"2. steady-state tick ({ticked.range_start} .. {ticked.range_end}, 2h15m re-collection + the closed interval)",
        f"{ticked.seconds_to_rows:.1f} s tick -> rows visible (run done {ticked.seconds_to_run_end:.1f} s)",
        "-", "-", f"<= {targets['tick_s']:.0f} s", met, miss))
    writer_ratio = loaded.writer_rows_per_s / loaded.to_sql_rows_per_s
    met, miss = _miss(writer_ratio, targets["writer_vs_to_sql"], higher_is_better=True)
    figures.append(Figure(
        f"3. load {loaded.rows:,} wfm_agent_state_transaction rows into PostgreSQL, window_writer.replace_window",
        f"{loaded.writer_rows_per_s:,.0f} rows/s ({loaded.writer_seconds:.1f} s)",
        f"DataFrame.to_sql defaults: {loaded.to_sql_rows_per_s:,.0f} rows/s ({loaded.to_sql_seconds:.1f} s)",
        f"{writer_ratio:.1f}x to_sql", f">= {targets['writer_vs_to_sql']:.0f}x to_sql", met, miss))
    met, miss = _miss(states.median, targets["realtime_s"], higher_is_better=False)
    figures.append(Figure(
        f"4. current agent states, {states.agents:,} agents ({states.calls} status calls of 20)",
        f"{states.median:.2f} s (median of {len(states.seconds)}; max {max(states.seconds):.2f} s)",
        "-", "-", f"<= {targets['realtime_s']:.0f} s", met, miss))
    peak, source = peak_rss(dagster)
    met, miss = _miss(peak, targets["peak_mib"], higher_is_better=False)
    metadata_peak = f"{dagster.metadata_peak_rss_mib:,.0f} MiB" if dagster.metadata_peak_rss_mib else "n/a"
    figures.append(Figure(
        "5. peak resident memory, largest step of scenario 1 (the backfill run process)",
        f"{peak:,.0f} MiB ({source}); {metadata_peak} in the assets' peak_rss_mib metadata",
        "-", "-", f"< {targets['peak_mib']:.0f} MiB", met, miss))
    return figures


def details(plan, states, loaded, floor, dagster, ticked, per_partition) -> str:
    sample = per_partition.sample if per_partition else None
    rows = {
        "contacts / status records / interval rows / transactions (floor)": _counts(floor.counts),
        "contacts / status records / interval rows / transactions (Dagster)": _counts(dagster.counts),
        "same rows on both sides": str(_same(floor.counts, dagster.counts)),
        "contacts entered per day (Dagster side, interval rows)":
            ", ".join(f"{v:,}" for v in dagster.counts.entered_per_day),
        "floor seconds per day": ", ".join(f"{s:.1f}" for s in floor.day_seconds),
        "floor CPU seconds per day (benchmark process)": ", ".join(f"{s:.1f}" for s in floor.day_cpu_seconds),
        "Dagster: launch -> first run started": f"{dagster.first_run_start_after_launch:.1f} s",
        "Dagster: runs' own durations": ", ".join(f"{s:.1f} s" for s in dagster.run_seconds),
        "Dagster: orchestration outside the runs (wall - first start..last end)":
            f"{dagster.seconds - dagster.run_span:.1f} s",
        "Dagster: seconds per step (summed over runs)": ", ".join(f"{k} {v:.1f}" for k, v in dagster.steps.items()),
        "Dagster: run statuses": ", ".join(dagster.statuses),
        "Dagster: run-worker processes seen by the memory sampler": str(dagster.run_workers_sampled),
        "Dagster: instance directory after the backfill (SQLite storage, logs; not in bytes stored)":
            f"{(dagster.instance_bytes or 0) / MIB:,.1f} MiB",
        "per-partition sample: runs, statuses":
            f"{sample.runs}, {', '.join(sample.statuses)}" if sample else "not run",
        "per-partition sample: wall, runs' span, mean run": (
            f"{sample.seconds:.1f} s, {sample.run_span:.1f} s, "
            f"{sum(sample.run_seconds) / max(1, len(sample.run_seconds)):.1f} s" if sample else "not run"),
        "per-partition extrapolation": (
            f"fixed {sample.seconds - sample.run_span:.1f} s + runs' span x "
            f"{per_partition.target_partitions}/{per_partition.sample_partitions}" if sample else "not run"),
        "tick: launchRun -> run worker started": f"{ticked.queue_to_start:.1f} s",
        "tick: rows in the newest interval, run status": f"{ticked.rows_in_newest_interval}, {ticked.run_status}",
        "agent-state collections (s)": ", ".join(f"{s:.2f}" for s in states.seconds),
    }
    return ("## Details\n\n" + key_value_table(rows, ("measurement", "value")) + "\n\n" + METHOD)


def _contacts(counts) -> tuple[int, str]:
    """Contacts of the range for a throughput: the raw `calls` entries kept (one per contact)."""
    return counts.contacts, "contacts/s"


def _counts(counts) -> str:
    if counts is None:
        return "n/a"
    shown = lambda value: "n/a" if value is None else f"{value:,}"  # noqa: E731
    values = (counts.contacts, counts.status_records, counts.interval_rows, counts.transactions)
    return " / ".join(shown(value) for value in values)


def _same(a, b) -> bool:
    return a is not None and b is not None and a.__dict__ == b.__dict__


def cost_table(floor, dagster, days: int, scale: float | None) -> str:
    """Scenario 1's wall, CPU (pipeline and emulator apart) and bytes stored: totals, per day (totals / days)
    and per weekday (per day x the weekday volume share; per day again without a weekday in the range)."""
    factor = scale or 1.0
    sides = (floor.cost, dagster.cost)

    def row(label: str, pick, unit: str, *, dagster_only: bool = False) -> str:
        cells = []
        for cost in sides:
            if dagster_only and cost is floor.cost:
                cells += ["-"] * 3
                continue
            value = pick(cost)
            cells += [_amount(value, unit), _amount(value / days, unit), _amount(value / days * factor, unit)]
        return f"| {label} | " + " | ".join(cells) + " |"

    lines = [f"| measure | floor: total | floor: per day | floor: per weekday (x {factor:.3f}) | Dagster: total | "
             f"Dagster: per day | Dagster: per weekday (x {factor:.3f}) |", "|---|---|---|---|---|---|---|",
             row("wall", lambda c: c.wall_seconds, "s"),
             row("pipeline CPU (floor: the benchmark process; Dagster: its run workers)",
                 lambda c: c.pipeline_cpu_seconds, "s")]
    for role in (CODE_SERVERS, DAEMON, WEBSERVER):
        lines.append(row(f"Dagster {role} CPU (not in pipeline CPU)", lambda c, r=role: c.cpu_parts[r], "s",
                         dagster_only=True))
    lines.append(row("Dagster CPU not booked to a role (processes' last < 0.5 s before exiting)",
                     lambda c: c.cpu_parts[UNATTRIBUTED], "s", dagster_only=True))
    lines.append(row("Dagster CPU, every process of the deployment (exact)", lambda c: sum(c.cpu_parts.values()), "s",
                     dagster_only=True))
    lines += [
        row("emulator CPU (its process)", lambda c: c.emulator_cpu_seconds, "s"),
        row("bytes stored = database growth + raw store files", lambda c: c.stored.total, "B"),
        row("database growth (pg_database_size)", lambda c: c.stored.database, "B"),
        row("of which raw tables (talkdesk_raw_entry, talkdesk_raw_file)", lambda c: c.stored.raw_tables, "B"),
        row("raw store files (WFM_RAW_STORE)", lambda c: c.stored.raw_files, "B"),
        row("raw part = raw tables + raw files", lambda c: c.stored.raw, "B"),
    ]
    return "\n".join(lines)


def _amount(value: float, unit: str) -> str:
    shown = round(value if unit == "s" else value / MIB, 1) + 0.0  # + 0.0: a tick's rounding shows as 0.0, not -0.0
    return f"{shown:,.1f} {'s' if unit == 's' else 'MiB'}"


METHOD = """## Method

- Emulator: `talkdesk-emulator` in its own process (so its CPU does not share the benchmark's GIL), started
  with `--report-processing-seconds 1` (a report job is finished 1 s after it is created; issue 11's "emulator
  answering each job in 1 s"), read back from `GET /_emulator/faults` before and after scenario 1. Same
  seed for every scenario, same machine.
- WFM database: a fresh PostgreSQL database per scenario, created and dropped by the benchmark, migrated
  to head before scenario 1 on both sides (not timed).
- Dagster: `dagster-webserver` + `dagster-daemon` started by the test harness
  (`dagster_harness/deployment.py`), instance = the repo's `dagster.yaml` exactly as shipped (the
  harness's faster dequeue/monitoring tweaks are NOT kept: 5 s run-queue dequeue, Dagster's 30 s backfill
  daemon interval), default SQLite instance storage. Schedules and sensors off (`WFM_AUTOMATION=off`),
  `WFM_STEP_RETRIES=0`. The backfill is launched over GraphQL `launchPartitionBackfill` as the UI does; wall
  time runs from the mutation to the backfill being terminal with every run finished (polled each second).
  The one-run-per-partition deployment is started only after scenarios 1 and 2, the batched one stopped.
- Floor: `contact_volume.collect_contact_volume` / `agent_states.collect_agent_state_transactions` with the client's `run_report`
  and `window_writer.replace_window` for the interval rows, day by day, in one process: the same download, parse,
  aggregate and load (raw entries kept too), no orchestration and no asset checks.
- CPU (process CPU times, user + system, from the kernel, 10 ms resolution): floor = the benchmark
  process itself (`os.times()`, all its threads) over the loop; it starts no processes. Dagster = every
  process of the deployment (the webserver and daemon the benchmark started, and all their descendants)
  from the launch to the backfill being done. Total, exact: at both ends, for each process alive (zombies
  included) its own utime+stime plus cutime+cstime (children it has reaped), so processes that started
  and ended in between count whole. By role, from /proc every 0.5 s (each process's own time up to its
  last sample): "run workers" (the run's process, a multiprocessing child of a code server, and what it
  starts) = the pipeline CPU; code servers (`dagster api grpc`; the daemon replaces its own every 60 s),
  daemon and webserver (which also answers the benchmark's polling once a second) apart; "not booked to
  a role" = total minus the roles (what processes spent in their last 0.5 s). Emulator = its process's
  utime+stime over the same window. PostgreSQL's server processes are not counted (a shared server).
- Bytes stored: growth over scenario 1 of `pg_database_size` of the side's WFM database (tables, indexes,
  TOAST, free space in their files) plus the sum of file sizes under the side's raw store directory
  (`WFM_RAW_STORE`, a fresh directory per side; 0 while nothing writes there). Raw part = that directory
  + `pg_total_relation_size` of `talkdesk_raw_entry` and `talkdesk_raw_file` where they exist. The Dagster
  instance (SQLite event log, run storage) is not counted; its size is in the details.
- Per large weekday: see "Per-day figures" under the issue 11 table.
- Two years: 730 / days x the measured backfill wall, i.e. 7-day ranged backfills (672 partitions, one run
  each by `WFM_BACKFILL_PARTITIONS_PER_RUN`'s default) one after another on this machine, each costing what
  the measured one did (the same weekday mix), Dagster's fixed latency paid per backfill. EXTRAPOLATED.
- One run per partition: a second deployment with `WFM_BACKFILL_PARTITIONS_PER_RUN=1`, a sample of
  partitions backfilled, extrapolated (see details). Marked EXTRAPOLATED in the table.
- Tick: the real `contact_volume_schedule` evaluated in-process for "now" (`build_schedule_context`), its
  RunRequest launched over GraphQL `launchRun` with its tags plus `dagster/schedule_name`; "tick" = the
  moment of evaluation (the daemon's own wake-up delay is not included); stop = the newest interval of
  the range has rows with `collected_at` after the tick.
- Load: `wfm_agent_state_transaction` rows (synthetic status records of 3,000 agents over a day; the raw
  entries that this scenario loaded before issue 11 now go to Parquet files) through `window_writer.replace_window`
  (validation + binary COPY) vs `DataFrame.to_sql(if_exists="append", index=False)` with its defaults into
  `CREATE TABLE ... (LIKE wfm_agent_state_transaction INCLUDING ALL)`, both empty at start.
- Peak memory: VmHWM of the run-worker processes (children of the code server other than its
  multiprocessing resource tracker) sampled from /proc every 0.5 s (whole run, including the IO
  manager's write and the asset checks), beside the assets' own `peak_rss_mib` metadata read back over
  GraphQL (`ru_maxrss` of the same process, taken before the write and the checks: equal when the peak
  is inside the step). Results files before 2026-12 looked for run workers by `execute_run` in their
  command line, which Dagster 1.13's run workers (`multiprocessing` spawn children) do not have: their
  "whole run process" figure was the metadata one."""
