"""The one partitioning of the interval assets, and the policies every Talkdesk-facing asset shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import dagster as dg

from wfm_pipelines.intervals import INTERVAL_CRON
from wfm_pipelines.settings import PARTITION_FORMAT, Account, Settings

# Every asset that creates Explore report jobs takes a slot of its account's pool (`explore_pool`; limit in
# dagster.yaml), so the account's 15-simultaneous-report quota is never exhausted by our runs.
EXPLORE_POOL = "talkdesk_explore"

# `dagster/max_runtime` per kind of run: run monitoring (the daemon) ends a run that hangs past it, so a hung
# Talkdesk call or database lock never holds a run slot, or the Explore pool, for good. Backfill runs use the
# instance-wide default of dagster.yaml (run_monitoring.max_runtime_seconds).
MAX_RUNTIME_TAG = "dagster/max_runtime"
INTERVAL_RUN_MAX_SECONDS = 2 * 3600       # a tick, a healing range (up to a day), the nightly day
CONFIGURATION_RUN_MAX_SECONDS = 1800


@dataclass(frozen=True)
class IntervalPolicies:
    """What the settings decide about the shape of the Dagster definitions, built once by
    `build_definitions()` and handed to the factories of assets, schedules and sensors."""

    # 15-minute UTC intervals from WFM_HISTORY_START; the last partition is the last closed interval.
    partitions_def: dg.TimeWindowPartitionsDefinition
    # A backfill runs a week of intervals per run by default (WFM_BACKFILL_PARTITIONS_PER_RUN): a month is
    # 5 runs, not 2,880. Inside a run each report is sized to a bounded number of entries.
    backfill_policy: dg.BackfillPolicy
    # Step retries (WFM_STEP_RETRIES) for transient Talkdesk trouble the client's own retries could not absorb.
    retry_policy: dg.RetryPolicy | None

    def interval_asset_args(self, account: Account) -> dict:
        """What every 15-minute asset's decorator shares: the partitioning, the backfill batching, the account's
        Explore pool, the step retries and the WFM table IO manager."""
        return dict(kinds={"talkdesk", "sql"}, partitions_def=self.partitions_def, backfill_policy=self.backfill_policy,
                    pool=explore_pool(account), retry_policy=self.retry_policy, io_manager_key="wfm_io_manager")

    @classmethod
    def from_settings(cls, settings: Settings) -> IntervalPolicies:
        retry = None
        if settings.step_retries > 0:
            retry = dg.RetryPolicy(max_retries=settings.step_retries, delay=30, backoff=dg.Backoff.EXPONENTIAL,
                                   jitter=dg.Jitter.PLUS_MINUS)
        return cls(
            partitions_def=dg.TimeWindowPartitionsDefinition(
                cron_schedule=INTERVAL_CRON, start=settings.history_start, fmt=PARTITION_FORMAT, timezone="UTC"),
            backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=settings.backfill_partitions_per_run),
            retry_policy=retry,
        )


def explore_pool(account: Account) -> str:
    """`talkdesk_explore`, or `talkdesk_explore__north` with an accounts file: Talkdesk's quota of 15
    simultaneous report jobs is per account, so each account's steps queue only behind its own."""
    return account.scoped_name(EXPLORE_POOL)


def account_metadata(account: Account) -> dict[str, str]:
    """Definition metadata that tells the WFM table IO manager whose rows an asset writes."""
    return {"wfm/account_id": account.id}


def max_runtime_tags(seconds: int) -> dict[str, str]:
    return {MAX_RUNTIME_TAG: str(seconds)}


def partition_key_for(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(PARTITION_FORMAT)


def range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Run tags that make one run cover [first_key .. last_key], as Dagster's own backfills do."""
    return {
        "dagster/asset_partition_range_start": first_key,
        "dagster/asset_partition_range_end": last_key,
    }
