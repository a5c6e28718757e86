"""Several Talkdesk accounts in one deployment (`WFM_ACCOUNTS_FILE`): prefixed assets, one run per tick over
every enabled account, each account's rows its own, and one account's failure confined to its own steps."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from datetime import timedelta

import dagster as dg
import pandas as pd
import pytest

from talkdesk_emulator.server import EmulatorConfig, EmulatorServer
from wfm_pipelines.collection.realtime import look_interval_seconds
from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.defs.partitions import partition_key_for, range_tags
from wfm_pipelines.defs.talkdesk_resources import TalkdeskRealtimeResource, TalkdeskResource
from wfm_pipelines.definitions import build_definitions
from dagster_harness.celery_workers import execute_job
from dagster_harness.deployment import REPO_ROOT
from wfm_pipelines_tests.defs.support import (
    expected_volume,
    fetch_report,
    raw_store_for,
    settings_for_tests,
)
from wfm_pipelines_tests.reference_day import reference_window

ACCOUNTS = {
    # id: (seed, queues, agents, contacts a day, client id, secret, secret variable)
    "north": (11, 4, 20, 2500, "north-client", "north-Secret-7fa1c2", "NORTH_TD_SECRET"),
    "south": (23, 3, 12, 1200, "south-client", "south-Secret-93be40", "SOUTH_TD_SECRET"),
}
ASSET_NAMES = ("agents", "queues", "queue_memberships", "contact_volume", "agent_state_transactions",
               "agent_state_snapshots")
# Talkdesk clients tuned for the emulator, as `support.resources_for` tunes the single account's.
FAST = dict(max_attempts=4, backoff_base_s=0.05, backoff_max_s=0.5, report_poll_timeout_s=60, report_poll_initial_s=0.05)


def _accounts_yaml(urls: dict[str, str], paused: bool = True) -> str:
    entries = []
    for account_id, (_, _, _, _, client_id, _, variable) in ACCOUNTS.items():
        entries.append(textwrap.dedent(f"""\
            - id: {account_id}
              name: {account_id.title()} Center
              historical:
                base_url: {urls[account_id]}
                api_url: {urls[account_id]}
                client_id: {client_id}
                client_secret_env: {variable}
            """))
    if paused:
        entries.append(textwrap.dedent("""\
            - id: paused
              enabled: false
              historical:
                base_url: https://paused.talkdeskid.com
                api_url: https://api.talkdeskapp.com
                client_id: paused-client
                client_secret_env: NORTH_TD_SECRET
            """))
    return "accounts:\n" + "".join(textwrap.indent(entry, "  ") for entry in entries)


def _settings(tmp_path, urls: dict[str, str], database_url: str, paused: bool = True, **env: str):
    path = tmp_path / "accounts.yaml"
    path.write_text(_accounts_yaml(urls, paused))
    secrets = {variable: secret for (*_, secret, variable) in ACCOUNTS.values()}
    return settings_for_tests(WFM_ACCOUNTS_FILE=str(path), WFM_DATABASE_URL=database_url,
                              WFM_RAW_STORE=raw_store_for(database_url), **secrets, **env)


@pytest.fixture
def secrets_in_environment(monkeypatch):
    """The resources read each account's secret from the process environment (dagster.EnvVar), as in production."""
    for (*_, secret, variable) in ACCOUNTS.values():
        monkeypatch.setenv(variable, secret)


