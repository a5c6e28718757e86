"""The Dagster resources: built from the environment, and no secret or token reaches Dagster's records.

A real materialization runs against the emulator with a distinctive secret in the environment, once
succeeding and once with a wrong secret; then every event log record, the run's config, captured
stdout/stderr and the Python logs of the client are searched for the secret and the token.
"""

import json
import logging
from collections.abc import Iterator

import dagster as dg
import pytest

from wfm_pipelines import settings as wfm_settings
from wfm_pipelines.settings import load_settings
from wfm_pipelines.talkdesk.auth import HISTORICAL_SCOPES, REALTIME_SCOPES
from wfm_pipelines.defs.talkdesk_resources import (
    TalkdeskRealtimeResource,
    TalkdeskResource,
    talkdesk_resources,
)
from talkdesk_emulator.server import EmulatorConfig, EmulatorServer
from wfm_pipelines.talkdesk import TalkdeskClient

CLIENT_ID = "wfm-secrets-test-client"
SECRET = "Zq8-DISTINCTIVE-secret-4f1e9b"
WRONG_SECRET = "Wx3-WRONG-distinctive-77c2d0"
ENV_NAMES = ("TALKDESK_BASE_URL", "TALKDESK_API_URL", "TALKDESK_CLIENT_ID", "TALKDESK_CLIENT_SECRET",
             "TALKDESK_REALTIME_BASE_URL", "TALKDESK_REALTIME_API_URL", "TALKDESK_REALTIME_CLIENT_ID",
             "TALKDESK_REALTIME_CLIENT_SECRET")


@pytest.fixture
def clean_env(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def secret_emulator(clean_env, monkeypatch) -> Iterator[EmulatorServer]:
    server = EmulatorServer(EmulatorConfig(seed=5, queues=3, agents=12, contacts_per_day=500,
                                           client_id=CLIENT_ID, client_secret=SECRET,
                                           report_processing_seconds=0.05), port=0)
    server.start()
    monkeypatch.setenv("TALKDESK_BASE_URL", server.url)
    monkeypatch.setenv("TALKDESK_API_URL", server.url)
    monkeypatch.setenv("TALKDESK_CLIENT_ID", CLIENT_ID)
    try:
        yield server
    finally:
        server.stop()


def test_without_environment_the_resources_point_at_the_emulator_demo_client(clean_env):
    resources = talkdesk_resources(load_settings())
    historical, realtime = resources["talkdesk"], resources["talkdesk_realtime"]
    assert isinstance(historical, TalkdeskResource) and isinstance(realtime, TalkdeskRealtimeResource)
    assert historical.client_id == wfm_settings.EMULATOR_CLIENT_ID
    assert historical.base_url == historical.api_url == wfm_settings.EMULATOR_URL
    assert tuple(historical.scopes) == HISTORICAL_SCOPES
    assert tuple(realtime.scopes) == REALTIME_SCOPES
    dg.Definitions(assets=[_list_users_asset()], resources=resources)  # loads with nothing set


def test_secrets_come_through_env_vars_and_realtime_falls_back_to_historical(clean_env, monkeypatch):
    monkeypatch.setenv("TALKDESK_BASE_URL", "https://acme.talkdeskid.com")  # real credentials need a real host
    monkeypatch.setenv("TALKDESK_API_URL", "https://api.talkdeskapp.com")
    monkeypatch.setenv("TALKDESK_CLIENT_ID", "hist-id")
    monkeypatch.setenv("TALKDESK_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("TALKDESK_REALTIME_CLIENT_SECRET", WRONG_SECRET)
    resources = talkdesk_resources(load_settings())
    historical, realtime = resources["talkdesk"], resources["talkdesk_realtime"]
    assert isinstance(historical.client_secret, dg.EnvVar) and historical.client_secret.env_var_name == "TALKDESK_CLIENT_SECRET"
    assert realtime.client_id.env_var_name == "TALKDESK_CLIENT_ID"
    assert realtime.client_secret.env_var_name == "TALKDESK_REALTIME_CLIENT_SECRET"
    assert SECRET not in repr(historical) and WRONG_SECRET not in repr(realtime)


def _list_users_asset(seen: dict | None = None) -> dg.AssetsDefinition:
    @dg.asset
    def talkdesk_users(context: dg.AssetExecutionContext, talkdesk: TalkdeskResource) -> int:
        client = talkdesk.client()
        assert client is talkdesk.client()  # one client per resource instance
        if seen is not None:
            seen["client"] = client
        users = client.list_users()
        if seen is not None:  # the test learns the token through this side door, to search for it
            seen["token"] = client.http.tokens.token()
        context.log.info(f"{len(users)} users; client {client!r}; resource {talkdesk!r}")
        context.add_output_metadata({"users": len(users)})
        return len(users)

    return talkdesk_users


def _records_text(instance: dg.DagsterInstance, run_id: str) -> str:
    records = [dg.serialize_value(entry) for entry in instance.all_logs(run_id)]
    run = instance.get_run_by_id(run_id)
    return "\n".join(records) + json.dumps(run.run_config, default=str) + repr(run.tags)


def _materialize(monkeypatch, secret: str, seen: dict, capfd, caplog) -> tuple[dg.ExecuteInProcessResult, str]:
    monkeypatch.setenv("TALKDESK_CLIENT_SECRET", secret)
    caplog.set_level(logging.DEBUG, logger="wfm_pipelines.talkdesk")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([_list_users_asset(seen)], resources=talkdesk_resources(load_settings()),
                            instance=instance, raise_on_error=False)
    captured = capfd.readouterr()
    everything = "\n".join([_records_text(instance, result.run_id), captured.out, captured.err,
                            caplog.text, repr(result.all_events)])
    return result, everything


def test_a_materialization_leaks_neither_secret_nor_token(secret_emulator, monkeypatch, capfd, caplog):
    seen: dict = {}
    result, everything = _materialize(monkeypatch, SECRET, seen, capfd, caplog)
    assert result.success
    assert result.output_for_node("talkdesk_users") == 12
    assert isinstance(seen["client"], TalkdeskClient) and seen["token"]
    assert "12 users" in everything  # the search covers what the run really logged
    assert SECRET not in everything
    assert seen["token"] not in everything


def test_a_wrong_secret_fails_with_a_clear_error_that_leaks_nothing(secret_emulator, monkeypatch, capfd, caplog):
    result, everything = _materialize(monkeypatch, WRONG_SECRET, {}, capfd, caplog)
    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    error_text = failure.step_failure_data.error.to_string()
    assert "TalkdeskAuthError" in error_text and CLIENT_ID in error_text and "HTTP 401" in error_text
    assert "TalkdeskAuthError" in everything
    assert WRONG_SECRET not in everything and SECRET not in everything
