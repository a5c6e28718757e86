"""The 15-minute collection schedules and the nightly re-collection of yesterday.

Each 15-minute tick runs one job over a partition RANGE (one run, one report per report type; with an accounts
file, one run over every enabled account), not one run per interval: the closed interval plus the trailing 2h15m that CommunityWFM re-reads for late data
(docs/counting-rules.md#the-15-minute-tick-and-late-data).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg

from wfm_pipelines.defs.jobs import CollectionJobs
from wfm_pipelines.defs.partitions import partition_key_for, range_tags
from wfm_pipelines.intervals import INTERVAL, floor_to_interval
from wfm_pipelines.settings import Settings

TRAILING_RECOLLECTION = timedelta(hours=2, minutes=15)

def tick_range(scheduled_at: datetime, lag_minutes: int, history_start: datetime) -> tuple[datetime, datetime] | None:
    """[start, end) of the intervals a tick collects: the interval that closed before the tick (the tick
    fires `lag_minutes` after it closes) and the trailing 2h15m before it, clipped at the history start."""
    end = floor_to_interval(scheduled_at.astimezone(timezone.utc) - timedelta(minutes=lag_minutes))
    start = max(end - TRAILING_RECOLLECTION, history_start)
    return (start, end) if end > start else None


def range_run_request(job_name: str, start: datetime, end: datetime, run_key: str, extra_tags: dict | None = None,
                      asset_selection: list[dg.AssetKey] | None = None) -> dg.RunRequest:
    first, last = partition_key_for(start), partition_key_for(end - INTERVAL)
    return dg.RunRequest(run_key=run_key, job_name=job_name, asset_selection=asset_selection,
                         tags={**range_tags(first, last), "wfm/collection": "scheduled", **(extra_tags or {})})


def _interval_schedule(settings: Settings, name: str, job: dg.UnresolvedAssetJobDefinition,
                       default_status) -> dg.ScheduleDefinition:
    lag = settings.schedule_lag_minutes
    minutes = ",".join(str(m + lag) for m in (0, 15, 30, 45))

    @dg.schedule(name=name, job=job, cron_schedule=f"{minutes} * * * *", execution_timezone="UTC",
                 default_status=default_status,
                 description=f"Every 15 minutes, {lag} min after an interval closes: collect it and re-collect "
                 "the trailing 2h15m in the same run.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        window = tick_range(context.scheduled_execution_time, lag, settings.history_start_datetime)
        if window is None:
            return dg.SkipReason("No closed interval after WFM_HISTORY_START yet.")
        start, end = window
        return range_run_request(job.name, start, end, run_key=f"{name}:{partition_key_for(end)}")

    return _schedule


def nightly_range(scheduled_at: datetime, history_start: datetime) -> tuple[datetime, datetime] | None:
    """Yesterday (UTC) in full."""
    today = scheduled_at.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(today - timedelta(days=1), history_start)
    return (start, today) if today > start else None


def build_schedules(settings: Settings, jobs: CollectionJobs,
                    default_status: dg.DefaultScheduleStatus) -> list[dg.ScheduleDefinition]:
    """Without an accounts file, today's two 15-minute schedules (a run each); with one, a single
    `interval_collection_schedule` whose tick is one run over every enabled account. Both re-collect
    yesterday nightly."""

    @dg.schedule(name="nightly_recollection_schedule", job=jobs.interval,
                 cron_schedule="30 2 * * *", execution_timezone="UTC", default_status=default_status,
                 description="At 02:30 UTC re-collect yesterday (UTC) in full, for late-settling data.")
    def nightly_recollection_schedule(context: dg.ScheduleEvaluationContext):
        window = nightly_range(context.scheduled_execution_time, settings.history_start_datetime)
        if window is None:
            return dg.SkipReason("Yesterday is before WFM_HISTORY_START.")
        start, end = window
        return range_run_request(jobs.interval.name, start, end, run_key=f"nightly:{start:%Y-%m-%d}",
                                 extra_tags={"wfm/collection": "nightly"})

    if jobs.per_asset:
        ticks = [_interval_schedule(settings, f"{job.name.removesuffix('_job')}_schedule", job, default_status)
                 for job in jobs.per_asset.values()]
    else:
        ticks = [_interval_schedule(settings, "interval_collection_schedule", jobs.interval, default_status)]
    return [*ticks, nightly_recollection_schedule]
