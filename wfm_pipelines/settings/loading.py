"""`load_settings`: every variable read and checked, in one place, plus the checks that span two variables
(a real OAuth client needs a real address; Celery workers need a shared database)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from wfm_pipelines.settings import validators
from wfm_pipelines.settings.accounts_file import Account, load_accounts_file
from wfm_pipelines.settings.emulator import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, EMULATOR_URL
from wfm_pipelines.settings.environment import SettingsError, env_value, first_set, is_set, load_dotenv_once
from wfm_pipelines.settings.model import Settings
from wfm_pipelines.settings.values import history_start, read, shrink_guard

API_URL_EXAMPLES = "https://api.talkdeskapp.com, https://api.talkdeskapp.eu or https://api.talkdeskappca.com"

# The settings read by their kind alone (a number in a range, a choice, on/off): field -> variable.
PLAIN_FIELDS = {
    "report_format": "WFM_REPORT_FORMAT",
    "schedule_lag_minutes": "WFM_SCHEDULE_LAG_MINUTES",
    "report_window_field": "TALKDESK_REPORT_WINDOW_FIELD",
    "max_contact_minutes": "WFM_MAX_CONTACT_MINUTES",
    "step_retries": "WFM_STEP_RETRIES",
    "healing_lookback_days": "WFM_HEALING_LOOKBACK_DAYS",
    "healing_max_attempts": "WFM_HEALING_MAX_ATTEMPTS",
    "healing_interval_seconds": "WFM_HEALING_INTERVAL_SECONDS",
    "automation_running": "WFM_AUTOMATION",
    "backfill_partitions_per_run": "WFM_BACKFILL_PARTITIONS_PER_RUN",
    "report_chunk_hours": "WFM_REPORT_CHUNK_HOURS",
    "report_target_entries": "WFM_REPORT_TARGET_ENTRIES",
    "min_free_disk_mb": "WFM_MIN_FREE_DISK_MB",
    "db_connect_timeout_s": "WFM_DB_CONNECT_TIMEOUT_SECONDS",
    "db_statement_timeout_s": "WFM_DB_STATEMENT_TIMEOUT_SECONDS",
    "agent_state_stale_after": "WFM_AGENT_STATE_STALE_AFTER",
    "metadata_people_preview": "WFM_METADATA_PEOPLE_PREVIEW",
    "max_concurrent_steps": "WFM_MAX_CONCURRENT_STEPS",
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; a bad value raises `SettingsError` naming its variable.

    `environ` defaults to the process environment with `.env` read into it; tests pass a mapping instead.
    """
    if environ is None:
        load_dotenv_once()
    env = os.environ if environ is None else environ
    base_url = validators.talkdesk_url(env, "TALKDESK_BASE_URL", EMULATOR_URL)
    api_url = validators.talkdesk_url(env, "TALKDESK_API_URL", EMULATOR_URL)
    realtime_base_url = validators.talkdesk_url(env, "TALKDESK_REALTIME_BASE_URL", base_url)
    realtime_api_url = validators.talkdesk_url(env, "TALKDESK_REALTIME_API_URL", api_url)
    _check_real_credentials(env)
    shrink_share, shrink_min_drop = shrink_guard(env)
    agent_state_interval = read(env, "WFM_AGENT_STATE_INTERVAL_SECONDS")
    volume_report = read(env, "WFM_VOLUME_REPORT")
    accounts_file = env_value(env, "WFM_ACCOUNTS_FILE", "") or None
    file_accounts = _file_accounts(accounts_file, env, agent_state_interval, volume_report)
    database_url = validators.database_url(env)
    executor = read(env, "WFM_EXECUTOR")
    _check_executor_database(executor, database_url)
    return Settings(
        talkdesk_base_url=base_url,
        talkdesk_api_url=api_url,
        realtime_base_url=realtime_base_url,
        realtime_api_url=realtime_api_url,
        agent_state_interval_seconds=agent_state_interval,
        database_url=database_url,
        raw_store=validators.raw_store(env),
        history_start=history_start(env),
        volume_report=volume_report,
        **{field: read(env, name) for field, name in PLAIN_FIELDS.items()},
        shrink_guard_share=shrink_share,
        shrink_guard_min_drop=shrink_min_drop,
        executor=executor,
        celery_broker_url=validators.celery_broker_url(env),
        **(_variables_of_secrets(env) if environ is None else {}),
        accounts_file=accounts_file,
        file_accounts=file_accounts,
    )


def raw_store_root(environ: Mapping[str, str] | None = None) -> str:
    """WFM_RAW_STORE alone, checked as `load_settings` checks it: for code that needs only the raw store
    (the migration that moves raw entries into it)."""
    if environ is None:
        load_dotenv_once()
    return validators.raw_store(os.environ if environ is None else environ)


def _file_accounts(path: str | None, env: Mapping[str, str], interval_seconds: int,
                   volume_report: str) -> tuple[Account, ...] | None:
    if path is None:
        return None
    return load_accounts_file(path, env, default_interval_seconds=interval_seconds,
                              default_volume_report=volume_report)


