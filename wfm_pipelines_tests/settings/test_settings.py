"""Every setting is checked when the definitions load, with an error that names the variable.

Unit tests call `load_settings()` over every bad value; the CLI tests run the real
`dagster definitions validate -m wfm_pipelines.definitions` once with a clean environment (the `dagster`
script, about 5 s of CPU) and once per kind of bad setting (each in a process forked after Dagster's import,
about 2 s: see cli_forks.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from wfm_pipelines import settings as wfm_settings
from wfm_pipelines.settings import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    EMULATOR_URL,
    SettingsError,
    load_settings,
)

SECRET = "Kp7-DISTINCTIVE-client-secret-31d9"
REAL_ID = "acme-real-client-id-5e2"
URL_PASSWORD = "Hq2DistinctiveUrlPassword"
REAL_BASE = "https://acme.talkdeskid.com"
REAL_API = "https://api.talkdeskapp.com"
URL_VARS = ("TALKDESK_BASE_URL", "TALKDESK_API_URL", "TALKDESK_REALTIME_BASE_URL", "TALKDESK_REALTIME_API_URL")
NEVER_SHOWN = (SECRET, URL_PASSWORD)


def _stray(name: str) -> bool:
    return name.startswith(("TALKDESK_", "WFM_"))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No stray TALKDESK_*/WFM_* variable, no .env, DAGSTER_HOME in the test's directory; all restored after."""
    saved = dict(os.environ)
    for name in [name for name in os.environ if _stray(name)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    yield
    os.environ.clear()  # also undoes what a .env file set
    os.environ.update(saved)


def set_env(monkeypatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _numeric(name: str, *values: str) -> list:
    return [pytest.param(name, {name: value}, id=f"{name}={value}") for value in values]


def _bad(name: str, value: str, **extra: str) -> pytest.param:
    return pytest.param(name, {name: value, **extra}, id=f"{name}={value}")


def _rule(name: str, env: dict[str, str], label: str) -> pytest.param:
    return pytest.param(name, env, id=f"{name}:{label}")


def _url_cases(name: str) -> list:
    extra = {}
    if name == "TALKDESK_BASE_URL":
        extra = {"TALKDESK_API_URL": REAL_API}  # so that only the URL itself is wrong
    if name == "TALKDESK_REALTIME_BASE_URL":
        extra = {"TALKDESK_REALTIME_API_URL": REAL_API}
    values = [
        "acme.talkdeskid.com",  # no scheme
        "acme.talkdeskid.com:443",
        "https://",  # no host
        "https:///oauth",
        "http://acme.talkdeskid.com",  # https needed for a real host
        "http://10.0.0.5:8089",
        "http://128.0.0.1:8089",  # just outside 127.0.0.0/8
        "ftp://acme.talkdeskid.com",
        f"https://wfm:{URL_PASSWORD}@acme.talkdeskid.com",  # credentials
        f"https://wfm:{URL_PASSWORD}@127.0.0.1:8089",
        "https://acme.talkdeskid.com:99999",  # bad port
        "https://acme talkdeskid.com",
        f"https://acme.talkdeskid.com/?token={URL_PASSWORD}",
    ]
    if name != "TALKDESK_BASE_URL":  # the same helper checks all four: each kind of fault once for the others
        values = [values[0], values[2], values[4], values[8], values[-1]]
    return [_bad(name, value, **extra) for value in values]


BAD_CASES = [
    *_numeric("WFM_AGENT_STATE_INTERVAL_SECONDS", "thirty", "30.5", "0", "-30", "4", "3601"),
    *_numeric("WFM_SCHEDULE_LAG_MINUTES", "five", "-1", "15"),
    *_numeric("WFM_MAX_CONTACT_MINUTES", "x", "0", "-240", "1441"),
    *_numeric("WFM_STEP_RETRIES", "two", "-1", "11"),
    *_numeric("WFM_HEALING_LOOKBACK_DAYS", "week", "0", "-7", "nan", "inf", "367"),
    *_numeric("WFM_HEALING_MAX_ATTEMPTS", "x", "0", "-5", "101"),
    *_numeric("WFM_HEALING_INTERVAL_SECONDS", "x", "0", "-120", "9", "86401"),
    *_numeric("WFM_BACKFILL_PARTITIONS_PER_RUN", "week", "0", "-672"),
    *_numeric("WFM_REPORT_CHUNK_HOURS", "x", "0", "-1", "721"),
    *_numeric("WFM_REPORT_TARGET_ENTRIES", "many", "0", "-50000", "99", "5000001"),
    *_numeric("WFM_DB_CONNECT_TIMEOUT_SECONDS", "x", "0", "-10", "601"),
    *_numeric("WFM_DB_STATEMENT_TIMEOUT_SECONDS", "x", "0", "-900", "86401"),
    *_numeric("WFM_AGENT_STATE_STALE_AFTER", "x", "0", "-3", "1001"),
    *_numeric("WFM_MAX_CONCURRENT_STEPS", "eight", "8.5", "0", "-8", "65"),
    *_numeric("WFM_HISTORY_START", "yesterday", "2025-01-01 00:00", "2025-1-1-0:00", "2025-13-01-00:00",
              "2025-01-01-00:10", "2025-01-01-00:59", "2999-01-01-00:00"),
    *_numeric("WFM_AUTOMATION", "maybe", "onn", "2", "running"),
    *_numeric("WFM_METADATA_PEOPLE_PREVIEW", "maybe", "y"),
    *_numeric("WFM_VOLUME_REPORT", "call", "agents"),
    *_numeric("WFM_REPORT_FORMAT", "xml", "parquet"),
    *_numeric("TALKDESK_REPORT_WINDOW_FIELD", "middle", "both"),
    *[case for name in URL_VARS for case in _url_cases(name)],
    *_numeric("WFM_DATABASE_URL", "mysql://wfm:" + URL_PASSWORD + "@db.example.com/wfm",
              "postgresql+psycopg2://wfm:" + URL_PASSWORD + "@db.example.com/wfm",
              "postgresql+asyncpg://wfm:" + URL_PASSWORD + "@db.example.com/wfm",
              "sqlite+nosuchdriver:///wfm.db",
              "not a database url " + URL_PASSWORD,
              "postgresql://wfm:" + URL_PASSWORD + "@x@db.example.com/wfm",  # unescaped @ in the password
              "oracle://wfm@db.example.com/wfm?password=" + URL_PASSWORD),
    _rule("TALKDESK_BASE_URL", {"TALKDESK_CLIENT_ID": REAL_ID}, "real-id-no-base"),
    _rule("TALKDESK_BASE_URL", {"TALKDESK_CLIENT_SECRET": SECRET}, "real-secret-no-base"),
    _rule("TALKDESK_BASE_URL", {"TALKDESK_CLIENT_ID": REAL_ID, "TALKDESK_CLIENT_SECRET": SECRET,
                                "TALKDESK_API_URL": REAL_API}, "real-client-api-only"),
    _rule("TALKDESK_API_URL", {"TALKDESK_BASE_URL": REAL_BASE}, "real-base-no-api"),
    _rule("TALKDESK_API_URL", {"TALKDESK_BASE_URL": REAL_BASE, "TALKDESK_CLIENT_ID": REAL_ID,
                               "TALKDESK_CLIENT_SECRET": SECRET}, "real-client-real-base-no-api"),
    _rule("TALKDESK_REALTIME_BASE_URL", {"TALKDESK_REALTIME_CLIENT_ID": REAL_ID}, "realtime-real-id-no-base"),
    _rule("TALKDESK_REALTIME_BASE_URL", {"TALKDESK_REALTIME_CLIENT_SECRET": SECRET}, "realtime-real-secret-no-base"),
    _rule("TALKDESK_REALTIME_API_URL", {"TALKDESK_REALTIME_BASE_URL": REAL_BASE}, "realtime-real-base-no-api"),
    _rule("TALKDESK_REALTIME_API_URL", {"TALKDESK_REALTIME_BASE_URL": REAL_BASE, "TALKDESK_REALTIME_CLIENT_ID": REAL_ID,
                                        "TALKDESK_REALTIME_CLIENT_SECRET": SECRET}, "realtime-real-client-no-api"),
    *_numeric("WFM_RAW_STORE", "s3://wfm-bucket/raw", "gs://wfm-bucket/raw", "file://nas.example.com/raw",
              "file:///srv/raw?version=2"),
    *_numeric("WFM_SHRINK_GUARD", "half", "0", "0.0", "0:20", "-0.5", "1.5", "nan", "0.5:-1", "0.5:x", "0.5:20:3",
              "50%", "on"),
]
# "0" is an off word of WFM_SHRINK_GUARD, so it is not a bad value: take it out of the list.
BAD_CASES = [case for case in BAD_CASES if case.id != "WFM_SHRINK_GUARD=0"]


def _starts_with_name(message: str, name: str) -> bool:
    return re.match(rf"{name}\b", message) is not None


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


@pytest.mark.parametrize(("name", "env"), BAD_CASES)
def test_a_bad_value_is_refused_naming_its_variable(monkeypatch, name, env):
    set_env(monkeypatch, env)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert _starts_with_name(message, name), message
    assert "expected" in message or "set " in message, message  # says what is expected
    for secret in (*NEVER_SHOWN, REAL_ID):
        assert secret not in message
    error = raised.value  # no chained error that would quote the value (a URL with its password, say)
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_the_defaults_load_with_an_empty_environment(tmp_path):
    settings = load_settings()
    assert settings.talkdesk_base_url == settings.talkdesk_api_url == EMULATOR_URL
    assert settings.realtime_base_url == settings.realtime_api_url == EMULATOR_URL
    assert settings.database_url == f"sqlite:///{tmp_path / 'home' / 'wfm.db'}"
    assert (settings.agent_state_interval_seconds, settings.schedule_lag_minutes) == (30, 5)
    assert settings.max_contact_minutes == 240
    assert (settings.step_retries, settings.healing_lookback_days, settings.healing_max_attempts) == (2, 7.0, 5)
    assert settings.healing_interval_seconds == 120 and settings.automation_running is True
    assert (settings.backfill_partitions_per_run, settings.report_chunk_hours, settings.report_target_entries) == (
        672, 720, 200_000)
    assert (settings.history_start, settings.volume_report, settings.report_window_field) == (
        "2025-01-01-00:00", "calls", "auto")
    assert settings.report_format == "auto"
    assert (settings.shrink_guard_share, settings.shrink_guard_min_drop) == (0.5, 20)
    assert (settings.db_connect_timeout_s, settings.db_statement_timeout_s) == (10, 900)
    assert settings.agent_state_stale_after == 3 and settings.metadata_people_preview is False
    assert (settings.executor, settings.max_concurrent_steps) == ("in_process", 8)
    assert settings.raw_store == str(tmp_path / "home" / "raw")


def test_blank_values_mean_the_default(monkeypatch):
    set_env(monkeypatch, {"WFM_STEP_RETRIES": "", "WFM_AUTOMATION": "  ", "TALKDESK_BASE_URL": "",
                          "WFM_SHRINK_GUARD": " ", "WFM_DATABASE_URL": ""})
    settings = load_settings()
    assert settings.step_retries == 2 and settings.automation_running is True
    assert settings.talkdesk_base_url == EMULATOR_URL and settings.shrink_guard_share == 0.5


@pytest.mark.parametrize(("value", "expected"), [
    *[(word, True) for word in ("on", "ON", " On ", "true", "True", "yes", "YES", "1", "enabled", "Enabled")],
    *[(word, False) for word in ("off", "OFF", " off ", "false", "FALSE", "no", "No", "0", "disabled", "DISABLED")],
])
@pytest.mark.parametrize(("name", "field"), [("WFM_AUTOMATION", "automation_running"),
                                             ("WFM_METADATA_PEOPLE_PREVIEW", "metadata_people_preview")])
def test_on_off_synonyms(monkeypatch, name, field, value, expected):
    monkeypatch.setenv(name, value)
    assert getattr(load_settings(), field) is expected


@pytest.mark.parametrize(("name", "low", "high"), [
    ("WFM_AGENT_STATE_INTERVAL_SECONDS", 5, 3600), ("WFM_SCHEDULE_LAG_MINUTES", 0, 14),
    ("WFM_MAX_CONTACT_MINUTES", 1, 1440), ("WFM_STEP_RETRIES", 0, 10), ("WFM_HEALING_MAX_ATTEMPTS", 1, 100),
    ("WFM_HEALING_INTERVAL_SECONDS", 10, 86400), ("WFM_BACKFILL_PARTITIONS_PER_RUN", 1, 10 * 35_040),
    ("WFM_REPORT_CHUNK_HOURS", 1, 720), ("WFM_REPORT_TARGET_ENTRIES", 100, 5_000_000),
    ("WFM_DB_CONNECT_TIMEOUT_SECONDS", 1, 600), ("WFM_DB_STATEMENT_TIMEOUT_SECONDS", 1, 86400),
    ("WFM_AGENT_STATE_STALE_AFTER", 1, 1000), ("WFM_MAX_CONCURRENT_STEPS", 1, 64),
])
def test_integer_bounds_are_valid(monkeypatch, name, low, high):
    for value in (low, high):
        monkeypatch.setenv(name, f" {value} ")
        settings = load_settings()
        assert value in vars(settings).values()


@pytest.mark.parametrize("value", ["0.01", "0.125", "1", "366"])
def test_fractional_healing_lookback_is_valid(monkeypatch, value):
    monkeypatch.setenv("WFM_HEALING_LOOKBACK_DAYS", value)
    assert load_settings().healing_lookback_days == float(value)


def test_a_history_start_on_any_past_or_current_quarter_hour_is_valid(monkeypatch):
    now = datetime.now(timezone.utc)  # the subject: the quarter hour running now is a valid history start
    current = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    for moment in (current, current - timedelta(minutes=15), datetime(2024, 2, 29, 23, 45)):
        key = moment.strftime(wfm_settings.PARTITION_FORMAT)
        monkeypatch.setenv("WFM_HISTORY_START", key)
        assert load_settings().history_start == key


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("WFM_VOLUME_REPORT", "contacts", "contacts"), ("WFM_VOLUME_REPORT", " Calls ", "calls"),
    ("WFM_REPORT_FORMAT", "json", "json"), ("WFM_REPORT_FORMAT", " CSV ", "csv"), ("WFM_REPORT_FORMAT", "Auto", "auto"),
    ("TALKDESK_REPORT_WINDOW_FIELD", "END", "end"), ("TALKDESK_REPORT_WINDOW_FIELD", "start", "start"),
])
def test_enumerations(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    assert expected in vars(load_settings()).values()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8089", "http://localhost:8089", "http://127.3.4.5:9000/",
                                 "http://[::1]:8089", "HTTP://LOCALHOST:8089", "https://127.0.0.1:8443"])
