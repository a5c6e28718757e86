"""A tiny code location for the harness self-test: the shape of the product's 15-minute assets.

`sample_intervals` is partitioned like `contact_volume` and backfills in batches of at most 32
partitions per run. Each run appends the partition range it was given to the SQLite ledger at
`$SAMPLE_LEDGER_PATH`, so the test sees which ranges ran. While the file `$SAMPLE_FAIL_FLAG_PATH`
exists, a run whose range contains one of the partition keys listed in it (one a line) fails.
"""

import os
import sqlite3
import time
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    Config,
    DefaultSensorStatus,
    Definitions,
    OpExecutionContext,
    RunRequest,
    ScheduleDefinition,
    SkipReason,
    TimeWindowPartitionsDefinition,
    asset,
    in_process_executor,
    job,
    op,
    sensor,
)

LEDGER_ENV = "SAMPLE_LEDGER_PATH"
FAIL_FLAG_ENV = "SAMPLE_FAIL_FLAG_PATH"

fifteen_minute_partitions = TimeWindowPartitionsDefinition(
    cron_schedule="*/15 * * * *", start="2026-01-01-00:00", fmt="%Y-%m-%d-%H:%M", timezone="UTC")


def _record(run_id: str, first_key: str, last_key: str, partition_count: int, outcome: str) -> None:
    with sqlite3.connect(os.environ[LEDGER_ENV], timeout=30) as conn:
        conn.execute("create table if not exists ledger (run_id text, first_key text, last_key text,"
                     " partition_count integer, outcome text, recorded_at real)")
        conn.execute("insert into ledger values (?, ?, ?, ?, ?, ?)",
                     (run_id, first_key, last_key, partition_count, outcome, time.time()))  # when, for the record only


def _failing_keys() -> set[str]:
    flag = Path(os.environ.get(FAIL_FLAG_ENV, "/nonexistent"))
    return set(flag.read_text().split()) if flag.exists() else set()


@asset(partitions_def=fifteen_minute_partitions, backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=32))
def sample_intervals(context: AssetExecutionContext) -> None:
    keys = context.partition_keys
    first, last = context.partition_key_range.start, context.partition_key_range.end
    failing = _failing_keys().intersection(keys)
    if failing:
        _record(context.run_id, first, last, len(keys), "failed")
        raise RuntimeError(f"fail flag names {sorted(failing)}")
    _record(context.run_id, first, last, len(keys), "materialized")


class PauseConfig(Config):
    seconds: float = 0.0


@op
def pause(context: OpExecutionContext, config: PauseConfig) -> None:
    """Sleeps, so a test has a run it can terminate while it is running."""
    context.log.info(f"pausing {config.seconds}s")
    time.sleep(config.seconds)


@job
def sample_pause_job() -> None:
    pause()


sample_pause_schedule = ScheduleDefinition(name="sample_pause_schedule", job=sample_pause_job,
                                           cron_schedule="0 3 * * *", execution_timezone="UTC")


@sensor(job=sample_pause_job, minimum_interval_seconds=5, default_status=DefaultSensorStatus.STOPPED)
def sample_pause_sensor(context):
    """Requests one run (run key "once"); every later tick is skipped with a reason."""
    if context.cursor == "requested":
        return SkipReason("already requested the one run")
    context.update_cursor("requested")
    return RunRequest(run_key="once", tags={"sample/origin": "sensor"})


# In-process steps, as the product's code location runs them: no second Python process per run.
defs = Definitions(assets=[sample_intervals], jobs=[sample_pause_job],
                   schedules=[sample_pause_schedule], sensors=[sample_pause_sensor], executor=in_process_executor)
