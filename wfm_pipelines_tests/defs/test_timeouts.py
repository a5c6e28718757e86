"""Nothing waits forever: every collecting job has a maximum runtime that run monitoring enforces, a hung
agent-state collection holds back neither the sensor nor the other accounts, and database and HTTP calls time out."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from dagster._core.storage.tags import MAX_RUNTIME_SECONDS_TAG

from wfm_pipelines.collection.realtime import look_interval_seconds
from wfm_pipelines.db.engine import DatabaseTimeouts, create_wfm_engine, write_connection
from wfm_pipelines.defs.partitions import MAX_RUNTIME_TAG
from wfm_pipelines.defs.talkdesk_resources import REALTIME_COLLECTION_BUDGET_S, TalkdeskRealtimeResource
from wfm_pipelines.settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from wfm_pipelines.talkdesk import (
    RetrySettings,
    TalkdeskApiError,
    TalkdeskClient,
    TalkdeskConnection,
    TalkdeskError,
    TalkdeskUnavailableError,
    Timeouts,
)
from wfm_pipelines.definitions import build_definitions
from wfm_pipelines_tests.defs.support import settings_for_tests
from wfm_pipelines_tests.reference_day import reference_window
from wfm_pipelines_tests.talkdesk.client_support import ALL_SCOPES, FAST_EXPLORE, make_client

REPO = Path(__file__).resolve().parents[2]
COLLECTING_JOBS = ["contact_volume_job", "agent_state_transactions_job", "interval_collection_job",
                   "configuration_job"]
SHORT_TIMEOUTS = Timeouts(connect_s=1, read_s=0.3)
FEW_RETRIES = RetrySettings(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02)


# -- run monitoring ---------------------------------------------------------------------------------------


@pytest.fixture
def defs():
    """The code location's definitions as the default settings build them."""
    return build_definitions(settings_for_tests())


def test_our_tag_is_the_one_dagster_run_monitoring_reads():
    assert MAX_RUNTIME_TAG == MAX_RUNTIME_SECONDS_TAG == "dagster/max_runtime"


@pytest.mark.parametrize("job_name", COLLECTING_JOBS)
def test_every_collecting_job_carries_a_positive_max_runtime(defs, job_name):
    job = defs.resolve_job_def(job_name)
    value = job.tags[MAX_RUNTIME_TAG]
    seconds = float(value)  # run monitoring parses it as a float
    assert seconds > 0
    assert seconds == int(seconds)
    # a run of the job carries it (run monitoring reads the run's tags, not the job's)
    with dg.instance_for_test() as instance:
        run = instance.create_run_for_job(job_def=job, tags=job.tags)
        assert instance.get_run_by_id(run.run_id).tags[MAX_RUNTIME_TAG] == value


def test_every_job_of_the_code_location_has_a_max_runtime(defs):
    """A job added later is covered too: none of the code location's jobs runs without a limit."""
    jobs = {job.name: job for job in defs.resolve_all_job_defs() if not job.name.startswith("__ASSET_JOB")}
    assert set(COLLECTING_JOBS) <= set(jobs)
    assert {name: float(job.tags.get(MAX_RUNTIME_TAG, 0)) > 0 for name, job in jobs.items()} == {
        name: True for name in jobs}


@pytest.mark.parametrize("path", ["dagster.yaml", "deploy/dagster.postgres.yaml"])
def test_instance_configurations_enable_run_monitoring_with_a_max_runtime(defs, path):
    config = yaml.safe_load((REPO / path).read_text())
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] is True
    assert isinstance(monitoring["max_runtime_seconds"], int) and monitoring["max_runtime_seconds"] > 0
    # every job's own limit is no longer than the instance-wide one
    for name in COLLECTING_JOBS:
        assert float(defs.resolve_job_def(name).tags[MAX_RUNTIME_TAG]) <= monitoring["max_runtime_seconds"]


