"""Real-time agent states under a real `dagster-daemon`: the one agent-state sensor collects each account at
the account's interval and reports a materialization, no run is launched, and an account that fails shows a
failed check on its own asset without holding back the others."""

from __future__ import annotations

import os
import statistics
import textwrap
import time

import pandas as pd
import pytest

from talkdesk_emulator.server import EmulatorConfig, EmulatorServer
from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from dagster_harness.deployment import DagsterDeployment
from wfm_pipelines_tests.defs.support import raw_store_for

pytestmark = pytest.mark.slow  # about 2 minutes: a real daemon watched over a minute

# id: (emulator seed, agents, collection interval in seconds)
ACCOUNTS = {"east": (31, 15, 10), "west": (32, 25, 10), "central": (33, 10, 15)}
BROKEN = "broken"  # its secret variable holds the wrong secret
WATCH_SECONDS = 70


def _secret(account_id: str) -> str:
    return f"{account_id}-Secret-4c1d"


def _accounts_file(server: EmulatorServer) -> str:
    entries = []
    for account_id, (_, _, interval) in {**ACCOUNTS, BROKEN: (0, 0, 10)}.items():
        entries.append(textwrap.dedent(f"""\
            - id: {account_id}
              historical:
                base_url: {server.account_url(account_id)}
                api_url: {server.account_url(account_id)}
                client_id: {account_id}-client
                client_secret_env: {account_id.upper()}_TD_SECRET
              agent_state_interval_seconds: {interval}
            """))
    return "accounts:\n" + "".join(textwrap.indent(entry, "  ") for entry in entries)


def _materialization_times(deployment: DagsterDeployment, account_id: str) -> list[float]:
    query = """query($key: AssetKeyInput!) { assetOrError(assetKey: $key) { __typename
        ... on Asset { assetMaterializations(limit: 200) { timestamp } } } }"""
    answer = deployment.graphql(query, {"key": {"path": [account_id, "agent_state_snapshots"]}})["assetOrError"]
    return sorted(float(m["timestamp"]) / 1000 for m in answer.get("assetMaterializations", []))


def _collection_checks(deployment: DagsterDeployment, account_id: str) -> list[dict]:
    query = """query($key: AssetKeyInput!) { assetCheckExecutions(assetKey: $key,
        checkName: "latest_collection_succeeded", limit: 50) { runId status
        evaluation { success metadataEntries { label ... on TextMetadataEntry { text } } } } }"""
    return deployment.graphql(query, {"key": {"path": [account_id, "agent_state_snapshots"]}})["assetCheckExecutions"]


def test_each_account_is_collected_at_its_interval_with_no_run(tmp_path):
    configs = {account_id: EmulatorConfig(seed=seed, agents=agents, queues=2, contacts_per_day=500,
                                          client_id=f"{account_id}-client", client_secret=_secret(account_id))
               for account_id, (seed, agents, _) in {**ACCOUNTS, BROKEN: (34, 5, 10)}.items()}
    database_url = f"sqlite:///{tmp_path / 'wfm.db'}"
    with EmulatorServer(accounts=configs) as server:
        accounts_file = tmp_path / "accounts.yaml"
        accounts_file.write_text(_accounts_file(server))
        env = {"WFM_ACCOUNTS_FILE": str(accounts_file), "WFM_DATABASE_URL": database_url,
               "WFM_RAW_STORE": raw_store_for(database_url), "WFM_AUTOMATION": "off",
               **{f"{account_id.upper()}_TD_SECRET": _secret(account_id) for account_id in ACCOUNTS},
               f"{BROKEN.upper()}_TD_SECRET": "not-the-Secret-9e2"}
        with DagsterDeployment(tmp_path / "dagster", env=env) as deployment:
            deployment.set_sensor_running("agent_state_sensor", True)
            time.sleep(WATCH_SECONDS)
            deployment.set_sensor_running("agent_state_sensor", False)
            assert deployment.runs() == [], "no run for a real-time collection"
            materialized = {account_id: _materialization_times(deployment, account_id) for account_id in ACCOUNTS}
            checks = {account_id: _collection_checks(deployment, account_id) for account_id in (*ACCOUNTS, BROKEN)}
            ticks = deployment.sensor_ticks("agent_state_sensor")
            daemon_log = deployment.log_tail("daemon", 400)

    engine = get_engine(database_url)
    for account_id, (_, agents, interval) in ACCOUNTS.items():
        snapshots = queries.read_table(engine, "wfm_agent_state_snapshot", account_id=account_id)
        times = sorted(pd.to_datetime(snapshots["snapshot_at"].unique(), utc=True))
        gaps = [(later - earlier).total_seconds() for earlier, later in zip(times, times[1:])]
        # at the configured interval: as many collections as the interval allows, none far late
        assert len(times) >= WATCH_SECONDS // interval - 2, (account_id, len(times), daemon_log)
        # (a collection may start up to half a look early, so gaps centre on the interval)
        assert interval - 3 <= statistics.median(gaps) <= interval + 6, (account_id, gaps)
        assert max(gaps) <= 2 * interval + 5, (account_id, gaps)
        # every collection is a materialization of the account's snapshot asset, in the UI
        assert len(materialized[account_id]) == len(times), account_id
        assert snapshots.groupby("snapshot_at").size().max() <= agents
        # its collection check reported once, green, with no run behind it
        assert [(check["status"], check["runId"]) for check in checks[account_id]] == [("SUCCEEDED", "")]
    # the broken account fails its own check, visibly, once, with the cause and no secret; the sensor's ticks
    # do not fail for it
    (broken,) = checks[BROKEN]
    assert broken["status"] == "FAILED" and not broken["evaluation"]["success"]
    error = next(entry["text"] for entry in broken["evaluation"]["metadataEntries"] if entry["label"] == "error")
    assert "401" in error and "not-the-Secret" not in str(broken)
    assert len(ticks) >= WATCH_SECONDS // 5 - 4 and all(tick["status"] != "FAILURE" for tick in ticks), ticks
    assert queries.read_table(engine, "wfm_agent_state_snapshot", account_id=BROKEN).empty
    assert "not-the-Secret" not in daemon_log
    assert os.environ.get(f"{BROKEN.upper()}_TD_SECRET") is None  # the test never leaked it into this process