@pytest.mark.parametrize("name", URL_VARS)
def test_http_is_fine_for_a_loopback_host(monkeypatch, name, url):
    monkeypatch.setenv(name, url)
    settings = load_settings()
    field = {"TALKDESK_BASE_URL": "talkdesk_base_url", "TALKDESK_API_URL": "talkdesk_api_url",
             "TALKDESK_REALTIME_BASE_URL": "realtime_base_url", "TALKDESK_REALTIME_API_URL": "realtime_api_url"}[name]
    assert getattr(settings, field) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://acme.talkdeskid.com", "http://api.talkdeskapp.com",
                                 "http://192.168.1.10:8089"])
@pytest.mark.parametrize("name", URL_VARS)
def test_https_is_required_for_a_real_host(monkeypatch, name, url):
    set_env(monkeypatch, {"TALKDESK_API_URL": REAL_API, "TALKDESK_REALTIME_API_URL": REAL_API, name: url})
    with pytest.raises(SettingsError, match=rf"^{name}=.* uses http for .*expected https://") as raised:
        load_settings()
    assert "loopback" in str(raised.value)
    monkeypatch.setenv(name, url.replace("http://", "https://") + "/")  # the same host over https, trailing slash
    load_settings()


def test_a_trailing_slash_is_dropped(monkeypatch):
    set_env(monkeypatch, {"TALKDESK_BASE_URL": REAL_BASE + "/", "TALKDESK_API_URL": REAL_API + "//"})
    settings = load_settings()
    assert (settings.talkdesk_base_url, settings.talkdesk_api_url) == (REAL_BASE, REAL_API)
    assert (settings.realtime_base_url, settings.realtime_api_url) == (REAL_BASE, REAL_API)


