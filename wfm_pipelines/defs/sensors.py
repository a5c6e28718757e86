"""Sensors: every account's agent-state collection at its interval (one sensor, no run per collection), and
self-healing of failed or missing intervals, account by account."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from functools import partial

import dagster as dg

from wfm_pipelines.collection import healing
from wfm_pipelines.collection.agent_state_snapshots import collect_agent_state_snapshot
from wfm_pipelines.collection.realtime import (
    CollectionOutcome,
    RealtimeCollector,
    RealtimeCursor,
    due_accounts,
    look_interval_seconds,
)
from wfm_pipelines.defs.agent_states.assets import COLLECTION_CHECK, snapshot_metadata
from wfm_pipelines.defs.configuration.assets import CONFIGURATION_ASSETS
from wfm_pipelines.defs.jobs import INTERVAL_ASSETS, CollectionJobs
from wfm_pipelines.defs.partitions import IntervalPolicies
from wfm_pipelines.defs.schedules import range_run_request
from wfm_pipelines.defs.talkdesk_resources import TalkdeskRealtimeResource, realtime_resource_key
from wfm_pipelines.intervals import INTERVAL, floor_to_interval
from wfm_pipelines.raw_store import RawStore, RawStoreFullError
from wfm_pipelines.settings import PARTITION_FORMAT, Account, Settings

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


AGENT_STATE_SENSOR = "agent_state_sensor"
# Collections side by side; each also calls Talkdesk with its own few threads (20 agents a call).
MAX_COLLECTION_THREADS = 16


def build_agent_state_sensor(accounts: tuple[Account, ...], stale_after: int,
                             default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    """ONE sensor collects every enabled account's current agent states, each at its own interval, with no
    run. Every few seconds it starts the collections that are due on a thread pool that outlives the look,
    waits at most one look for them, and reports each one that finished as a materialization of the account's
    `agent_state_snapshots`. An account whose collection fails shows it on that asset's
    `latest_collection_succeeded` check (reported when it changes) and is tried again at its next interval;
    the other accounts go on. One sensor for all accounts keeps the daemon's bookkeeping to one tick a look,
    instead of one per account and collection."""
    intervals = {account.id: account.agent_state_interval_seconds for account in accounts}
    realtime_keys = {account.id: realtime_resource_key(account) for account in accounts}
    asset_keys = {account.id: dg.AssetKey(account.asset_key("agent_state_snapshots")) for account in accounts}
    look_seconds = look_interval_seconds(intervals.values())
    collector = RealtimeCollector(min(MAX_COLLECTION_THREADS, len(accounts)))
    cadence = ", ".join(a.labelled(f"every {a.agent_state_interval_seconds} s") for a in accounts[:5])
    cadence += f" and {len(accounts) - 5} more accounts" if len(accounts) > 5 else ""

    # The daemon visits its sensors every 5 s; a minimum a second under the look keeps a visit that comes a
    # hair early from pushing the tick to the next visit, which would double the look.
    @dg.sensor(name=AGENT_STATE_SENSOR, minimum_interval_seconds=look_seconds - 1, default_status=default_status,
               required_resource_keys={*realtime_keys.values(), "wfm_database"},
               description=f"Collects current agent states without launching a run ({cadence}); each "
               "collection is a materialization of the account's agent_state_snapshots, and a failed one fails "
               f"that asset's {COLLECTION_CHECK} check. Looks for due accounts every {look_seconds} s.")
    def agent_state_sensor(context: dg.SensorEvaluationContext):
        cursor = RealtimeCursor.from_text(context.cursor)
        cursor.forget_all_but(intervals)
        engine = context.resources.wfm_database.engine()
        now = time.time()
        for account_id in due_accounts(intervals, cursor.last_started, now, tolerance=look_seconds / 2):
            realtime: TalkdeskRealtimeResource = getattr(context.resources, realtime_keys[account_id])
            collect = partial(collect_agent_state_snapshot, realtime.long_lived_client(), engine,
                              account_id=account_id, stale_after=stale_after)
            if collector.start(account_id, collect):
                cursor.last_started[account_id] = now
        collector.wait(timeout=look_seconds)
        events: list[dg.AssetMaterialization | dg.AssetCheckEvaluation] = []
        for outcome in collector.finished():
            asset_key = asset_keys.get(outcome.account_id)
            if asset_key is None:  # an account no longer in the file
                continue
            if outcome.succeeded:
                events.append(dg.AssetMaterialization(asset_key=asset_key,
                                                      metadata=snapshot_metadata(outcome.collection)))
            else:
                context.log.warning(f"{outcome.account_id}: agent-state collection failed: {outcome.error}")
            if cursor.check_changes(outcome):
                events.append(collection_check_evaluation(asset_key, outcome))
        return dg.SensorResult(asset_events=events, cursor=cursor.to_text())

    return agent_state_sensor


def collection_check_evaluation(asset_key: dg.AssetKey, outcome: CollectionOutcome) -> dg.AssetCheckEvaluation:
    when = datetime.fromtimestamp(outcome.finished_at, timezone.utc).isoformat()
    if outcome.succeeded:
        metadata = {"snapshot_at": outcome.collection.snapshot_at.isoformat()}
    else:
        metadata = {"error": outcome.error, "failed_at": when,
                    "what_to_do": "Check the account's real-time client (URL, client id, secret variable) and "
                    "Talkdesk's status; the sensor tries again at the account's next interval."}
    return dg.AssetCheckEvaluation(asset_key=asset_key, check_name=COLLECTION_CHECK, passed=outcome.succeeded,
                                   metadata=metadata, severity=dg.AssetCheckSeverity.ERROR)


def healing_candidates(partitions_def: dg.TimeWindowPartitionsDefinition, now: datetime, lookback: timedelta,
                       lag_minutes: int) -> list[str]:
    """Partition keys of the healing window, oldest first, from the partitions definition itself. The newest
    interval is left to its schedule tick: only intervals that closed at least one tick ago count."""
    newest_end = floor_to_interval(now - timedelta(minutes=lag_minutes)) - INTERVAL
    start = max(floor_to_interval(now - lookback), partitions_def.start)
    if newest_end <= start:
        return []
    return list(partitions_def.get_partition_keys_in_time_window(dg.TimeWindow(start, newest_end)))


def configuration_missing(instance: dg.DagsterInstance, account: Account, job_name: str) -> bool:
    """The account's configuration never materialized, and no configuration run under way."""
    keys = [dg.AssetKey(account.asset_key(name)) for name in CONFIGURATION_ASSETS]
    if any(instance.get_latest_materialization_event(key) is not None for key in keys):
        return False
    return not instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=IN_FLIGHT), limit=1)


