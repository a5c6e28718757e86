"""Configuration from the environment (CONTRACT section 3), with the embedded defaults.

Plain Python, no Dagster: the Dagster resources read secrets through `dagster.EnvVar` themselves;
this module gives every other setting a typed value and a default that points at the local emulator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dotenv import load_dotenv

EMULATOR_HOST = "127.0.0.1"
EMULATOR_PORT = 8089
EMULATOR_URL = f"http://{EMULATOR_HOST}:{EMULATOR_PORT}"
# The emulator's demo OAuth client. Not a secret: it only opens the local emulator.
EMULATOR_CLIENT_ID = "wfm-demo-client"
EMULATOR_CLIENT_SECRET = "wfm-demo-secret"

PARTITION_FORMAT = "%Y-%m-%d-%H:%M"
DEFAULT_HISTORY_START = "2025-01-01-00:00"

# Scopes this project asks for (README "Talkdesk OAuth client").
HISTORICAL_SCOPES = (
    "users:read",
    "ring-groups:read",
    "user-ring-groups:read",
    "queues:read",
    "queues-users:read",
    "data-reports:read",
    "data-reports:write",
)
REALTIME_SCOPES = ("users:read", "ccaas-user-status:read", "data-reports:read", "data-reports:write")


def load_dotenv_once() -> None:
    """Read `.env` from the working directory; real environment variables win."""
    load_dotenv(Path.cwd() / ".env", override=False)


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home")


def default_database_url() -> str:
    return f"sqlite:///{dagster_home() / 'wfm.db'}"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    value = int(_env(name, str(default)))
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    talkdesk_base_url: str
    talkdesk_api_url: str
    realtime_base_url: str
    realtime_api_url: str
    agent_state_interval_seconds: int
    database_url: str
    history_start: str
    volume_report: str
    schedule_lag_minutes: int
    report_window_field: str
    max_contact_minutes: int
    step_retries: int
    healing_lookback_days: float
    healing_max_attempts: int
    healing_interval_seconds: int
    automation_running: bool
    backfill_partitions_per_run: int
    report_chunk_hours: int
    report_target_entries: int

    @property
    def history_start_datetime(self) -> datetime:
        return datetime.strptime(self.history_start, PARTITION_FORMAT).replace(tzinfo=timezone.utc)


def load_settings() -> Settings:
    load_dotenv_once()
    base_url = _env("TALKDESK_BASE_URL", EMULATOR_URL).rstrip("/")
    api_url = _env("TALKDESK_API_URL", EMULATOR_URL).rstrip("/")
    history_start = _env("WFM_HISTORY_START", DEFAULT_HISTORY_START)
    try:
        datetime.strptime(history_start, PARTITION_FORMAT)
    except ValueError as exc:
        raise ValueError(
            f"WFM_HISTORY_START={history_start!r} is not a 15-minute partition key like 2025-01-01-00:00"
        ) from exc
    volume_report = _env("WFM_VOLUME_REPORT", "calls")
    if volume_report not in ("calls", "contacts"):
        raise ValueError(f"WFM_VOLUME_REPORT must be 'calls' or 'contacts', not {volume_report!r}")
    interval = int(_env("WFM_AGENT_STATE_INTERVAL_SECONDS", "30"))
    if interval < 5:
        raise ValueError("WFM_AGENT_STATE_INTERVAL_SECONDS must be at least 5")
    lag = int(_env("WFM_SCHEDULE_LAG_MINUTES", "5"))
    if not 0 <= lag < 15:
        raise ValueError("WFM_SCHEDULE_LAG_MINUTES must be between 0 and 14")
    window_field = _env("TALKDESK_REPORT_WINDOW_FIELD", "auto")
    if window_field not in ("auto", "start", "end"):
        raise ValueError("TALKDESK_REPORT_WINDOW_FIELD must be 'auto', 'start' or 'end'")
    return Settings(
        talkdesk_base_url=base_url,
        talkdesk_api_url=api_url,
        realtime_base_url=_env("TALKDESK_REALTIME_BASE_URL", base_url).rstrip("/"),
        realtime_api_url=_env("TALKDESK_REALTIME_API_URL", api_url).rstrip("/"),
        agent_state_interval_seconds=interval,
        database_url=_env("WFM_DATABASE_URL", default_database_url()),
        history_start=history_start,
        volume_report=volume_report,
        schedule_lag_minutes=lag,
        report_window_field=window_field,
        max_contact_minutes=int(_env("WFM_MAX_CONTACT_MINUTES", "240")),
        step_retries=int(_env("WFM_STEP_RETRIES", "2")),
        healing_lookback_days=float(_env("WFM_HEALING_LOOKBACK_DAYS", "7")),
        healing_max_attempts=int(_env("WFM_HEALING_MAX_ATTEMPTS", "5")),
        healing_interval_seconds=int(_env("WFM_HEALING_INTERVAL_SECONDS", "120")),
        automation_running=_env("WFM_AUTOMATION", "on").lower() not in ("off", "false", "0"),
        backfill_partitions_per_run=int(_env("WFM_BACKFILL_PARTITIONS_PER_RUN", str(7 * 96))),
        report_chunk_hours=_bounded_int("WFM_REPORT_CHUNK_HOURS", 30 * 24, 1, 30 * 24),
        report_target_entries=_bounded_int("WFM_REPORT_TARGET_ENTRIES", 50_000, 100, 5_000_000),
    )