@pytest.fixture
def two_talkdesks():
    """One emulator process serving both accounts, each with its own credentials, size and data."""
    configs = {account_id: EmulatorConfig(seed=seed, queues=queues, agents=agents, contacts_per_day=contacts,
                                          client_id=client_id, client_secret=secret, report_processing_seconds=0.2)
               for account_id, (seed, queues, agents, contacts, client_id, secret, _) in ACCOUNTS.items()}
    server = EmulatorServer(accounts=configs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _fast_resources(settings) -> dict:
    """Each enabled account's Talkdesk clients with the emulator-tuned polling (secrets still from EnvVar)."""
    resources = {}
    for account in settings.accounts:
        for key, kind, client in ((account.scoped_name("talkdesk"), TalkdeskResource, account.historical),
                                  (account.scoped_name("talkdesk_realtime"), TalkdeskRealtimeResource, account.realtime)):
            resources[key] = kind(base_url=client.base_url, api_url=client.api_url, client_id=client.client_id,
                                  client_secret=dg.EnvVar(client.client_secret_var), **FAST)
    return resources


def test_each_account_gets_prefixed_assets_its_own_group_pool_and_clients(tmp_path, sqlite_url):
    urls = {"north": "https://north.talkdeskid.com", "south": "https://south.talkdeskid.com"}
    settings = _settings(tmp_path, {k: v for k, v in urls.items()}, sqlite_url,
                         WFM_AGENT_STATE_INTERVAL_SECONDS="45")
    defs = build_definitions(settings)
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert keys == {f"{account}/{name}" for account in ("north", "south", "paused") for name in ASSET_NAMES}
    for account in ("north", "south", "paused"):
        volume = defs.get_assets_def(dg.AssetKey([account, "contact_volume"]))
        assert volume.group_names_by_key[volume.key] == account
        assert volume.op.pool == f"talkdesk_explore__{account}"  # Talkdesk's report quota is per account
        assert volume.specs_by_key[volume.key].metadata["wfm/account_id"] == account
        assert f"talkdesk__{account}" in volume.required_resource_keys
        checks = {check.key.asset_key for check in volume.check_specs}
        assert checks == {volume.key}

    # one tick is one run over the ENABLED accounts: a step per account and asset
    interval_job = defs.resolve_job_def("interval_collection_job")
    assert {key.to_user_string() for key in interval_job.asset_layer.executable_asset_keys} == {
        f"{account}/{name}" for account in ("north", "south") for name in ("contact_volume", "agent_state_transactions")}
    configuration_job = defs.resolve_job_def("configuration_job")
    assert {key.to_user_string() for key in configuration_job.asset_layer.executable_asset_keys} == {
        f"{account}/{name}" for account in ("north", "south") for name in ("agents", "queues", "queue_memberships")}
    assert {schedule.name for schedule in defs.schedules} == {
        "interval_collection_schedule", "nightly_recollection_schedule", "configuration_schedule"}
    sensors = {sensor.name: sensor for sensor in defs.sensors}
    # ONE agent-state sensor for every enabled account (it looks every 45 / 6 s), not one per account
    assert set(sensors) == {"interval_healing_sensor", "agent_state_sensor"}
    assert sensors["agent_state_sensor"].minimum_interval_seconds == 7 - 1
    assert sensors["agent_state_sensor"].required_resource_keys == {
        "talkdesk_realtime__north", "talkdesk_realtime__south", "wfm_database"}  # the paused account's none
    snapshots = defs.get_assets_def(dg.AssetKey(["north", "agent_state_snapshots"]))
    assert {check.key.name for check in snapshots.check_specs} == {"latest_collection_succeeded"}
    # secrets reach Dagster as the names of their variables, never as values
    resource = defs.resources["talkdesk__north"]
    assert isinstance(resource.client_secret, dg.EnvVar) and resource.client_secret.env_var_name == "NORTH_TD_SECRET"


def test_a_tick_runs_every_account_once_and_each_accounts_rows_equal_its_own_aggregation(
        tmp_path, two_talkdesks, secrets_in_environment, database_url):
    urls = {account_id: two_talkdesks.account_url(account_id) for account_id in ACCOUNTS}
    settings = _settings(tmp_path, urls, database_url)
    defs = build_definitions(settings)
    resources = _fast_resources(settings)
    start, end = reference_window(3)
    tags = range_tags(partition_key_for(start), partition_key_for(end - timedelta(minutes=15)))
    with dg.instance_for_test() as instance:
        configuration = defs.resolve_job_def("configuration_job")
        assert configuration.execute_in_process(instance=instance, resources=resources).success
        tick = defs.resolve_job_def("interval_collection_job").execute_in_process(
            instance=instance, resources=resources, tags=tags)
        assert tick.success
        assert len(instance.get_runs()) == 2  # the configuration import and ONE run for the tick
        for account_id in ACCOUNTS:
            for name in ("contact_volume", "agent_state_transactions"):
                assert instance.get_latest_materialization_event(dg.AssetKey([account_id, name])) is not None

    engine = get_engine(database_url)
    totals = {}
    for account_id, (*_, client_id, secret, _) in ACCOUNTS.items():
        rows = queries.read_window(engine, "wfm_contact_volume_interval", window_start=start, window_end=end,
                                   time_column="interval_start", account_id=account_id)
        entries = fetch_report(urls[account_id], "calls", start, end + timedelta(hours=4),
                               client_id=client_id, client_secret=secret)
        expected = expected_volume(entries, start, end)
        got = {(row.queue_id, row.interval_start.to_pydatetime()): row for row in rows.itertuples()}
        assert sum(v["entered"] for v in expected.values()) > 20, account_id
        for key, values in expected.items():
            row = got[key]
            assert (row.entered_count, row.handled_count, row.abandoned_count) == (
                values["entered"], values["handled"], values["abandoned"]), (account_id, key)
            assert row.sum_handle_time_s == pytest.approx(values["handle"]), (account_id, key)
        assert len(rows[rows["entered_count"] > 0]) == sum(1 for v in expected.values() if v["entered"] > 0)
        agents = queries.read_table(engine, "wfm_agent", account_id=account_id)
        assert len(agents) == ACCOUNTS[account_id][2], account_id
        statuses = fetch_report(urls[account_id], "user_status", start, end, client_id=client_id, client_secret=secret)
        transactions = queries.read_window(engine, "wfm_agent_state_transaction", window_start=start, window_end=end,
                                           time_column="state_end", account_id=account_id)
        assert len(transactions) == len({(s["user_id"], s["status_start_at"]) for s in statuses}) > 0, account_id
        assert set(transactions["agent_id"]) <= set(agents["agent_id"])
        totals[account_id] = sum(v["entered"] for v in expected.values())
    assert totals["north"] != totals["south"]  # two accounts, two sets of data


# A tick's range: the interval that closed and the trailing 2h15m, 9 partitions.
TICK_PARTITIONS = 9
INTERVAL_TABLES = {"wfm_contact_volume_interval": "interval_start", "wfm_agent_state_transaction": "state_end"}


def _interval_rows(database_url: str, start, end) -> dict[tuple[str, str], pd.DataFrame]:
    """(account, table) -> the window's rows, without the time of collection (which differs between runs)."""
    engine = get_engine(database_url)
    return {(account_id, name): queries.read_window(engine, name, window_start=start, window_end=end,
                                                    time_column=column,
                                                    account_id=account_id).drop(columns="collected_at")
            for account_id in ACCOUNTS for name, column in INTERVAL_TABLES.items()}


def test_a_multiprocess_tick_runs_the_steps_side_by_side_and_leaves_the_in_process_rows(
        tmp_path, two_talkdesks, secrets_in_environment):
    """WFM_EXECUTOR=multiprocess as deployed: `dagster job execute -m wfm_pipelines.definitions` with a persistent
    instance, so each step runs in its own process forked by the executor's forkserver, several at a time.
    Account by account its rows must equal those of the same tick in process, on its own database."""
    urls = {account_id: two_talkdesks.account_url(account_id) for account_id in ACCOUNTS}
    start, _ = reference_window(3)
    end = start + TICK_PARTITIONS * timedelta(minutes=15)
    tags = range_tags(partition_key_for(start), partition_key_for(end - timedelta(minutes=15)))
    databases = {}
    for executor in ("in_process", "multiprocess"):
        (tmp_path / executor).mkdir()
        databases[executor] = f"sqlite:///{tmp_path / executor / 'wfm.db'}"
        settings = _settings(tmp_path / executor, urls, databases[executor], paused=False)
        resources = _fast_resources(settings)
        defs = build_definitions(settings)
        with dg.instance_for_test() as instance:  # agents and queues first, as the hourly import does
            assert defs.resolve_job_def("configuration_job").execute_in_process(
                instance=instance, resources=resources).success
            if executor == "in_process":
                assert defs.resolve_job_def("interval_collection_job").execute_in_process(
                    instance=instance, resources=resources, tags=tags).success

    home = tmp_path / "multiprocess" / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(("WFM_", "TALKDESK_"))}
    env = {**inherited, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1",
           "WFM_ACCOUNTS_FILE": str(tmp_path / "multiprocess" / "accounts.yaml"),
           "WFM_DATABASE_URL": databases["multiprocess"], "WFM_RAW_STORE": raw_store_for(databases["multiprocess"]),
           "WFM_EXECUTOR": "multiprocess", "WFM_STEP_RETRIES": "0", "WFM_AUTOMATION": "off"}
    done = execute_job("interval_collection_job", env, tags, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        steps = instance.get_run_step_stats(run.run_id)
        assert {step.step_key for step in steps} == {f"{account_id}__{name}" for account_id in ACCOUNTS
                                                     for name in ("contact_volume", "agent_state_transactions")}
        # side by side: some step started before another had ended (in process they follow one another)
        assert any(other.start_time < step.end_time and step.start_time < other.end_time
                   for step in steps for other in steps if other is not step)
        messages = [event.user_message for event in instance.all_logs(run.run_id)]
        assert any("Executing steps using multiprocess executor" in message for message in messages)
        # each step in a process of its own
        step_processes = {message for message in messages if message.startswith("Launching subprocess for")}
        assert len(step_processes) == len(steps), messages
    finally:
        instance.dispose()

    expected, got = (_interval_rows(databases[executor], start, end) for executor in ("in_process", "multiprocess"))
    for (account_id, name), frame in expected.items():
        assert len(frame) > 0, (account_id, name)
        pd.testing.assert_frame_equal(got[account_id, name], frame, obj=f"{account_id} {name}")


def test_one_accounts_bad_secret_fails_only_its_own_steps(tmp_path, two_talkdesks, secrets_in_environment,
                                                          monkeypatch, sqlite_url):
    urls = {account_id: two_talkdesks.account_url(account_id) for account_id in ACCOUNTS}
    settings = _settings(tmp_path, urls, sqlite_url, paused=False)
    defs = build_definitions(settings)
    wrong = "wrong-Secret-of-south-51c0"
    monkeypatch.setenv("SOUTH_TD_SECRET", wrong)
    resources = _fast_resources(settings)
    start, end = reference_window(1)
    tags = range_tags(partition_key_for(start), partition_key_for(end - timedelta(minutes=15)))
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("interval_collection_job").execute_in_process(
            instance=instance, resources=resources, tags=tags, raise_on_error=False)
        assert not result.success
        succeeded = {event.step_key for event in result.get_step_success_events()}
        failed = {event.step_key for event in result.get_failed_step_events()} if hasattr(
            result, "get_failed_step_events") else {e.step_key for e in result.all_events if e.is_step_failure}
        assert succeeded == {"north__contact_volume", "north__agent_state_transactions"}
        assert failed == {"south__contact_volume", "south__agent_state_transactions"}
        for event in instance.all_logs(result.run_id):
            assert wrong not in str(event.dagster_event or "") and wrong not in (event.user_message or "")
    engine = get_engine(sqlite_url)
    assert len(queries.read_table(engine, "wfm_contact_volume_interval", account_id="north")) > 0
    assert len(queries.read_table(engine, "wfm_contact_volume_interval", account_id="south")) == 0


def _evaluate(defs, instance, cursor=None, resources=None):
    sensor = defs.resolve_sensor_def("agent_state_sensor")
    with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources or defs.resources,
                                 cursor=cursor) as context:
        return sensor.evaluate_tick(context)