def build_healing_sensor(settings: Settings, policies: IntervalPolicies, jobs: CollectionJobs,
                         default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    accounts = settings.enabled_accounts
    raw_store = RawStore(settings.raw_store, min_free_mb=settings.min_free_disk_mb)

    @dg.sensor(name="interval_healing_sensor", jobs=jobs.all,
               minimum_interval_seconds=settings.healing_interval_seconds, default_status=default_status,
               description=f"Re-requests intervals of the last {settings.healing_lookback_days:g} days that failed or "
               f"never landed, newest first, with exponential backoff; gives up after {settings.healing_max_attempts} "
               "attempts and records that as an observation on the asset. Imports an account's configuration at "
               "once if it was never imported. Works account by account. Waits, spending no attempt, while the "
               "raw store has less free space than WFM_MIN_FREE_DISK_MB.")
    def interval_healing_sensor(context: dg.SensorEvaluationContext):
        try:
            # A collection would fail for want of room: requesting it would only spend an attempt.
            raw_store.ensure_room()
        except RawStoreFullError as full:
            return dg.SkipReason(f"Waiting for room: the raw store at {full.where} has {full.free_mib:,} MiB free, "
                                 f"less than WFM_MIN_FREE_DISK_MB ({full.min_free_mib:,} MiB).")
        now = datetime.now(timezone.utc)
        state = healing.HealingState.from_cursor(context.cursor)
        keys = healing_candidates(policies.partitions_def, now, timedelta(days=settings.healing_lookback_days),
                                  settings.schedule_lag_minutes)
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
