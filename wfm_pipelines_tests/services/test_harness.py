"""Self-test of the Dagster harness: a real webserver and daemon, driven over GraphQL as the UI does.

One deployment serves the whole module; its backfill daemon loops every 2 s instead of Dagster's fixed 30 s
(harness.QUICK_BACKFILL_INTERVAL_SECONDS). The three first backfills are launched together so they share the
daemon's iterations; each test prints the wall time of its steps.
"""

import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from dagster_harness.deployment import QUICK_BACKFILL_INTERVAL_SECONDS, DagsterDeployment, DagsterGraphQLError

# The first test also pays for the module's deployment start and first backfills: more than the suite's 300 s
# when the machine is busy with other workers.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ASSET = "sample_intervals"
DAY_BACKFILLED_CLEANLY = "2026-01-02"
DAY_RERUN_BY_SELECTION = "2026-01-03"
DAY_RERUN_FROM_FAILURE = "2026-01-04"
# One key in the first 32-partition batch of one day and one in the last batch of another.
FAILING_KEYS = [f"{DAY_RERUN_BY_SELECTION}-05:00", f"{DAY_RERUN_FROM_FAILURE}-20:00"]


def day_keys(day: str) -> list[str]:
    return [f"{day}-{h:02d}:{m:02d}" for h in range(24) for m in (0, 15, 30, 45)]


def batches(day: str) -> list[tuple[str, str, int]]:
    """The three (first key, last key, count) ranges a day backfills in, at 32 partitions a run."""
    keys = day_keys(day)
    return [(keys[i], keys[i + 31], 32) for i in (0, 32, 64)]


def report(step: str, started: float) -> None:
    print(f"[timing] {step}: {time.monotonic() - started:.1f}s")


class Sample:
    def __init__(self, home: Path):
        self.ledger = home / "ledger.db"
        self.fail_flag = home / "fail.flag"
        self.deployment = DagsterDeployment(
            home / "dagster", module="wfm_pipelines_tests.defs.sample_location",
            env={"SAMPLE_LEDGER_PATH": str(self.ledger), "SAMPLE_FAIL_FLAG_PATH": str(self.fail_flag)},
            backfill_interval_seconds=QUICK_BACKFILL_INTERVAL_SECONDS)

    def ledger_rows(self, run_ids: list[str]) -> list[tuple[str, str, int, str]]:
        with sqlite3.connect(self.ledger) as conn:
            rows = conn.execute("select run_id, first_key, last_key, partition_count, outcome from ledger").fetchall()
        return sorted((first, last, count, outcome) for run_id, first, last, count, outcome in rows if run_id in run_ids)


@pytest.fixture(scope="module")
def sample(request) -> Sample:
    # Not under pytest's basetemp: a concurrent pytest session may prune that while these tests run.
    home = Path(tempfile.mkdtemp(prefix="wfm-dagster-harness-"))
    failures_before = request.session.testsfailed
    sample = Sample(home)
    started = time.monotonic()
    sample.deployment.start()
    report("start webserver + daemon until location LOADED and daemons heartbeat", started)
    try:
        yield sample
    finally:
        started = time.monotonic()
        sample.deployment.stop()
        report("stop", started)
        if request.session.testsfailed == failures_before:
            shutil.rmtree(home, ignore_errors=True)
        else:
            print(f"Dagster home kept for inspection (logs in dagster/logs): {home}")