def test_dagster_accepts_the_repository_instance_configuration(tmp_path):
    """dagster.yaml is loaded by Dagster itself (schema validated), and the instance reports the settings."""
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    expected = yaml.safe_load((REPO / "dagster.yaml").read_text())["run_monitoring"]["max_runtime_seconds"]
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert instance.run_monitoring_enabled is True
        assert instance.run_monitoring_max_runtime_seconds == expected > 0
    finally:
        instance.dispose()


# -- a hung agent-state collection ------------------------------------------------------------------------
# The agent-state sensor starts collections on threads that outlive its evaluation and waits at most one look
# for them: a silent Talkdesk delays nothing but its own account, which is not collected twice at once, and
# the real-time client's budget ends the hung collection so the account is tried again about a minute later.


def test_the_real_time_clients_budget_ends_a_hung_collection_within_a_minute():
    realtime = TalkdeskRealtimeResource(base_url="https://x.talkdeskid.com", api_url="https://api.talkdeskapp.com",
                                        client_id="id", client_secret="secret")
    assert realtime.worst_case_call_s() < REALTIME_COLLECTION_BUDGET_S * 0.9
    assert realtime.report_poll_timeout_s + realtime.worst_case_call_s() < REALTIME_COLLECTION_BUDGET_S * 1.5


def test_a_silent_talkdesk_holds_back_no_evaluation_and_fails_its_accounts_check(silent_server, sqlite_url):
    url, accepted = silent_server
    defs = build_definitions(settings_for_tests(WFM_DATABASE_URL=sqlite_url))
    sensor = defs.resolve_sensor_def("agent_state_sensor")
    look = look_interval_seconds([30])  # the default interval
    # two token attempts of 0.6 x look each: the hung collection outlasts the first evaluation's wait
    silent = TalkdeskRealtimeResource(base_url=url, api_url=url, client_id="id", client_secret="secret",
                                      connect_timeout_s=1, read_timeout_s=0.6 * look, max_attempts=2,
                                      backoff_max_s=0.02)
    resources = {**defs.resources, "talkdesk_realtime": silent}
    with dg.instance_for_test() as instance:
        started = time.monotonic()
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources) as context:
            first = sensor.evaluate_tick(context)
        assert time.monotonic() - started < look + 1  # it waited one look, not for the hung collection
        assert first.asset_events == []  # nothing finished yet; the collection goes on
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources,
                                     cursor=first.cursor) as context:
            second = sensor.evaluate_tick(context)
        assert len(accepted) == 2  # the two attempts of the first collection only: never two at once
        (check,) = second.asset_events
        assert isinstance(check, dg.AssetCheckEvaluation) and not check.passed
        assert check.asset_key == dg.AssetKey("agent_state_snapshots")
        assert "no answer (ReadTimeout)" in check.metadata["error"].value
        assert instance.get_runs() == []


# -- database timeouts -------------------------------------------------------------------------------------


def test_postgres_statement_timeout_ends_a_long_statement(postgres_url):
    engine = create_wfm_engine(postgres_url, DatabaseTimeouts(connect_s=3, statement_s=2))
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SHOW statement_timeout")).scalar_one() == "2s"
            assert connection.execute(sa.text("SHOW idle_in_transaction_session_timeout")).scalar_one() == "2s"
        with engine.connect() as connection:
            started = time.monotonic()
            with pytest.raises(sa.exc.OperationalError, match="(?i)cancel"):
                connection.execute(sa.text("SELECT pg_sleep(5)"))
            elapsed = time.monotonic() - started
        assert 1.5 <= elapsed < 4, elapsed
    finally:
        engine.dispose()