def test_real_credentials_load_with_real_https_hosts(monkeypatch):
    set_env(monkeypatch, {"TALKDESK_BASE_URL": REAL_BASE, "TALKDESK_API_URL": REAL_API,
                          "TALKDESK_CLIENT_ID": REAL_ID, "TALKDESK_CLIENT_SECRET": SECRET})
    settings = load_settings()
    assert (settings.talkdesk_base_url, settings.talkdesk_api_url) == (REAL_BASE, REAL_API)
    # The real-time integration's own client, falling back to the historical hosts.
    set_env(monkeypatch, {"TALKDESK_REALTIME_CLIENT_ID": "rt-" + REAL_ID,
                          "TALKDESK_REALTIME_CLIENT_SECRET": "rt-" + SECRET})
    assert load_settings().realtime_base_url == REAL_BASE
    # Its own identity host, with the historical API gateway.
    monkeypatch.setenv("TALKDESK_REALTIME_BASE_URL", "https://acme-rt.talkdeskid.com")
    assert load_settings().realtime_api_url == REAL_API


@pytest.mark.parametrize("env", [
    {"TALKDESK_CLIENT_ID": EMULATOR_CLIENT_ID, "TALKDESK_CLIENT_SECRET": EMULATOR_CLIENT_SECRET},
    {"TALKDESK_REALTIME_CLIENT_ID": EMULATOR_CLIENT_ID, "TALKDESK_REALTIME_CLIENT_SECRET": EMULATOR_CLIENT_SECRET},
    # An explicit loopback address is a deliberate choice (a local emulator with its own client).
    {"TALKDESK_BASE_URL": "http://127.0.0.1:9999", "TALKDESK_CLIENT_ID": REAL_ID, "TALKDESK_CLIENT_SECRET": SECRET},
    {"TALKDESK_REALTIME_BASE_URL": "http://localhost:9999", "TALKDESK_REALTIME_CLIENT_SECRET": SECRET},
    # The real-time client falls back to the historical identity host and API gateway.
    {"TALKDESK_BASE_URL": REAL_BASE, "TALKDESK_API_URL": REAL_API, "TALKDESK_REALTIME_CLIENT_ID": REAL_ID},
    {"TALKDESK_REALTIME_BASE_URL": REAL_BASE, "TALKDESK_API_URL": REAL_API},
], ids=["demo-client", "demo-realtime-client", "real-client-loopback", "realtime-loopback",
        "realtime-falls-back", "realtime-base-historical-api"])