def _check_executor_database(executor: str, database_url: str) -> None:
    """Celery workers on other hosts cannot share a SQLite file: each would fill a database of its own."""
    if executor == "celery" and database_url.lower().startswith("sqlite"):
        raise SettingsError(
            "WFM_DATABASE_URL is SQLite, but WFM_EXECUTOR=celery runs steps on Celery workers, each of which "
            "would write to a SQLite file of its own; set WFM_DATABASE_URL to the PostgreSQL database every "
            "worker reaches, e.g. postgresql+psycopg://user:password@host:5432/wfm")


def _real_client(env: Mapping[str, str], id_name: str, secret_name: str) -> str:
    """The variables among the two that hold a real client, as the message names them ('' when none)."""
    named = []
    if env_value(env, id_name, EMULATOR_CLIENT_ID) != EMULATOR_CLIENT_ID:
        named.append(id_name)
    if env_value(env, secret_name, EMULATOR_CLIENT_SECRET) != EMULATOR_CLIENT_SECRET:
        named.append(secret_name)
    return " and ".join(named) + (" hold" if len(named) > 1 else " holds") if named else ""


def _real_host(env: Mapping[str, str], url_name: str) -> str | None:
    host = urlsplit(env_value(env, url_name, EMULATOR_URL)).hostname or ""
    return None if validators.is_loopback_host(host) else host


def _check_real_credentials(env: Mapping[str, str]) -> None:
    """A real OAuth client must not be sent to the emulator's default address, nor its token."""
    historical = _real_client(env, "TALKDESK_CLIENT_ID", "TALKDESK_CLIENT_SECRET")
    if historical and not is_set(env, "TALKDESK_BASE_URL"):
        raise SettingsError(
            f"TALKDESK_BASE_URL is not set, but {historical} a real OAuth client (not the emulator's "
            f"demo client): its credentials would be sent to the local emulator at {EMULATOR_URL}; set "
            "TALKDESK_BASE_URL to the account's identity host, e.g. https://acme.talkdeskid.com")
    host = _real_host(env, "TALKDESK_BASE_URL")
    if host and not is_set(env, "TALKDESK_API_URL"):
        raise SettingsError(
            f"TALKDESK_API_URL is not set, but TALKDESK_BASE_URL points at {host}: the account's bearer token would "
            f"be sent to the local emulator at {EMULATOR_URL}; set TALKDESK_API_URL to the account's API gateway, "
            f"e.g. {API_URL_EXAMPLES}")
    realtime = _real_client(env, "TALKDESK_REALTIME_CLIENT_ID", "TALKDESK_REALTIME_CLIENT_SECRET")
    if realtime and not is_set(env, "TALKDESK_REALTIME_BASE_URL") and not is_set(env, "TALKDESK_BASE_URL"):
        raise SettingsError(
            f"TALKDESK_REALTIME_BASE_URL is not set (nor TALKDESK_BASE_URL), but {realtime} a real "
            f"OAuth client: its credentials would be sent to the local emulator at {EMULATOR_URL}; set "
            "TALKDESK_REALTIME_BASE_URL (or TALKDESK_BASE_URL) to the account's identity host, e.g. "
            "https://acme.talkdeskid.com")
    host = _real_host(env, "TALKDESK_REALTIME_BASE_URL")
    if host and not is_set(env, "TALKDESK_REALTIME_API_URL") and not is_set(env, "TALKDESK_API_URL"):
        raise SettingsError(
            f"TALKDESK_REALTIME_API_URL is not set (nor TALKDESK_API_URL), but TALKDESK_REALTIME_BASE_URL points at "
            f"{host}: the real-time bearer token would be sent to the local emulator at {EMULATOR_URL}; set "
            f"TALKDESK_REALTIME_API_URL (or TALKDESK_API_URL) to the account's API gateway, e.g. {API_URL_EXAMPLES}")


def _variables_of_secrets(env: Mapping[str, str]) -> dict[str, str | None]:
    """Which process variables hold the clients, the database URL and the broker URL (Dagster reads them as
    `EnvVar`s). Settings read from a given mapping name none: their resources get the emulator's demo client and
    the mapping's database URL as plain values."""
    return dict(
        client_id_var=first_set(env, "TALKDESK_CLIENT_ID"),
        client_secret_var=first_set(env, "TALKDESK_CLIENT_SECRET"),
        realtime_client_id_var=first_set(env, "TALKDESK_REALTIME_CLIENT_ID", "TALKDESK_CLIENT_ID"),
        realtime_client_secret_var=first_set(env, "TALKDESK_REALTIME_CLIENT_SECRET", "TALKDESK_CLIENT_SECRET"),
        database_url_var=first_set(env, "WFM_DATABASE_URL"),
        celery_broker_url_var=first_set(env, "WFM_CELERY_BROKER_URL"),
    )
