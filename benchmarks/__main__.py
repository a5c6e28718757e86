"""`make bench` (`python -m benchmarks [--quick]`): the figures of `../shared/design/CONTRACT.md` section 8, each with its baseline
measured in the same run, printed and written to `benchmarks/results/<date>.md`."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks import backfill, load, realtime, report, tick
from benchmarks.environment import LARGE_CENTER, QUICK_CENTER, Center, EmulatorProcess, describe_machine, fresh_databases

TARGETS = {"backfill_vs_floor": 1.5, "per_partition_vs_backfill": 20.0, "tick_s": 30.0, "writer_vs_to_sql": 5.0,
           "realtime_s": 10.0, "peak_mib": 1024.0}


@dataclass(frozen=True)
class Plan:
    center: Center
    days: int  # backfilled, by Dagster and by the floor
    sample_partitions: int  # of the one-run-per-partition sample
    load_rows: int
    target_partitions: int = 672  # what the per-partition sample is extrapolated to (7 days)


def build_plan(args: argparse.Namespace) -> Plan:
    if args.quick:
        plan = Plan(QUICK_CENTER, days=1, sample_partitions=4, load_rows=100_000, target_partitions=96)
    else:
        # Two days (192 partitions), not the week (672): on 2 cores the floor alone takes ~45 s and the Dagster
        # run ~90 s per large-center day, so a week on both sides cannot finish in 10 minutes. `--days 7`
        # runs the week (about 20 minutes and several GiB in the run process).
        plan = Plan(LARGE_CENTER, days=2, sample_partitions=8, load_rows=1_000_000)
    overrides = {name: getattr(args, name) for name in ("days", "sample_partitions", "load_rows") if getattr(args, name)}
    if overrides:
        plan = Plan(**{**plan.__dict__, **overrides})
    return plan


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller center and one day (under two minutes)")
    parser.add_argument("--days", type=int, help="days to backfill (overrides the plan)")
    parser.add_argument("--sample-partitions", type=int, help="partitions in the one-run-per-partition sample")
    parser.add_argument("--load-rows", type=int, help="rows in the load scenario")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write benchmarks/results/")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    plan = build_plan(args)
    began = time.perf_counter()
    machine = describe_machine()
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=plan.days)  # the last `days` full UTC days
    work = Path(tempfile.mkdtemp(prefix="wfm-bench-"))
    log(f"plan: {plan}; history from {start:%Y-%m-%d}; work dir {work}")
    emulator = EmulatorProcess(plan.center, work / "emulator.log").wait_ready()
    try:
        with fresh_databases("floor", "dagster", "per_partition", "load") as urls:
            log("scenario 4: current agent states")
            states = realtime.run_realtime(emulator)
            log(f"  {states.agents} agents, {states.calls} calls: {', '.join(f'{s:.2f}' for s in states.seconds)} s")

            log(f"scenario 3: {plan.load_rows:,} raw entries, writer vs to_sql")
            loaded = load.run_load(urls["load"], plan.load_rows, start)
            log(f"  writer {loaded.writer_seconds:.1f} s, to_sql {loaded.to_sql_seconds:.1f} s")

            log(f"scenario 1 floor: {plan.days} day(s) in a plain loop")
            floor = backfill.run_floor(emulator, urls["floor"], start, plan.days)
            log(f"  {floor.seconds:.1f} s, {floor.counts}")

            log("starting the two Dagster deployments (batched, one run per partition)")
            with backfill.deployments(emulator, urls, work, start) as running:
                log(f"scenario 1: Dagster backfill of {plan.days * 96} partitions")
                timeout = max(300.0, floor.seconds * 5 + 120)
                dagster = backfill.run_dagster_backfill(running["batched"], urls["dagster"], start, plan.days, timeout)
                log(f"  {dagster.seconds:.1f} s, {dagster.runs} run(s) {dagster.statuses}, {dagster.counts}")

                log("scenario 2: one contact_volume_schedule tick, tick -> rows visible")
                ticked = tick.run_tick(running["batched"], urls["dagster"], running["batched"].env)
                log(f"  rows after {ticked.seconds_to_rows:.1f} s, run ended after {ticked.seconds_to_run_end:.1f} s")

                log(f"scenario 1b: one run per partition, sample of {plan.sample_partitions}")
                per_partition = backfill.run_per_partition_sample(
                    running["per_partition"], start, plan.sample_partitions, plan.target_partitions,
                    timeout=max(300.0, plan.sample_partitions * 60))
                log(f"  sample {per_partition.sample.seconds:.1f} s for {per_partition.sample.runs} runs; "
                    f"extrapolated to {plan.target_partitions}: {per_partition.extrapolated_seconds:.0f} s")
    finally:
        emulator.stop()
    total = time.perf_counter() - began
    text = render(plan, machine, start, states, loaded, floor, dagster, ticked, per_partition, total, args)
    print(text)
    if not args.no_write:
        path = report.write_results(text, suffix="-quick" if args.quick else "")
        log(f"written to {path}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def render(plan, machine, start, states, loaded, floor, dagster, ticked, per_partition, total, args) -> str:
    from benchmarks.figures import build_figures, details  # noqa: PLC0415 - keeps this module short

    figures = build_figures(plan, states, loaded, floor, dagster, ticked, per_partition, TARGETS)
    command = "make bench" + (f" BENCH_ARGS={shlex.quote(' '.join(sys.argv[1:]))}" if sys.argv[1:] else "")
    return "\n\n".join([
        f"# Benchmarks {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"Command: `{command}` (whole run {total / 60:.1f} min). Center: {plan.center.name}, "
        f"{plan.center.queues} queues, {plan.center.agents:,} agents, {plan.center.contacts_per_day:,} contacts a day; "
        f"backfill of {plan.days} day(s) from {start:%Y-%m-%d} ({plan.days * 96} partitions).",
        "## Machine\n\n" + report.key_value_table(machine, ("", "")),
        "## Figures\n\n" + report.figures_table(figures),
        details(plan, states, loaded, floor, dagster, ticked, per_partition),
    ]) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