def test_credentials_that_cannot_reach_the_emulator_by_mistake_load(monkeypatch, env):
    set_env(monkeypatch, env)
    load_settings()


@pytest.mark.parametrize(("value", "share", "min_drop"), [
    ("0.5:20", 0.5, 20), ("0.25", 0.25, 20), ("1", 1.0, 20), ("1.0:0", 1.0, 0), (" 0.3 : 7 ", 0.3, 7),
    ("off", None, 20), ("OFF", None, 20), ("false", None, 20), ("no", None, 20), ("0", None, 20),
    ("disabled", None, 20),
])
def test_shrink_guard(monkeypatch, value, share, min_drop):
    monkeypatch.setenv("WFM_SHRINK_GUARD", value)
    settings = load_settings()
    assert (settings.shrink_guard_share, settings.shrink_guard_min_drop) == (share, min_drop)


def test_a_shrink_guard_error_says_what_the_guard_means(monkeypatch):
    monkeypatch.setenv("WFM_SHRINK_GUARD", "1.5")
    with pytest.raises(SettingsError, match="fewer than share x the stored entries and at least min_drop fewer"):
        load_settings()


@pytest.mark.parametrize("url", ["sqlite:///wfm.db", "sqlite://", "postgresql://wfm:pw@db.example.com/wfm",
                                 "postgresql+psycopg://wfm:pw@db.example.com:5432/wfm?sslmode=require"])