@pytest.fixture(scope="module")
def first_backfills(sample) -> dict[str, dict]:
    """Three one-day backfills launched at once; the fail flag breaks one batch in two of them."""
    deployment = sample.deployment
    sample.fail_flag.write_text("\n".join(FAILING_KEYS))
    started = time.monotonic()
    ids = {
        DAY_BACKFILLED_CLEANLY: deployment.launch_partition_backfill(
            [ASSET], range=(f"{DAY_BACKFILLED_CLEANLY}-00:00", f"{DAY_BACKFILLED_CLEANLY}-23:45")),
        DAY_RERUN_BY_SELECTION: deployment.launch_partition_backfill([ASSET], day_keys(DAY_RERUN_BY_SELECTION)),
        DAY_RERUN_FROM_FAILURE: deployment.launch_partition_backfill([ASSET], day_keys(DAY_RERUN_FROM_FAILURE)),
    }
    results = {day: deployment.wait_for_backfill(backfill_id, timeout=240) for day, backfill_id in ids.items()}
    report("three one-day backfills (96 partitions each), launch to all COMPLETED_*", started)
    for day, result in results.items():
        runs = result["runs"]
        print(f"[timing]   {day}: runs started {min(r['startTime'] for r in runs) - result['created_at']:.1f}s "
              f"after launch, last run ended {max(r['endTime'] for r in runs) - result['created_at']:.1f}s, "
              f"backfill marked {result['status']} {result['ended_at'] - result['created_at']:.1f}s")
    return results


def test_one_day_backfill_runs_as_three_batches_and_materializes_every_partition(sample, first_backfills):
    result = first_backfills[DAY_BACKFILLED_CLEANLY]

    assert result["status"] == "COMPLETED_SUCCESS"
    assert result["num_partitions"] == 96
    assert [r["status"] for r in result["runs"]] == ["SUCCESS"] * 3
    assert sample.ledger_rows(result["run_ids"]) == [(*batch, "materialized") for batch in batches(DAY_BACKFILLED_CLEANLY)]
    runs = sample.deployment.runs(tags={"dagster/backfill": result["id"]})
    assert sorted(r["runId"] for r in runs) == sorted(result["run_ids"])
    assert all(r["assetSelection"] == [ASSET] for r in runs)
    statuses = sample.deployment.partition_statuses(ASSET)
    assert {statuses[key] for key in day_keys(DAY_BACKFILLED_CLEANLY)} == {"MATERIALIZED"}
    assert statuses[f"{DAY_BACKFILLED_CLEANLY}-00:00"] == "MATERIALIZED"
    assert statuses["2026-01-01-23:45"] == "MISSING"


def test_failed_partitions_are_filled_by_selecting_them_or_reexecuting_from_failure(sample, first_backfills):
    deployment = sample.deployment
    by_selection, from_failure = first_backfills[DAY_RERUN_BY_SELECTION], first_backfills[DAY_RERUN_FROM_FAILURE]
    assert by_selection["status"] == from_failure["status"] == "COMPLETED_FAILED"
    assert sorted(r["status"] for r in by_selection["runs"]) == ["FAILURE", "SUCCESS", "SUCCESS"]
    failed_batch_by_selection = batches(DAY_RERUN_BY_SELECTION)[0]
    failed_batch_from_failure = batches(DAY_RERUN_FROM_FAILURE)[2]
    statuses = deployment.partition_statuses(ASSET)
    failed = [key for key, status in statuses.items() if status == "FAILED"]
    selection_keys, reexecution_keys = day_keys(DAY_RERUN_BY_SELECTION)[:32], day_keys(DAY_RERUN_FROM_FAILURE)[64:]
    assert failed == selection_keys + reexecution_keys
    assert {statuses[key] for key in day_keys(DAY_RERUN_BY_SELECTION)[32:]} == {"MATERIALIZED"}

    sample.fail_flag.unlink()
    started = time.monotonic()
    # As a user does in the UI: filter the partitions of the day to the failed ones, launch a backfill ...
    selected = [key for key in day_keys(DAY_RERUN_BY_SELECTION) if statuses[key] == "FAILED"]
    rerun_by_selection = deployment.launch_partition_backfill([ASSET], selected)
    # ... or, on the backfill's page, "Re-execute" -> "From failure".
    rerun_from_failure = deployment.reexecute_backfill(from_failure["id"], "FROM_FAILURE")
    reruns = [deployment.wait_for_backfill(rerun_by_selection, timeout=150),
              deployment.wait_for_backfill(rerun_from_failure, timeout=150)]
    report("two reruns of the failed partitions, launch to COMPLETED_SUCCESS", started)

    assert [r["status"] for r in reruns] == ["COMPLETED_SUCCESS", "COMPLETED_SUCCESS"]
    assert sample.ledger_rows(reruns[0]["run_ids"]) == [(*failed_batch_by_selection, "materialized")]
    assert sample.ledger_rows(reruns[1]["run_ids"]) == [(*failed_batch_from_failure, "materialized")]
    assert reruns[1]["tags"]["dagster/parent_backfill_id"] == from_failure["id"]
    statuses = deployment.partition_statuses(ASSET)
    for day in (DAY_BACKFILLED_CLEANLY, DAY_RERUN_BY_SELECTION, DAY_RERUN_FROM_FAILURE):
        assert {statuses[key] for key in day_keys(day)} == {"MATERIALIZED"}, day