def test_postgres_writer_waiting_for_a_lock_gives_up(postgres_url):
    # The lock holder has the default (long) timeouts, so only the waiter's statement timeout can end the wait.
    holder = create_wfm_engine(postgres_url)
    waiter = create_wfm_engine(postgres_url, DatabaseTimeouts(connect_s=3, statement_s=2))
    try:
        with holder.begin() as connection:
            connection.execute(sa.text("CREATE TABLE lock_probe (id integer primary key, n integer)"))
            connection.execute(sa.text("INSERT INTO lock_probe VALUES (1, 0)"))
        with holder.connect() as first, waiter.connect() as second:
            first.begin()
            first.execute(sa.text("UPDATE lock_probe SET n = 1 WHERE id = 1"))
            started = time.monotonic()
            with pytest.raises(sa.exc.OperationalError, match="(?i)cancel"):
                second.execute(sa.text("UPDATE lock_probe SET n = 2 WHERE id = 1"))
            elapsed = time.monotonic() - started
            first.commit()
        assert 1.5 <= elapsed < 4, elapsed
        with holder.connect() as connection:
            assert connection.execute(sa.text("SELECT n FROM lock_probe")).scalar_one() == 1
    finally:
        holder.dispose()
        waiter.dispose()


def test_sqlite_second_writer_fails_after_the_busy_timeout(sqlite_url):
    timeouts = DatabaseTimeouts(sqlite_busy_s=1)
    holder, waiter = create_wfm_engine(sqlite_url, timeouts), create_wfm_engine(sqlite_url, timeouts)
    try:
        with holder.begin() as connection:
            connection.execute(sa.text("CREATE TABLE lock_probe (id integer primary key, n integer)"))
        for engine in (holder, waiter):
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1000
        with write_connection(holder) as first:
            first.begin()  # BEGIN IMMEDIATE: the write lock is held from here
            first.execute(sa.text("INSERT INTO lock_probe VALUES (1, 1)"))
            with write_connection(waiter) as second:
                started = time.monotonic()
                with pytest.raises(sa.exc.OperationalError, match="database is locked"):
                    with second.begin():
                        second.execute(sa.text("INSERT INTO lock_probe VALUES (2, 2)"))
                elapsed = time.monotonic() - started
            first.commit()
        assert 0.8 <= elapsed < 3, elapsed
        with waiter.connect() as connection:  # the lock is free again and the first write landed
            assert connection.execute(sa.text("SELECT id, n FROM lock_probe")).all() == [(1, 1)]
    finally:
        holder.dispose()
        waiter.dispose()


# -- HTTP timeouts -------------------------------------------------------------------------------------------


def test_a_slow_report_job_creation_does_not_hang_the_report(emulator):
    emulator.set_faults(job_create_delay_seconds=2)
    client = make_client(emulator.url, timeouts=SHORT_TIMEOUTS, retry=FEW_RETRIES)
    start, end = reference_window(1)
    started = time.monotonic()
    try:
        result = client.run_report("calls", start, end)
    finally:
        client.close()
    elapsed = time.monotonic() - started
    assert elapsed < 15, elapsed
    # the creation's answer was lost to the read timeout; the job created was found and read, not duplicated
    assert len(result.jobs) == 1
    assert len(result.entries) == 30
    assert [job.id for job in emulator.app.jobs.of_type("calls")] == result.jobs


def test_an_api_that_never_answers_fails_the_call_within_seconds(emulator, silent_server):
    api_url, accepted = silent_server
    # the token comes from the emulator; the Users API is the server that never answers
    client = TalkdeskClient(TalkdeskConnection(emulator.url, api_url, EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET,
                                               ALL_SCOPES),
                            retry=FEW_RETRIES, timeouts=SHORT_TIMEOUTS, explore=FAST_EXPLORE)
    started = time.monotonic()
    try:
        with pytest.raises(TalkdeskApiError) as raised:
            client.list_users()
    finally:
        client.close()
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    assert raised.value.status is None and isinstance(raised.value, TalkdeskUnavailableError)
    assert "/users" in raised.value.url
    assert len(accepted) == 2  # both attempts reached the server, and each gave up


def test_a_token_endpoint_that_never_answers_fails_within_seconds(silent_server):
    url, accepted = silent_server
    client = make_client(url, timeouts=SHORT_TIMEOUTS, retry=FEW_RETRIES)
    started = time.monotonic()
    try:
        with pytest.raises(TalkdeskError):
            client.list_users()
    finally:
        client.close()
    assert time.monotonic() - started < 5
    assert len(accepted) >= 1