def _all_due(cursor: str) -> str:
    """The sensor's cursor as if every account's last collection had started an hour ago."""
    state = json.loads(cursor)
    state["last_started"] = {account: at - 3600 for account, at in state["last_started"].items()}
    return json.dumps(state)


def _by_account(events) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for event in events:
        grouped.setdefault(event.asset_key.path[0], []).append(event)
    return grouped


def test_the_agent_state_sensor_collects_each_accounts_own_states_and_a_failing_one_fails_alone(
        tmp_path, two_talkdesks, secrets_in_environment, monkeypatch, sqlite_url):
    urls = {account_id: two_talkdesks.account_url(account_id) for account_id in ACCOUNTS}
    defs = build_definitions(_settings(tmp_path, urls, sqlite_url, paused=False))
    engine = get_engine(sqlite_url)
    with dg.instance_for_test() as instance:
        first = _evaluate(defs, instance)
        events = _by_account(first.asset_events)
        assert set(events) == set(ACCOUNTS)
        for account_id, (materialization, check) in events.items():
            assert materialization.asset_key == dg.AssetKey([account_id, "agent_state_snapshots"])
            assert check.passed and check.asset_key == materialization.asset_key
            stored = queries.read_table(engine, "wfm_agent_state_current", account_id=account_id)
            # every active agent of the account (the emulator deactivates a few), and no other account's
            assert len(stored) == materialization.metadata["rows_appended"].value \
                == materialization.metadata["agents_asked"].value
            assert 0.8 * ACCOUNTS[account_id][2] <= len(stored) <= ACCOUNTS[account_id][2]

        monkeypatch.setenv("SOUTH_TD_SECRET", "wrong-Secret-of-south-51c0")
        failing = _evaluate(defs, instance, cursor=_all_due(first.cursor))
        events = _by_account(failing.asset_events)
        (north,) = events["north"]  # collected again; its check unchanged, so not reported again
        assert isinstance(north, dg.AssetMaterialization)
        (south,) = events["south"]  # no materialization, its check turns red, and says why without the secret
        assert isinstance(south, dg.AssetCheckEvaluation) and not south.passed
        assert "401" in south.metadata["error"].value and "wrong-Secret" not in str(south.metadata)

        still_failing = _evaluate(defs, instance, cursor=_all_due(failing.cursor))
        assert [type(event) for event in still_failing.asset_events] == [dg.AssetMaterialization]  # north only

        monkeypatch.setenv("SOUTH_TD_SECRET", ACCOUNTS["south"][5])
        recovered = _by_account(_evaluate(defs, instance, cursor=_all_due(still_failing.cursor)).asset_events)
        materialization, check = recovered["south"]
        assert isinstance(materialization, dg.AssetMaterialization) and check.passed
        assert instance.get_runs() == []


