"""WFM_EXECUTOR, WFM_MAX_CONCURRENT_STEPS and WFM_CELERY_BROKER_URL: checked like every setting; the multiprocess
executor forks warm steps from a forkserver; the broker URL reaches Dagster as the variable's name only. A
multiprocess run is in test_many_accounts.py, the Celery runs in test_celery_workers.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dagster as dg

from wfm_pipelines.definitions import build_definitions
from wfm_pipelines.defs.executors import CELERY_APP_SETTINGS, FORKSERVER_PRELOAD_MODULES
from wfm_pipelines.settings import DEFAULT_CELERY_BROKER_URL, SettingsError, load_settings

POSTGRES = "postgresql+psycopg://wfm@db.internal:5432/wfm"
BROKER_PASSWORD = "Zq8-distinctive-broker-password"
BROKER = f"amqp://wfm:{BROKER_PASSWORD}@rabbit.internal:5672/wfm"


def executor_of(settings) -> dg.ExecutorDefinition:
    return build_definitions(settings).resolve_job_def("interval_collection_job").executor_def


@pytest.mark.parametrize("value, name", [("", "in_process"), ("in_process", "in_process"),
                                         ("MULTIPROCESS", "multiprocess"), ("celery", "celery")])
def test_each_executor_is_built_from_its_setting(value, name):
    settings = load_settings({"WFM_EXECUTOR": value, "WFM_DATABASE_URL": POSTGRES})
    assert settings.executor == name
    assert executor_of(settings).name == name


def test_the_broker_defaults_to_a_local_rabbitmq():
    assert load_settings({}).celery_broker_url == DEFAULT_CELERY_BROKER_URL == "amqp://guest:guest@127.0.0.1:5672//"


@pytest.mark.parametrize("env, expected", [
    ({"WFM_EXECUTOR": "kubernetes"}, "WFM_EXECUTOR='kubernetes' is not a known value; expected one of in_process, "
                                     "multiprocess, celery"),
    ({"WFM_EXECUTOR": "celery"}, "WFM_DATABASE_URL is SQLite, but WFM_EXECUTOR=celery"),
    ({"WFM_CELERY_BROKER_URL": f"wfm:{BROKER_PASSWORD}@rabbit"}, "WFM_CELERY_BROKER_URL has no scheme"),
    ({"WFM_CELERY_BROKER_URL": f"redis://:{BROKER_PASSWORD}@rabbit:6379/0"}, "WFM_CELERY_BROKER_URL uses 'redis://'"),
    ({"WFM_CELERY_BROKER_URL": f"amqp://wfm:{BROKER_PASSWORD}@/wfm"}, "WFM_CELERY_BROKER_URL (amqp://...) has no host"),
    ({"WFM_CELERY_BROKER_URL": f"amqp://wfm:{BROKER_PASSWORD}@rabbit:notaport/"}, "WFM_CELERY_BROKER_URL has an "
                                                                                   "unreadable host or port"),
])
def test_a_bad_executor_setting_is_refused_naming_its_variable_and_never_the_password(env, expected):
    with pytest.raises(SettingsError) as refused:
        load_settings(env)
    assert str(refused.value).startswith(expected)
    assert BROKER_PASSWORD not in str(refused.value)


def test_the_broker_url_reaches_dagster_as_the_variables_name(monkeypatch):
    monkeypatch.setenv("WFM_EXECUTOR", "celery")
    monkeypatch.setenv("WFM_DATABASE_URL", POSTGRES)
    monkeypatch.setenv("WFM_CELERY_BROKER_URL", BROKER)
    settings = load_settings()
    assert settings.celery_broker_url == BROKER and settings.celery_broker_url_var == "WFM_CELERY_BROKER_URL"
    definitions = build_definitions(settings)
    executor = definitions.resolve_job_def("interval_collection_job").executor_def
    # The definitions hold the variable's name: the URL is read when a run starts, so a changed variable is seen.
    monkeypatch.setenv("WFM_CELERY_BROKER_URL", "amqp://wfm:rotated@rabbit.internal:5672/wfm")
    config = executor.apply_config_mapping({}).value["config"]
    assert config["broker"] == "amqp://wfm:rotated@rabbit.internal:5672/wfm"
    assert config["config_source"] == CELERY_APP_SETTINGS


@pytest.mark.parametrize("env, max_concurrent", [({}, 8), ({"WFM_MAX_CONCURRENT_STEPS": "3"}, 3)])
def test_the_multiprocess_executor_forks_steps_from_a_forkserver_up_to_the_setting(env, max_concurrent):
    executor = executor_of(load_settings({"WFM_EXECUTOR": "multiprocess", **env}))
    config = executor.apply_config_mapping({}).value["config"]
    assert config["max_concurrent"] == max_concurrent
    assert config["start_method"] == {"forkserver": {"preload_modules": ["wfm_pipelines.warm_start",
                                                                         "dagster_postgres"]}}


def test_the_in_process_executor_ignores_the_step_limit():
    assert executor_of(load_settings({"WFM_MAX_CONCURRENT_STEPS": "3"})).name == "in_process"


def test_the_forkserver_preloads_modules_that_import():
    """The forkserver skips a preload module that fails to import without a word (the steps would then start
    cold): each must import, in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", "; ".join(f"import {m}" for m in FORKSERVER_PRELOAD_MODULES)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_code_location_resolves_its_jobs_when_imported():
    """The module the forkserver preloads (`warm_start`) has built the code location and resolved every job by the
    end of its import, so forked steps inherit them; importing `definitions` alone builds nothing. In a fresh interpreter: another test may have resolved them here.
    (Dagster 1.13's repository data keeps the resolved jobs in `_all_jobs`, None until they are resolved.)"""
    check = ("import wfm_pipelines.definitions as d, functools; assert d.definitions_from_environment.cache_info().currsize == 0; "
             "import wfm_pipelines.warm_start; data = d.definitions_from_environment().get_repository_def()._repository_data; "
             "print(sorted(job.name for job in data._all_jobs) if data._all_jobs is not None else 'unresolved')")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "'interval_collection_job'" in done.stdout and "'configuration_job'" in done.stdout, done.stdout
