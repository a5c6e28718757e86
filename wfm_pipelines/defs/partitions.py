"""The one partitioning of the interval assets, and the policies every Talkdesk-facing asset shares."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg

from wfm_pipelines.settings import PARTITION_FORMAT, load_settings

_settings = load_settings()

# 15-minute UTC intervals from WFM_HISTORY_START; the last partition is the last closed interval.
interval_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="*/15 * * * *",
    start=_settings.history_start,
    fmt=PARTITION_FORMAT,
    timezone="UTC",
)

# A backfill runs a week of intervals per run by default (WFM_BACKFILL_PARTITIONS_PER_RUN): a month is
# 5 runs, not 2,880. Inside a run each report is sized to a bounded number of entries, so memory stays
# that of one report however long the range.
interval_backfill_policy = dg.BackfillPolicy.multi_run(max_partitions_per_run=_settings.backfill_partitions_per_run)

# Every asset that creates Explore report jobs takes a slot of this pool (limit in dagster.yaml), so the
# account's 15-simultaneous-report quota is never exhausted by our runs.
EXPLORE_POOL = "talkdesk_explore"


def step_retry_policy() -> dg.RetryPolicy | None:
    """Step retries for transient Talkdesk trouble the client's own retries could not absorb."""
    retries = _settings.step_retries
    if retries <= 0:
        return None
    return dg.RetryPolicy(max_retries=retries, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


# `dagster/max_runtime` per kind of run: run monitoring (the daemon) ends a run that hangs past it, so a hung
# Talkdesk call or database lock never holds a run slot, or the Explore pool, for good. Backfill runs use the
# instance-wide default of dagster.yaml (run_monitoring.max_runtime_seconds).
MAX_RUNTIME_TAG = "dagster/max_runtime"
INTERVAL_RUN_MAX_SECONDS = 2 * 3600       # a tick, a healing range (up to a day), the nightly day
CONFIGURATION_RUN_MAX_SECONDS = 1800
SNAPSHOT_RUN_MAX_SECONDS = 300            # one collection of current states takes seconds


def max_runtime_tags(seconds: int) -> dict[str, str]:
    return {MAX_RUNTIME_TAG: str(seconds)}


def partition_key_for(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(PARTITION_FORMAT)


def partition_start(key: str) -> datetime:
    return datetime.strptime(key, PARTITION_FORMAT).replace(tzinfo=timezone.utc)


def range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Run tags that make one run cover [first_key .. last_key], as Dagster's own backfills do."""
    return {
        "dagster/asset_partition_range_start": first_key,
        "dagster/asset_partition_range_end": last_key,
    }