def test_supported_database_urls_load_unchanged(monkeypatch, url):
    monkeypatch.setenv("WFM_DATABASE_URL", url)
    assert load_settings().database_url == url


def test_the_raw_store_defaults_to_the_base_of_the_default_database(monkeypatch, tmp_path):
    monkeypatch.delenv("DAGSTER_HOME")
    settings = load_settings()
    assert settings.raw_store == str(tmp_path / ".dagster_home" / "raw")
    assert settings.database_url == f"sqlite:///{tmp_path / '.dagster_home' / 'wfm.db'}"
    monkeypatch.setenv("WFM_RAW_STORE", "  ")
    assert load_settings().raw_store == str(tmp_path / ".dagster_home" / "raw")
    assert not (tmp_path / ".dagster_home").exists()  # loading the settings creates nothing


@pytest.mark.parametrize(("value", "expected"), [
    ("/srv/wfm/raw", "/srv/wfm/raw"),
    ("/srv/wfm/raw/", "/srv/wfm/raw"),
    ("file:///srv/wfm/raw%20files", "/srv/wfm/raw files"),
    ("file://localhost/srv/wfm/raw", "/srv/wfm/raw"),
    ("FILE:///srv/raw", "/srv/raw"),
    ("relative/raw", "{cwd}/relative/raw"),
    ("~/raw", "{home}/raw"),
])
def test_the_raw_store_is_an_absolute_local_directory(monkeypatch, tmp_path, value, expected):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("WFM_RAW_STORE", value)
    expected = expected.format(cwd=tmp_path, home=tmp_path / "user")
    assert load_settings().raw_store == expected
    assert wfm_settings.raw_store_root({"WFM_RAW_STORE": value, "HOME": str(tmp_path / "user")}) == expected


