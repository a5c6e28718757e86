"""From measurements to the figures table (each with its baseline and ratio) and the details below it."""

from __future__ import annotations

from benchmarks.report import Figure, key_value_table


def _miss(measured: float, target: float, *, higher_is_better: bool) -> tuple[bool, str]:
    met = measured >= target if higher_is_better else measured <= target
    if met:
        return True, ""
    factor = target / measured if higher_is_better else measured / target
    return False, f"missed by {factor:.2f}x"


def build_figures(plan, states, loaded, floor, dagster, ticked, per_partition, targets) -> list[Figure]:
    contacts = dagster.counts.contacts if dagster.counts else 0
    partitions = plan.days * 96
    backfill_ratio = dagster.seconds / floor.seconds
    met, miss = _miss(backfill_ratio, targets["backfill_vs_floor"], higher_is_better=False)
    figures = [Figure(
        f"1. backfill {partitions} partitions x 2 assets via Dagster backfill (daemon + run queue, GraphQL)",
        f"{dagster.seconds:.1f} s, {dagster.runs} run(s), {contacts / dagster.seconds:,.0f} contacts/s",
        f"floor (plain loop): {floor.seconds:.1f} s, {floor.counts.contacts / floor.seconds:,.0f} contacts/s",
        f"{backfill_ratio:.2f}x floor", f"<= {targets['backfill_vs_floor']}x floor", met, miss)]
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
        f"3. load {loaded.rows:,} talkdesk_raw_entry rows into PostgreSQL, writer.replace_window",
        f"{loaded.writer_rows_per_s:,.0f} rows/s ({loaded.writer_seconds:.1f} s)",
        f"DataFrame.to_sql defaults: {loaded.to_sql_rows_per_s:,.0f} rows/s ({loaded.to_sql_seconds:.1f} s)",
        f"{writer_ratio:.1f}x to_sql", f">= {targets['writer_vs_to_sql']:.0f}x to_sql", met, miss))
    met, miss = _miss(states.median, targets["realtime_s"], higher_is_better=False)
    figures.append(Figure(
        f"4. current agent states, {states.agents:,} agents ({states.calls} status calls of 20)",
        f"{states.median:.2f} s (median of {len(states.seconds)}; max {max(states.seconds):.2f} s)",
        "-", "-", f"<= {targets['realtime_s']:.0f} s", met, miss))
    peak = dagster.sampled_peak_rss_mib or dagster.metadata_peak_rss_mib or 0.0
    met, miss = _miss(peak, targets["peak_mib"], higher_is_better=False)
    metadata_peak = f"{dagster.metadata_peak_rss_mib:,.0f} MiB" if dagster.metadata_peak_rss_mib else "n/a"
    figures.append(Figure(
        "5. peak resident memory, largest step of scenario 1 (the backfill run process)",
        f"{peak:,.0f} MiB whole run process (VmHWM); {metadata_peak} in the assets' peak_rss_mib metadata",
        "-", "-", f"< {targets['peak_mib']:.0f} MiB", met, miss))
    return figures


