"""What the many-account scenario sets up: the range its tick collects (the deployment's own schedule), the Dagster
instance's PostgreSQL database given and read back, and the environment of the Celery phase's processes."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from benchmarks.accounts_files import secret_variable
from benchmarks.celery_throughput import celery_phase_environment
from benchmarks.environment import instance_database_url, instance_env
from benchmarks.many_accounts_tick import scheduled_range
from talkdesk_emulator.account_sizes import benchmark_accounts


def test_the_tick_collects_the_closed_interval_and_the_trailing_two_hours_fifteen_as_the_deployments_schedule():
    env = {"WFM_HISTORY_START": "2026-01-01-00:00"}  # the default lag: 5 minutes
    at_13_21 = datetime(2026, 12, 1, 13, 21, 7, tzinfo=timezone.utc)
    assert scheduled_range(at_13_21, env) == (datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc),
                                               datetime(2026, 12, 1, 13, 15, tzinfo=timezone.utc))
    just_after_midnight = datetime(2026, 12, 1, 0, 4, tzinfo=timezone.utc)  # 23:45's interval closed 5 min before
    assert scheduled_range(just_after_midnight, env) == (datetime(2026, 11, 30, 21, 30, tzinfo=timezone.utc),
                                                         datetime(2026, 11, 30, 23, 45, tzinfo=timezone.utc))
    later_history = {"WFM_HISTORY_START": "2026-12-01-12:00", "WFM_SCHEDULE_LAG_MINUTES": "0"}
    assert scheduled_range(at_13_21, later_history) == (datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc),
                                                        datetime(2026, 12, 1, 13, 15, tzinfo=timezone.utc))
    with pytest.raises(RuntimeError):
        scheduled_range(at_13_21, {"WFM_HISTORY_START": "2026-12-02-00:00"})


def test_the_deployments_instance_database_is_read_back_from_its_dagster_pg_variables():
    url = "postgresql+psycopg://bench:pw@db.example:5433/wfm_bench_many_accounts_instance_1a2b"
    env = instance_env(url)
    assert env == {"DAGSTER_PG_HOST": "db.example", "DAGSTER_PG_PORT": "5433", "DAGSTER_PG_USER": "bench",
                   "DAGSTER_PG_PASSWORD": "pw", "DAGSTER_PG_DB": "wfm_bench_many_accounts_instance_1a2b"}
    assert instance_database_url(SimpleNamespace(env={"WFM_EXECUTOR": "multiprocess", **env})) == url
    trusted = instance_env("postgresql+psycopg://postgres@127.0.0.1/instance")  # no password, default port
    assert instance_database_url(SimpleNamespace(env=trusted)) == "postgresql+psycopg://postgres@127.0.0.1:5432/instance"
    assert instance_database_url(SimpleNamespace(env={})) is None  # SQLite instance: files only


def test_the_celery_phase_gives_its_processes_the_accounts_file_their_secrets_and_the_celery_executor(tmp_path):
    configs = benchmark_accounts(2, 0, 0)
    accounts = list(configs)
    accounts_file = tmp_path / "accounts.yaml"
    urls = {"celery_wfm": "postgresql+psycopg://postgres@127.0.0.1:5432/wfm_bench_celery_wfm_1",
            "celery_instance": "postgresql+psycopg://postgres@127.0.0.1:5432/wfm_bench_celery_instance_1"}
    env = celery_phase_environment(tmp_path, accounts_file, configs, accounts, urls, "amqp://guest:guest@h:5672/v",
                                   datetime(2026, 11, 30, tzinfo=timezone.utc))
    assert env["WFM_ACCOUNTS_FILE"] == str(accounts_file) and env["WFM_EXECUTOR"] == "celery"
    assert env["WFM_DATABASE_URL"] == urls["celery_wfm"] and env["DAGSTER_PG_DB"] == "wfm_bench_celery_instance_1"
    assert env["WFM_CELERY_BROKER_URL"] == "amqp://guest:guest@h:5672/v"
    assert {env[secret_variable(a)] for a in accounts} == {configs[a].client_secret for a in accounts}
