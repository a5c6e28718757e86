"""Sensors: each account's agent-state collection at its interval (no run per collection), and self-healing
of failed or missing intervals, account by account."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import dagster as dg

from wfm_pipelines.accounts import Account
from wfm_pipelines.collection import healing
from wfm_pipelines.collection.agent_state_snapshots import collect_agent_state_snapshot
from wfm_pipelines.collection.windows import floor_to_interval
from wfm_pipelines.defs.agent_states.assets import snapshot_metadata
from wfm_pipelines.defs.configuration.assets import CONFIGURATION_ASSETS
from wfm_pipelines.defs.jobs import INTERVAL_ASSETS, CollectionJobs
from wfm_pipelines.defs.partitions import IntervalPolicies, partition_key_for
from wfm_pipelines.defs.schedules import INTERVAL, range_run_request
from wfm_pipelines.defs.talkdesk_resources import TalkdeskRealtimeResource, realtime_resource_key
from wfm_pipelines.settings import PARTITION_FORMAT, Settings

IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]

# Backoff between attempts at one interval: 5 min, 10, 20, 40 ... (WFM_HEALING_MAX_ATTEMPTS bounds it).
HEALING_BACKOFF_SECONDS = 300
HEALING_RANGES_PER_TICK = 2
HEALING_PARTITIONS_PER_RUN = 96

_STATUS_NAMES = {
    dg.AssetPartitionStatus.MATERIALIZED: healing.MATERIALIZED,
    dg.AssetPartitionStatus.FAILED: healing.FAILED,
    dg.AssetPartitionStatus.IN_PROGRESS: healing.IN_PROGRESS,
}


def agent_state_sensor_name(account: Account) -> str:
    """`agent_state_sensor`, or `agent_state_sensor__north` with an accounts file."""
    return account.scoped_name("agent_state_sensor")


def build_agent_state_sensor(account: Account, stale_after: int,
                             default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    """Collects the account's current agent states at its interval IN the sensor evaluation, with no run,
    and reports each collection as a materialization of its `agent_state_snapshots`. A collection that fails
    fails the tick, which the UI shows on this account's sensor alone; the next tick tries again. Evaluations
    of one sensor never overlap, so a slow collection delays the next instead of piling up."""
    realtime_key = realtime_resource_key(account)
    asset_key = dg.AssetKey(account.asset_key("agent_state_snapshots"))

    @dg.sensor(name=agent_state_sensor_name(account), minimum_interval_seconds=account.agent_state_interval_seconds,
               default_status=default_status, required_resource_keys={realtime_key, "wfm_database"},
               description=f"Collects {account.name}'s current agent states every {account.agent_state_interval_seconds} s "
               f"without launching a run; each collection is a materialization of {asset_key.to_user_string()}.")
    def agent_state_sensor(context: dg.SensorEvaluationContext):
        realtime: TalkdeskRealtimeResource = getattr(context.resources, realtime_key)
        collection = collect_agent_state_snapshot(realtime.long_lived_client(), context.resources.wfm_database.engine(),
                                                  account_id=account.id, stale_after=stale_after)
        return dg.SensorResult(asset_events=[
            dg.AssetMaterialization(asset_key=asset_key, metadata=snapshot_metadata(collection))])

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


def configuration_missing(instance: dg.DagsterInstance, account: Account, job_name: str) -> bool:
    """The account's configuration never materialized, and no configuration run under way."""
    keys = [dg.AssetKey(account.asset_key(name)) for name in CONFIGURATION_ASSETS]
    if any(instance.get_latest_materialization_event(key) is not None for key in keys):
        return False
    return not instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=IN_FLIGHT), limit=1)


def build_healing_sensor(settings: Settings, policies: IntervalPolicies, jobs: CollectionJobs,
                         default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    accounts = settings.enabled_accounts

    @dg.sensor(name="interval_healing_sensor", jobs=jobs.all,
               minimum_interval_seconds=settings.healing_interval_seconds, default_status=default_status,
               description=f"Re-requests intervals of the last {settings.healing_lookback_days:g} days that failed or "
               f"never landed, newest first, with exponential backoff; gives up after {settings.healing_max_attempts} "
               "attempts and records that as an observation on the asset. Imports an account's configuration at "
               "once if it was never imported. Works account by account.")
    def interval_healing_sensor(context: dg.SensorEvaluationContext):
        now = datetime.now(timezone.utc)
        state = healing.HealingState.from_cursor(context.cursor)
        keys = healing_candidates(now, timedelta(days=settings.healing_lookback_days), settings.schedule_lag_minutes,
                                  settings.history_start_datetime)
        run_requests, events = [], []
        for account in accounts:
            if configuration_missing(context.instance, account, jobs.configuration.name):
                # A fresh install should not wait for the hourly import to see its agents and queues.
                target = jobs.configuration_target(account)
                run_requests.append(dg.RunRequest(job_name=target.job_name, asset_selection=target.asset_selection,
                                                  tags={"wfm/collection": "healing"}))
            for asset_name in INTERVAL_ASSETS:
                asset_key = dg.AssetKey(account.asset_key(asset_name))
                target = jobs.interval_target(account, asset_name)
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
                        target.job_name, start, end, asset_selection=target.asset_selection,
                        run_key=f"healing:{asset_key.to_user_string()}:{first}:{last}:{attempt}",
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