def details(plan, states, loaded, floor, dagster, ticked, per_partition) -> str:
    rows = {
        "contacts / status records / interval rows / transactions (floor)": _counts(floor.counts),
        "contacts / status records / interval rows / transactions (Dagster)": _counts(dagster.counts),
        "same rows on both sides": str(_same(floor.counts, dagster.counts)),
        "floor seconds per day": ", ".join(f"{s:.1f}" for s in floor.day_seconds),
        "Dagster: launch -> first run started": f"{dagster.first_run_start_after_launch:.1f} s",
        "Dagster: runs' own durations": ", ".join(f"{s:.1f} s" for s in dagster.run_seconds),
        "Dagster: orchestration outside the runs (wall - first start..last end)":
            f"{dagster.seconds - dagster.run_span:.1f} s",
        "Dagster: seconds per step (summed over runs)": ", ".join(f"{k} {v:.1f}" for k, v in dagster.steps.items()),
        "Dagster: run statuses": ", ".join(dagster.statuses),
        "per-partition sample: runs, statuses": f"{per_partition.sample.runs}, {', '.join(per_partition.sample.statuses)}",
        "per-partition sample: wall, runs' span, mean run": (
            f"{per_partition.sample.seconds:.1f} s, {per_partition.sample.run_span:.1f} s, "
            f"{sum(per_partition.sample.run_seconds) / max(1, len(per_partition.sample.run_seconds)):.1f} s"),
        "per-partition extrapolation": (
            f"fixed {per_partition.sample.seconds - per_partition.sample.run_span:.1f} s + runs' span x "
            f"{per_partition.target_partitions}/{per_partition.sample_partitions}"),
        "tick: launchRun -> run worker started": f"{ticked.queue_to_start:.1f} s",
        "tick: rows in the newest interval, run status": f"{ticked.rows_in_newest_interval}, {ticked.run_status}",
        "agent-state collections (s)": ", ".join(f"{s:.2f}" for s in states.seconds),
    }
    return ("## Details\n\n" + key_value_table(rows, ("measurement", "value")) + "\n\n" + METHOD)


def _counts(counts) -> str:
    if counts is None:
        return "n/a"
    return f"{counts.contacts:,} / {counts.status_records:,} / {counts.interval_rows:,} / {counts.transactions:,}"


def _same(a, b) -> bool:
    return a is not None and b is not None and a.__dict__ == b.__dict__


METHOD = """## Method

- Emulator: `talkdesk-emulator` in its own process (so its CPU does not share the benchmark's GIL), report
  processing 1 s per job (its default), on the same machine. Same seed for every scenario.
- WFM database: a fresh PostgreSQL database per scenario, created and dropped by the benchmark.
- Dagster: `dagster-webserver` + `dagster-daemon` started by the test harness
  (`wfm_pipelines_tests/dagster/harness.py`), instance = the repo's `dagster.yaml` exactly as shipped (the
  harness's faster dequeue/monitoring tweaks are NOT kept: 5 s run-queue dequeue, Dagster's 30 s backfill
  daemon interval), default SQLite instance storage. Schedules and sensors off (`WFM_AUTOMATION=off`),
  `WFM_STEP_RETRIES=0`. The backfill is launched over GraphQL `launchPartitionBackfill` as the UI does; wall
  time runs from the mutation to the backfill being terminal with every run finished (polled each second).
- Floor: `collectors.collect_contact_volume` / `collect_agent_state_transactions` with the client's `run_report`
  and `writer.replace_window` for the interval rows, day by day, in one process: the same download, parse,
  aggregate and load (raw entries kept too), no orchestration and no asset checks.
- One run per partition: a second deployment with `WFM_BACKFILL_PARTITIONS_PER_RUN=1`, a sample of
  partitions backfilled, extrapolated (see details). Marked EXTRAPOLATED in the table.
- Tick: the real `contact_volume_schedule` evaluated in-process for "now" (`build_schedule_context`), its
  RunRequest launched over GraphQL `launchRun` with its tags plus `dagster/schedule_name`; "tick" = the
  moment of evaluation (the daemon's own wake-up delay is not included); stop = the newest interval of
  the range has rows with `collected_at` after the tick.
- Load: `talkdesk_raw_entry` rows (synthetic `calls` entries, ~400 bytes of JSON each) through
  `writer.replace_window` (validation + binary COPY) vs `DataFrame.to_sql(if_exists="append", index=False)`
  with its defaults into `CREATE TABLE ... (LIKE talkdesk_raw_entry INCLUDING ALL)`, both empty at start.
- Peak memory: VmHWM of the run-worker processes sampled from /proc every 0.5 s (whole run, including the
  IO manager's write and the asset checks), beside the assets' own `peak_rss_mib` metadata read back over
  GraphQL (taken before the write and the checks)."""