def test_from_failure_flag_is_refused_for_an_asset_backfill(sample):
    with pytest.raises(DagsterGraphQLError, match="fromFailure is not supported for pure asset backfills"):
        sample.deployment.launch_partition_backfill([ASSET], ["2026-01-05-00:00"], from_failure=True)


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.5)
    return value


def test_sensor_started_and_stopped_over_graphql_shows_its_ticks(sample):
    deployment, name = sample.deployment, "sample_pause_sensor"
    assert deployment.sensor_status(name) == "STOPPED"
    assert deployment.sensor_ticks(name) == []

    started = time.monotonic()
    deployment.set_sensor_running(name, True)
    assert deployment.sensor_status(name) == "RUNNING"
    requesting = wait_for(lambda: [t for t in deployment.sensor_ticks(name) if t["runIds"]], 60, "no tick with a run")
    report("sensor started -> first tick with a run", started)
    run = deployment.wait_for_run(requesting[0]["runIds"][0])
    assert run["status"] == "SUCCESS" and run["tags"]["sample/origin"] == "sensor"
    skipped = wait_for(lambda: [t for t in deployment.sensor_ticks(name) if t["status"] == "SKIPPED"], 60, "no skip")
    assert skipped[0]["skipReason"] == "already requested the one run"
    report("sensor started -> run succeeded and a later tick skipped", started)

    deployment.set_sensor_running(name, False)
    assert deployment.sensor_status(name) == "STOPPED"
    ticks_when_stopped = len(deployment.sensor_ticks(name))
    time.sleep(8)  # longer than the sensor's 5 s interval plus the daemon's loop
    assert len(deployment.sensor_ticks(name)) == ticks_when_stopped


def test_schedule_started_and_stopped_over_graphql(sample):
    deployment, name = sample.deployment, "sample_pause_schedule"
    assert deployment.schedule_status(name) == "STOPPED"
    deployment.set_schedule_running(name, True)
    assert deployment.schedule_status(name) == "RUNNING"
    deployment.set_schedule_running(name, False)
    assert deployment.schedule_status(name) == "STOPPED"
    assert deployment.schedule_ticks(name) == []  # cron 03:00 UTC: no tick while the test runs


def test_launched_run_can_be_terminated(sample):
    deployment = sample.deployment
    started = time.monotonic()
    run_id = deployment.launch_run("sample_pause_job", tags={"sample/test": "terminate"},
                                   run_config={"ops": {"pause": {"config": {"seconds": 120}}}})
    deployment.wait_for_run(run_id, {"STARTED"}, timeout=60)
    report("launchRun -> STARTED", started)
    deployment.terminate_run(run_id)
    assert deployment.wait_for_run(run_id, timeout=60)["status"] == "CANCELED"
    report("launchRun -> terminated run CANCELED", started)
    assert [r["runId"] for r in deployment.runs(tags={"sample/test": "terminate"})] == [run_id]
    deployment.wait_for_runs_finished(timeout=60)