def test_a_silent_accounts_collection_does_not_hold_back_the_others(
        tmp_path, two_talkdesks, secrets_in_environment, silent_server, sqlite_url):
    silent_url, accepted = silent_server
    urls = {account_id: two_talkdesks.account_url(account_id) for account_id in ACCOUNTS}
    defs = build_definitions(_settings(tmp_path, urls, sqlite_url, paused=False))
    look = look_interval_seconds([30])  # the default interval
    # south's Talkdesk accepts connections and never answers: its collection outlasts three looks
    silent = TalkdeskRealtimeResource(base_url=silent_url, api_url=silent_url, client_id="south-client",
                                      client_secret=dg.EnvVar("SOUTH_TD_SECRET"), read_timeout_s=3.5 * look,
                                      max_attempts=1)
    resources = {**defs.resources, "talkdesk_realtime__south": silent}
    with dg.instance_for_test() as instance:
        cursor, north_collections = None, 0
        for _ in range(3):
            result = _evaluate(defs, instance, cursor=cursor and _all_due(cursor), resources=resources)
            events = _by_account(result.asset_events)
            assert "south" not in events  # still in flight
            north_collections += sum(isinstance(event, dg.AssetMaterialization) for event in events["north"])
            cursor = result.cursor
        assert north_collections == 3  # north at every look, while south hangs
        assert len(accepted) == 1  # south's one collection, never a second beside it
        assert instance.get_runs() == []