def test_a_raw_store_that_is_or_lies_under_a_file_is_refused(monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    for value, problem in [(str(tmp_path / "a-file"), "is a file, not a directory"),
                           (str(tmp_path / "a-file" / "raw"), "cannot be created")]:
        monkeypatch.setenv("WFM_RAW_STORE", value)
        with pytest.raises(SettingsError, match=rf"^WFM_RAW_STORE=.*{problem}.*expected a local directory"):
            load_settings()
        with pytest.raises(SettingsError, match=problem):
            wfm_settings.raw_store_root({"WFM_RAW_STORE": value})


def test_a_raw_store_with_a_nul_is_refused():  # a mapping can hold what a process environment cannot
    with pytest.raises(SettingsError, match="^WFM_RAW_STORE holds a NUL character"):
        wfm_settings.raw_store_root({"WFM_RAW_STORE": "/srv/raw\x00"})


def test_the_raw_store_alone_reads_dotenv(tmp_path):
    (tmp_path / ".env").write_text(f"WFM_RAW_STORE={tmp_path / 'from-dotenv'}\n")
    assert wfm_settings.raw_store_root() == str(tmp_path / "from-dotenv")


def test_an_unsupported_database_driver_is_shown_with_the_password_hidden(monkeypatch):
    monkeypatch.setenv("WFM_DATABASE_URL", f"postgresql+psycopg2://wfm:{URL_PASSWORD}@db.example.com/wfm")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("WFM_DATABASE_URL=postgresql+psycopg2://wfm:***@db.example.com/wfm ")
    assert "postgresql+psycopg://" in message and URL_PASSWORD not in message


@pytest.mark.parametrize("name", URL_VARS)
def test_credentials_in_a_talkdesk_url_are_refused_unshown(monkeypatch, name):
    monkeypatch.setenv(name, f"https://wfm-user:{URL_PASSWORD}@acme.talkdeskid.com")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"{name} holds credentials")
    assert URL_PASSWORD not in message and "wfm-user" not in message


def test_no_message_shows_a_secret(monkeypatch):
    """With a distinctive secret in every secret variable, each kind of failure leaves it out."""
    secrets = {"TALKDESK_CLIENT_SECRET": SECRET, "TALKDESK_REALTIME_CLIENT_SECRET": SECRET + "-rt"}
    failures = [
        {"TALKDESK_CLIENT_ID": REAL_ID},
        {"TALKDESK_BASE_URL": REAL_BASE},
        {"TALKDESK_BASE_URL": REAL_BASE, "TALKDESK_API_URL": REAL_API,
         "TALKDESK_REALTIME_BASE_URL": "https://rt.example.com",
         "TALKDESK_REALTIME_API_URL": f"https://x:{URL_PASSWORD}@api.talkdeskapp.com"},
        {"TALKDESK_BASE_URL": REAL_BASE, "TALKDESK_API_URL": REAL_API,
         "WFM_DATABASE_URL": f"mysql://wfm:{URL_PASSWORD}@db.example.com/wfm"},
        {"TALKDESK_BASE_URL": REAL_BASE, "TALKDESK_API_URL": REAL_API, "WFM_STEP_RETRIES": "-1"},
    ]
    for env in failures:
        for name in [name for name in os.environ if _stray(name)]:
            monkeypatch.delenv(name)
        set_env(monkeypatch, {**secrets, **env})
        with pytest.raises(SettingsError) as raised:
            load_settings()
        assert SECRET not in str(raised.value) and URL_PASSWORD not in str(raised.value), str(raised.value)


