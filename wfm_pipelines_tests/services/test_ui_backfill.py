"""The UI paths of the product, through a real webserver and daemon driven over GraphQL as the UI does:
a one-day partition backfill runs as a few batched runs and fills the tables with the emulator's data;
a fault fails part of a backfill, and relaunching only the failed partitions gives the fault-free tables;
a re-collection Talkdesk answers with an empty report is refused unless launched with wfm/accept_shrink."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.defs.partitions import range_tags
from talkdesk_emulator.server import EmulatorConfig, EmulatorServer
from wfm_pipelines.settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, OWNER_COLUMN
from dagster_harness.deployment import QUICK_BACKFILL_INTERVAL_SECONDS, DagsterDeployment
from wfm_pipelines_tests.defs.support import (
    agent_state_transactions,
    contact_volume,
    expected_volume,
    fetch_report,
    raw_entries_of,
    raw_store_for,
    resources_for,
)
from wfm_pipelines_tests.reference_day import reference_window

pytestmark = pytest.mark.slow

ASSETS = ["contact_volume", "agent_state_transactions"]
BATCH = 32  # partitions per run in this deployment: a day is 3 runs
FACT_TABLES = {
    "wfm_contact_volume_interval": ["queue_id", "interval_start"],
    "wfm_agent_state_transaction": ["agent_id", "state_start"],
}
RAW_KEY = [OWNER_COLUMN, KEY_COLUMN]


def day_keys(start) -> list[str]:
    return [(start + timedelta(minutes=15 * i)).strftime("%Y-%m-%d-%H:%M") for i in range(96)]


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def table_snapshot(database_url: str) -> dict[str, pd.DataFrame]:
    engine = get_engine(database_url)
    snapshot = {}
    for table, key in FACT_TABLES.items():
        frame = queries.read_table(engine, table, account_id=DEFAULT_ACCOUNT_ID).drop(columns=["collected_at"])
        snapshot[table] = frame.sort_values(key).reset_index(drop=True)
    for report_type in ("calls", "user_status"):
        raw = raw_entries_of(database_url, report_type).to_pandas()
        snapshot[f"raw {report_type}"] = raw.sort_values(RAW_KEY).reset_index(drop=True)
    return snapshot


@pytest.mark.timeout(600)
def test_backfill_in_batches_then_rerun_only_the_failed_partitions(postgres_url, tmp_path):
    emulator = EmulatorServer(EmulatorConfig(seed=11, queues=4, agents=25, contacts_per_day=2500,
                                             report_processing_seconds=0.2)).start()
    # Not under pytest's tmp_path: the Dagster home must outlive a failing test for inspection.
    home = Path(tempfile.mkdtemp(prefix="wfm-ui-"))
    env = {
        "TALKDESK_BASE_URL": emulator.url, "TALKDESK_API_URL": emulator.url,
        "TALKDESK_CLIENT_ID": EMULATOR_CLIENT_ID, "TALKDESK_CLIENT_SECRET": EMULATOR_CLIENT_SECRET,
        "WFM_DATABASE_URL": postgres_url, "WFM_RAW_STORE": raw_store_for(postgres_url),
        "WFM_BACKFILL_PARTITIONS_PER_RUN": str(BATCH),
        "WFM_AUTOMATION": "off", "WFM_STEP_RETRIES": "0",
    }
    start, end = reference_window(24)
    keys = day_keys(start)
    failing_batch = keys[BATCH:2 * BATCH]
    # Report jobs whose window begins strictly inside the second batch fail. Each run's first report covers
    # 6 hours, so the second batch asks for a later one and fails; the first batch's last report (contacts
    # still running at its end) begins exactly at the second batch's start and passes.
    second_batch_start = start + timedelta(minutes=15 * BATCH)
    emulator.set_faults(report_failure_starts=[iso(second_batch_start + timedelta(seconds=1)),
                                               iso(second_batch_start + timedelta(minutes=15 * BATCH))])
    deployment = DagsterDeployment(home, module="wfm_pipelines.definitions", env=env,
                                   backfill_interval_seconds=QUICK_BACKFILL_INTERVAL_SECONDS)
    try:
        deployment.start()
        backfill_id = deployment.launch_partition_backfill(ASSETS, keys)
        first = deployment.wait_for_backfill(backfill_id, timeout=420)
        runs = deployment.runs(run_ids=first["run_ids"])
        assert len(runs) == 3, runs  # 96 partitions in batches of 32, both assets in each run
        assert sorted(r["status"] for r in runs) == ["FAILURE", "SUCCESS", "SUCCESS"]
        for asset in ASSETS:
            statuses = deployment.partition_statuses(asset)
            failed = sorted(k for k in keys if statuses[k] == "FAILED")
            assert failed == failing_batch, asset
            assert all(statuses[k] == "MATERIALIZED" for k in keys if k not in failing_batch)

        # The user selects the failed partitions and launches them again, with the fault gone.
        emulator.set_faults(report_failure_starts=None)
        statuses = deployment.partition_statuses("contact_volume")
        failed_keys = sorted(k for k in keys if statuses[k] == "FAILED")
        rerun_id = deployment.launch_partition_backfill(ASSETS, failed_keys)
        rerun = deployment.wait_for_backfill(rerun_id, timeout=420)
        assert [r["status"] for r in deployment.runs(run_ids=rerun["run_ids"])] == ["SUCCESS"]
        for asset in ASSETS:
            statuses = deployment.partition_statuses(asset)
            assert {statuses[k] for k in keys} == {"MATERIALIZED"}

        # Talkdesk now answers a busy morning with a well-formed empty report: a run launched from the
        # Launchpad fails and the partitions show red; launched with the tag wfm/accept_shrink=true, the
        # smaller answer is taken on purpose; a normal run then collects the morning again.
        morning = keys[40:48]
        shrink_tags = {**range_tags(morning[0], morning[-1])}
        emulator.set_faults(report_file_fault="empty_report", report_file_fault_types=["calls"])
        refused = deployment.wait_for_run(deployment.launch_run("contact_volume_job", tags=shrink_tags))
        assert refused["status"] == "FAILURE"
        statuses = deployment.partition_statuses("contact_volume")
        assert {statuses[k] for k in morning} == {"FAILED"}
        accepted = deployment.wait_for_run(deployment.launch_run(
            "contact_volume_job", tags={**shrink_tags, "wfm/accept_shrink": "true"}))
        assert accepted["status"] == "SUCCESS"
        zeros = queries.read_window(get_engine(postgres_url), "wfm_contact_volume_interval",
                                    window_start=start + timedelta(minutes=15 * 40),
                                    window_end=start + timedelta(minutes=15 * 48), time_column="interval_start",
                                    account_id=DEFAULT_ACCOUNT_ID)
        assert len(zeros) > 0 and zeros["entered_count"].sum() == 0
        emulator.set_faults(report_file_fault=None, report_file_fault_types=None)
        again = deployment.wait_for_run(deployment.launch_run("contact_volume_job", tags=shrink_tags))
        assert again["status"] == "SUCCESS"
        statuses = deployment.partition_statuses("contact_volume")
        assert {statuses[k] for k in keys} == {"MATERIALIZED"}
    except Exception:
        print(f"Dagster home kept for inspection: {home}\n{deployment.log_tail('daemon')}")
        raise
    finally:
        deployment.stop()

    # The same day collected without any fault, in one run, into a second database.
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    tags = range_tags(keys[0], keys[-1])
    assert dg.materialize([contact_volume, agent_state_transactions], resources=resources_for(emulator.url, reference_url),
                          tags=tags).success
    healed, reference = table_snapshot(postgres_url), table_snapshot(reference_url)
    for table in [*FACT_TABLES, "raw calls", "raw user_status"]:
        assert not healed[table].duplicated(FACT_TABLES.get(table, RAW_KEY)).any(), table
        pd.testing.assert_frame_equal(healed[table], reference[table], check_dtype=False, obj=table)

    # ... and both equal the emulator's entries aggregated independently in this test.
    volume = healed["wfm_contact_volume_interval"]
    expected = expected_volume(fetch_report(emulator.url, "calls", start, end + timedelta(hours=4)), start, end)
    got = {(r.queue_id, r.interval_start.to_pydatetime()): (r.entered_count, r.handled_count, r.abandoned_count)
           for r in volume.itertuples()}
    want = {k: (v["entered"], v["handled"], v["abandoned"]) for k, v in expected.items()}
    assert {k: v for k, v in want.items() if v != (0, 0, 0)} == {k: v for k, v in got.items() if v != (0, 0, 0)}
    emulator.stop()
    shutil.rmtree(home, ignore_errors=True)  # kept above when anything failed
