"""Sensors: the agent-state collection every WFM_AGENT_STATE_INTERVAL_SECONDS, and self-healing of
failed or missing intervals."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import dagster as dg

from wfm_pipelines.collection import healing
from wfm_pipelines.collection.windows import floor_to_interval
from wfm_pipelines.defs.agent_states.assets import agent_state_snapshots
from wfm_pipelines.defs.configuration.schedules import CONFIGURATION_ASSETS, configuration_job
from wfm_pipelines.defs.partitions import (
    SNAPSHOT_RUN_MAX_SECONDS,
    IntervalPolicies,
    max_runtime_tags,
    partition_key_for,
)
from wfm_pipelines.defs.schedules import (
    INTERVAL,
    agent_state_transactions_job,
    contact_volume_job,
    range_run_request,
)
from wfm_pipelines.settings import PARTITION_FORMAT, Settings

IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]

agent_state_snapshot_job = dg.define_asset_job(
    "agent_state_snapshot_job", selection=[agent_state_snapshots],
    # Ahead of queued history runs when a run slot frees; ended by run monitoring if it hangs.
    tags={"wfm/collection": "agent_state_snapshot", "dagster/priority": "10",
          **max_runtime_tags(SNAPSHOT_RUN_MAX_SECONDS)},
    description="Collect the current state of every active agent.")
# A collection in flight this long is hung (run monitoring ends it after SNAPSHOT_RUN_MAX_SECONDS): it no
# longer holds back the next one.
STUCK_SNAPSHOT_SECONDS = SNAPSHOT_RUN_MAX_SECONDS + 60

HEALED_ASSETS = ((dg.AssetKey("contact_volume"), contact_volume_job),
                 (dg.AssetKey("agent_state_transactions"), agent_state_transactions_job))
# Backoff between attempts at one interval: 5 min, 10, 20, 40 ... (WFM_HEALING_MAX_ATTEMPTS bounds it).
HEALING_BACKOFF_SECONDS = 300
HEALING_RANGES_PER_TICK = 2
HEALING_PARTITIONS_PER_RUN = 96

_STATUS_NAMES = {
    dg.AssetPartitionStatus.MATERIALIZED: healing.MATERIALIZED,
    dg.AssetPartitionStatus.FAILED: healing.FAILED,
    dg.AssetPartitionStatus.IN_PROGRESS: healing.IN_PROGRESS,
}


def build_agent_state_sensor(settings: Settings, default_status: dg.DefaultSensorStatus,
                             stuck_after_seconds: float = STUCK_SNAPSHOT_SECONDS) -> dg.SensorDefinition:

    @dg.sensor(name="agent_state_sensor", job=agent_state_snapshot_job,
               minimum_interval_seconds=settings.agent_state_interval_seconds, default_status=default_status,
               description="Collects current agent states every WFM_AGENT_STATE_INTERVAL_SECONDS; a tick is "
               "skipped, not queued, while the previous collection still runs, unless that one is hung.")
    def agent_state_sensor(context: dg.SensorEvaluationContext):
        running = context.instance.get_run_records(
            dg.RunsFilter(job_name=agent_state_snapshot_job.name, statuses=IN_FLIGHT), limit=1)
        if running:
            record = running[0]
            age = time.time() - record.create_timestamp.timestamp()
            if age < stuck_after_seconds:
                return dg.SkipReason(f"Previous collection {record.dagster_run.run_id} is still running.")
            context.log.warning(f"Collection {record.dagster_run.run_id} has been in flight for {age:.0f} s: "
                                "treating it as hung (run monitoring ends it) and collecting again")
        return dg.RunRequest()

    return agent_state_sensor


def healing_candidates(now: datetime, lookback: timedelta, lag_minutes: int, history_start: datetime) -> list[str]:
    """Partition keys of the healing window, oldest first. The newest interval is left to its schedule
    tick: only intervals that closed at least one tick ago count."""
    newest_end = floor_to_interval(now - timedelta(minutes=lag_minutes)) - INTERVAL
    start = max(floor_to_interval(now - lookback), history_start)
    keys, cursor = [], start
    while cursor + INTERVAL <= newest_end:
        keys.append(partition_key_for(cursor))
        cursor += INTERVAL
    return keys


def configuration_missing(instance: dg.DagsterInstance) -> bool:
    """No configuration asset ever materialized, and no configuration run under way."""
    if any(instance.get_latest_materialization_event(dg.AssetKey(name)) is not None for name in CONFIGURATION_ASSETS):
        return False
    return not instance.get_run_records(dg.RunsFilter(job_name=configuration_job.name, statuses=IN_FLIGHT), limit=1)


def build_healing_sensor(settings: Settings, policies: IntervalPolicies,
                         default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:

    @dg.sensor(name="interval_healing_sensor", jobs=[configuration_job, *(job for _, job in HEALED_ASSETS)],
               minimum_interval_seconds=settings.healing_interval_seconds, default_status=default_status,
               description=f"Re-requests intervals of the last {settings.healing_lookback_days:g} days that failed or "
               f"never landed, newest first, with exponential backoff; gives up after {settings.healing_max_attempts} "
               "attempts and records that as an observation on the asset. Imports the configuration at once "
               "if it was never imported.")
    def interval_healing_sensor(context: dg.SensorEvaluationContext):
        now = datetime.now(timezone.utc)
        state = healing.HealingState.from_cursor(context.cursor)
        keys = healing_candidates(now, timedelta(days=settings.healing_lookback_days), settings.schedule_lag_minutes,
                                  settings.history_start_datetime)
        run_requests, events = [], []
        if configuration_missing(context.instance):
            # A fresh install should not wait for the hourly import to see its agents and queues.
            run_requests.append(dg.RunRequest(job_name=configuration_job.name, tags={"wfm/collection": "healing"}))
        for asset_key, job in HEALED_ASSETS:
            raw_status = context.instance.get_status_by_partition(asset_key, keys, policies.partitions_def) or {}
            status = {key: _STATUS_NAMES.get(value, healing.MISSING) for key, value in raw_status.items()}
            plan = healing.plan_asset_healing(
                asset_key.to_user_string(), keys, status, state, time.time(),
                max_attempts=settings.healing_max_attempts, backoff_seconds=HEALING_BACKOFF_SECONDS,
                max_ranges=HEALING_RANGES_PER_TICK, max_partitions_per_range=HEALING_PARTITIONS_PER_RUN)
            for first, last, attempt in plan.ranges:
                context.log.info(f"{asset_key.to_user_string()}: requesting {first}..{last} (attempt {attempt})")
                start = datetime.strptime(first, PARTITION_FORMAT).replace(tzinfo=timezone.utc)
                end = datetime.strptime(last, PARTITION_FORMAT).replace(tzinfo=timezone.utc) + INTERVAL
                run_requests.append(range_run_request(
                    job.name, start, end, run_key=f"healing:{job.name}:{first}:{last}:{attempt}",
                    extra_tags={"wfm/collection": "healing", "wfm/healing_attempt": str(attempt)}))
            for key in plan.newly_gave_up:
                context.log.warning(f"{asset_key.to_user_string()} {key}: gave up after "
                                    f"{settings.healing_max_attempts} attempts; rerun it from the UI")
                events.append(dg.AssetObservation(
                    asset_key=asset_key, partition=key,
                    metadata={"healing": "gave up", "attempts": settings.healing_max_attempts,
                              "what_to_do": "Select the partition in the UI and launch a backfill."}))
        return dg.SensorResult(run_requests=run_requests, asset_events=events, cursor=state.to_cursor())

    return interval_healing_sensor