def test_dotenv_is_still_read_and_real_variables_win(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("WFM_STEP_RETRIES=4\nWFM_SCHEDULE_LAG_MINUTES=7\n")
    monkeypatch.setenv("WFM_SCHEDULE_LAG_MINUTES", "3")
    settings = load_settings()
    assert (settings.step_retries, settings.schedule_lag_minutes) == (4, 3)


def test_a_bad_value_in_dotenv_is_refused_naming_its_variable(tmp_path):
    (tmp_path / ".env").write_text("WFM_AUTOMATION=sometimes\n")
    with pytest.raises(SettingsError, match=r"^WFM_AUTOMATION="):
        load_settings()


# --- the real CLI ---------------------------------------------------------------------------------

DAGSTER = os.path.join(os.path.dirname(sys.executable), "dagster")
REPO_ROOT = Path(__file__).resolve().parents[2]


def run_validate(tmp_path, env: dict[str, str]) -> subprocess.CompletedProcess:
    home = tmp_path / "cli_home"
    home.mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not _stray(k) and k != "DAGSTER_HOME"}
    return subprocess.run([DAGSTER, "definitions", "validate", "-m", "wfm_pipelines.definitions"],
                          env={**base, "DAGSTER_HOME": str(home), **env}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=240)


def test_the_cli_validates_a_clean_environment(tmp_path):
    result = run_validate(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr


# One bad value of each kind the load refuses (the unit tests above try every value of every variable):
# each `dagster definitions validate` costs about 3 s of CPU.
CLI_CASES = {
    "not a number": ("WFM_AGENT_STATE_INTERVAL_SECONDS", {"WFM_AGENT_STATE_INTERVAL_SECONDS": "thirty"}),
    "zero where it means nothing": ("WFM_BACKFILL_PARTITIONS_PER_RUN", {"WFM_BACKFILL_PARTITIONS_PER_RUN": "0"}),
    "negative": ("WFM_HEALING_LOOKBACK_DAYS", {"WFM_HEALING_LOOKBACK_DAYS": "-7"}),
    "history start unreadable": ("WFM_HISTORY_START", {"WFM_HISTORY_START": "yesterday"}),
    "history start off the quarter hour": ("WFM_HISTORY_START", {"WFM_HISTORY_START": "2025-01-01-00:10"}),
    "history start in the future": ("WFM_HISTORY_START", {"WFM_HISTORY_START": "2999-01-01-00:00"}),
    "automation": ("WFM_AUTOMATION", {"WFM_AUTOMATION": "maybe"}),
    "url without a scheme": ("TALKDESK_BASE_URL", {"TALKDESK_BASE_URL": "acme.talkdeskid.com"}),
    "http to a real host": ("TALKDESK_API_URL", {"TALKDESK_API_URL": "http://api.talkdeskapp.com"}),
    "database driver": ("WFM_DATABASE_URL", {"WFM_DATABASE_URL": f"mysql://wfm:{URL_PASSWORD}@db.example.com/wfm"}),
    "real credentials, no base url": ("TALKDESK_BASE_URL", {"TALKDESK_CLIENT_ID": REAL_ID,
                                                            "TALKDESK_CLIENT_SECRET": SECRET}),
    "shrink guard": ("WFM_SHRINK_GUARD", {"WFM_SHRINK_GUARD": "half"}),
    "raw store": ("WFM_RAW_STORE", {"WFM_RAW_STORE": "s3://wfm-bucket/raw"}),
}


def test_the_cli_refuses_each_kind_of_bad_setting_naming_its_variable(tmp_path):
    """One `dagster definitions validate` per kind of bad setting, each in its own process and environment,
    forked from one that imported Dagster once (cli_forks; the clean run above starts the `dagster` script)."""
    base = {k: v for k, v in os.environ.items() if not _stray(k) and k != "DAGSTER_HOME"}
    cases = []
    for index, (_, env) in enumerate(CLI_CASES.values()):
        where = tmp_path / f"case{index}"
        (where / "cli_home").mkdir(parents=True)
        cases.append({"argv": ["definitions", "validate", "-m", "wfm_pipelines.definitions"], "cwd": str(where),
                      "env": {**base, "DAGSTER_HOME": str(where / "cli_home"), **env}})
    forks = subprocess.run([sys.executable, "-m", "wfm_pipelines_tests.cli_forks"], input=json.dumps(cases),
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    assert forks.returncode == 0, forks.stderr
    results = json.loads(forks.stdout)
    assert len(results) == len(CLI_CASES)
    for (name, _), result in zip(CLI_CASES.values(), results):
        output = result["output"]
        assert result["returncode"] != 0, output
        assert re.search(rf"SettingsError: {name}\b", output), output
        for secret in NEVER_SHOWN:
            assert secret not in output
