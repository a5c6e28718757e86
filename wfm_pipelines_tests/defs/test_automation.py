"""Schedules, sensors and the loading of the code location."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.defs.partitions import partition_key_for
from wfm_pipelines.definitions import build_definitions
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines_tests.defs.support import (
    agent_state_transactions,
    contact_volume,
    resources_for,
    settings_for_tests,
)
from wfm_pipelines_tests.defs.test_assets import materialize_range
from wfm_pipelines_tests.reference_day import clock_on_the_reference_day

UTC = timezone.utc
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TALKDESK_", "WFM_", "DAGSTER_HOME"))}


def test_definitions_load_with_no_env_var_set(tmp_path):
    code = ("import dagster as dg; from wfm_pipelines.definitions import defs; dg.Definitions.validate_loadable(defs()); "
            "print(sorted(a.key.to_user_string() for a in defs().resolve_all_asset_specs()))")
    env = clean_env()
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(sorted(["agents", "queues", "queue_memberships", "contact_volume",
                                             "agent_state_transactions", "agent_state_snapshots"]))
    validate = subprocess.run([os.path.join(os.path.dirname(sys.executable), "dagster"), "definitions", "validate",
                               "-m", "wfm_pipelines.definitions"], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=180)
    assert validate.returncode == 0, validate.stdout + validate.stderr


@pytest.fixture
def defs_for(emulator, sqlite_url):
    """The real Definitions, built from the settings a user would set, pointed at the test emulator."""
    def build(**extra_env):
        return build_definitions(settings_for_tests(TALKDESK_BASE_URL=emulator.url, TALKDESK_API_URL=emulator.url,
                                                    WFM_DATABASE_URL=sqlite_url, **extra_env))
    return build


def evaluate_schedule(defs, name, at):
    schedule = defs.resolve_schedule_def(name)
    with dg.build_schedule_context(scheduled_execution_time=at) as context:
        return schedule.evaluate_tick(context)


@pytest.mark.parametrize("name", ["contact_volume_schedule", "agent_state_transactions_schedule"])
def test_a_15_minute_tick_collects_the_closed_interval_and_the_trailing_2h15m(defs_for, name):
    defs = defs_for()
    schedule = defs.resolve_schedule_def(name)
    assert schedule.cron_schedule == "5,20,35,50 * * * *"
    result = evaluate_schedule(defs, name, datetime(2026, 3, 1, 10, 20, tzinfo=UTC))
    (request,) = result.run_requests
    # 10:15 closed at 10:15 and the tick fires 5 minutes later; nine intervals end with it.
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-03-01-08:00", "2026-03-01-10:00")
    job = defs.resolve_job_def(request.job_name or schedule.job_name)
    assert [k.to_user_string() for k in job.asset_layer.executable_asset_keys] == [name.replace("_schedule", "")]


def test_the_nightly_tick_recollects_yesterday_in_one_run_of_both_assets(defs_for):
    defs = defs_for()
    result = evaluate_schedule(defs, "nightly_recollection_schedule", datetime(2026, 3, 2, 2, 30, tzinfo=UTC))
    (request,) = result.run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-03-01-00:00", "2026-03-01-23:45")


def test_ticks_before_the_history_start_are_skipped(defs_for):
    defs = defs_for(WFM_HISTORY_START="2026-03-01-10:00")
    assert evaluate_schedule(defs, "contact_volume_schedule", datetime(2026, 3, 1, 10, 5, tzinfo=UTC)).skip_message
    clipped = evaluate_schedule(defs, "contact_volume_schedule", datetime(2026, 3, 1, 10, 50, tzinfo=UTC))
    assert clipped.run_requests[0].tags[RANGE_START] == "2026-03-01-10:00"


def _evaluate(sensor, defs, instance, cursor=None):
    with dg.build_sensor_context(instance=instance, definitions=defs, resources=defs.resources,
                                 cursor=cursor) as context:
        return sensor.evaluate_tick(context)


def _started_earlier(cursor: str, seconds: float) -> str:
    """The sensor's cursor as if every account's last collection had started `seconds` earlier."""
    state = json.loads(cursor)
    state["last_started"] = {account: at - seconds for account, at in state["last_started"].items()}
    return json.dumps(state)


def test_agent_state_sensor_collects_at_the_interval_and_reports_materializations_without_a_run(
        defs_for, sqlite_url):
    defs = defs_for(WFM_AGENT_STATE_INTERVAL_SECONDS="15")
    sensor = defs.resolve_sensor_def("agent_state_sensor")
    assert sensor.minimum_interval_seconds == 4  # it looks every 5 s; the account is collected every 15 s
    with dg.instance_for_test() as instance:
        first = _evaluate(sensor, defs, instance)
        assert not first.run_requests  # Dagster calls a tick with events only 'empty'; the events land
        materialization, check = first.asset_events
        assert isinstance(materialization, dg.AssetMaterialization)
        assert materialization.asset_key == dg.AssetKey("agent_state_snapshots")
        assert materialization.metadata["source"].value == "ccaas_users_status"
        assert materialization.metadata["rows_appended"].value == materialization.metadata["agents_asked"].value > 0
        # the check is reported the first time, then only when it changes
        assert isinstance(check, dg.AssetCheckEvaluation) and check.passed
        assert check.check_name == "latest_collection_succeeded"

        too_soon = _evaluate(sensor, defs, instance, cursor=first.cursor)
        assert too_soon.asset_events == [] and too_soon.cursor == first.cursor

        due = _evaluate(sensor, defs, instance, cursor=_started_earlier(first.cursor, 13))
        (again,) = due.asset_events  # within half a look of its interval: collected, and the check unchanged
        assert isinstance(again, dg.AssetMaterialization)
        snapshots = queries.read_table(get_engine(sqlite_url), "wfm_agent_state_snapshot",
                                       account_id=DEFAULT_ACCOUNT_ID)
        assert snapshots["snapshot_at"].nunique() == 2
        assert instance.get_runs() == []


def test_self_healing_rerequests_a_failed_interval_and_stops_once_it_landed(defs_for, emulator, sqlite_url):
    defs = defs_for(WFM_HEALING_LOOKBACK_DAYS="0.125")  # three hours: a small window to fill in the test
    sensor = defs.resolve_sensor_def("interval_healing_sensor")
    resources = resources_for(emulator.url, sqlite_url)
    # The sensor looks back from "now": pinned to a busy afternoon, so the intervals it judges hold data and no
    # quarter hour closes while the test runs (it takes seconds; the clock starts at 14:07).
    with clock_on_the_reference_day(14 + 7 / 60), dg.instance_for_test() as instance:
        now = datetime.now(UTC)
        start = (now - timedelta(hours=3)).replace(minute=(now.minute // 15) * 15, second=0, microsecond=0)
        failed_start, failed_end = start + timedelta(hours=1), start + timedelta(hours=1, minutes=30)
        end = now.replace(minute=(now.minute // 15) * 15, second=0, microsecond=0) - timedelta(minutes=15)
        # agent_state_transactions never ran for the middle range: it is missing, which heals the same way.
        for asset in (contact_volume, agent_state_transactions):
            assert materialize_range([asset], resources, start, failed_start, instance=instance).success
            assert materialize_range([asset], resources, failed_end, end, instance=instance).success
        emulator.set_faults(report_failure=True)
        assert not materialize_range([contact_volume], resources, failed_start, failed_end, instance=instance,
                                     raise_on_error=False).success
        emulator.set_faults(report_failure=False)

        with dg.build_sensor_context(instance=instance, definitions=defs, resources=defs.resources) as context:
            result = sensor.evaluate_tick(context)
        cursor = result.cursor
        wanted = (partition_key_for(failed_start), partition_key_for(failed_end - timedelta(minutes=15)))
        volume_requests = [r for r in result.run_requests if r.job_name == "contact_volume_job"]
        assert wanted in [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in volume_requests]
        request = next(r for r in volume_requests if (r.tags[RANGE_START], r.tags[RANGE_END]) == wanted)
        state_requests = [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in result.run_requests
                          if r.job_name == "agent_state_transactions_job"]
        assert wanted in state_requests
        assert request.tags["wfm/healing_attempt"] == "1"

        assert dg.materialize([contact_volume], resources=resources, instance=instance, tags=request.tags).success
        statuses = instance.get_status_by_partition(contact_volume.key, list(wanted), contact_volume.partitions_def)
        assert {str(s) for s in statuses.values()} == {"AssetPartitionStatus.MATERIALIZED"}, statuses
        # With its ledger the sensor waits out the backoff anyway; without it (a fresh cursor) only the
        # partition statuses can keep the healed interval out of the requests.
        for ledger in (cursor, None):
            with dg.build_sensor_context(instance=instance, definitions=defs, cursor=ledger) as context:
                again = sensor.evaluate_tick(context)
            assert wanted not in [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in again.run_requests
                                  if r.job_name == "contact_volume_job"]


def test_self_healing_imports_the_configuration_once_when_it_was_never_imported(defs_for, emulator, sqlite_url):
    defs = defs_for(WFM_HEALING_LOOKBACK_DAYS="0.01")
    sensor = defs.resolve_sensor_def("interval_healing_sensor")

    def configuration_requests(instance):
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=defs.resources) as context:
            return [r for r in sensor.evaluate_tick(context).run_requests if r.job_name == "configuration_job"]

    with dg.instance_for_test() as instance:
        (request,) = configuration_requests(instance)
        job = defs.resolve_job_def("configuration_job")
        assert job.execute_in_process(instance=instance, tags=request.tags).success
        assert len(queries.read_table(get_engine(sqlite_url), "wfm_agent", account_id=DEFAULT_ACCOUNT_ID)) > 0
        assert configuration_requests(instance) == []


def test_self_healing_gives_up_after_its_attempts_and_says_so_on_the_asset(defs_for):
    defs = defs_for(WFM_HEALING_LOOKBACK_DAYS="0.05", WFM_HEALING_MAX_ATTEMPTS="1")
    sensor = defs.resolve_sensor_def("interval_healing_sensor")
    with dg.instance_for_test() as instance:
        cursor, ticks = None, []
        for _ in range(3):
            with dg.build_sensor_context(instance=instance, definitions=defs, cursor=cursor) as context:
                result = sensor.evaluate_tick(context)
            cursor = result.cursor
            ticks.append(result)
        requested = {(r.job_name, r.tags[RANGE_START]) for r in ticks[0].run_requests if r.job_name != "configuration_job"}
        assert requested  # nothing ever landed in this instance: every interval is missing
        gave_up = ticks[1].asset_events
        assert gave_up and all(isinstance(e, dg.AssetObservation) for e in gave_up)
        assert {e.metadata["healing"].value for e in gave_up} == {"gave up"}
        assert {e.asset_key.to_user_string() for e in gave_up} == {"contact_volume", "agent_state_transactions"}
        assert all(e.partition for e in gave_up)
        assert ticks[2].asset_events == []  # reported once, not at every tick


def test_healing_waits_without_spending_an_attempt_while_the_raw_store_lacks_room(defs_for, tmp_path):
    raw = tmp_path / "raw"
    free = RawStore(raw).free_mb()
    # The volume "past" WFM_MIN_FREE_DISK_MB: the deployment keeps free 10 GiB more than the volume has.
    full = defs_for(WFM_HEALING_LOOKBACK_DAYS="0.125", WFM_RAW_STORE=str(raw), WFM_MIN_FREE_DISK_MB=str(free + 10240))
    roomy = defs_for(WFM_HEALING_LOOKBACK_DAYS="0.125", WFM_RAW_STORE=str(raw))
    with clock_on_the_reference_day(14 + 7 / 60), dg.instance_for_test() as instance:
        waiting = _evaluate(full.resolve_sensor_def("interval_healing_sensor"), full, instance)
        assert waiting.skip_message.startswith(f"Waiting for room: the raw store at {raw} has "), waiting.skip_message
        assert not waiting.run_requests and waiting.cursor is None  # no attempt spent
        healing = _evaluate(roomy.resolve_sensor_def("interval_healing_sensor"), roomy, instance)
    attempts = {request.tags.get("wfm/healing_attempt") for request in healing.run_requests}
    assert healing.run_requests and attempts - {None} == {"1"}  # the first attempt, once there is room