def test_healing_requests_each_accounts_own_intervals_and_configuration(tmp_path, sqlite_url):
    urls = {"north": "https://north.talkdeskid.com", "south": "https://south.talkdeskid.com"}
    settings = _settings(tmp_path, urls, sqlite_url, WFM_HEALING_LOOKBACK_DAYS="0.125")
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("interval_healing_sensor")
    with dg.instance_for_test() as instance:
        # north's intervals landed (recorded as materializations), south's never did
        north_keys = [dg.AssetKey(["north", name]) for name in ("contact_volume", "agent_state_transactions",
                                                                 "agents", "queues", "queue_memberships")]
        partitions = defs.get_assets_def(north_keys[0]).partitions_def.get_partition_keys()[-20:]
        for key in north_keys:
            for partition in (partitions if key.path[1] in ("contact_volume", "agent_state_transactions") else [None]):
                instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=partition))
        with dg.build_sensor_context(instance=instance, definitions=defs) as context:
            requests = sensor.evaluate_tick(context).run_requests
    by_selection = {tuple(key.to_user_string() for key in request.asset_selection): request for request in requests}
    # the paused account is never healed; north has nothing to heal
    assert set(by_selection) == {("south/agents", "south/queues", "south/queue_memberships"),
                                 ("south/contact_volume",), ("south/agent_state_transactions",)}
    for selection, request in by_selection.items():
        assert request.job_name == ("configuration_job" if "south/agents" in selection else "interval_collection_job")
    volume = by_selection[("south/contact_volume",)]
    assert volume.tags["wfm/collection"] == "healing" and volume.tags["dagster/asset_partition_range_start"]
