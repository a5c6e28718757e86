"""`Settings`: every setting's checked, typed value (variables.py says what each variable means)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from wfm_pipelines.account_ids import DEFAULT_ACCOUNT_ID
from wfm_pipelines.settings.accounts_file import Account, TalkdeskClientConfig
from wfm_pipelines.settings.emulator import EMULATOR_CLIENT_ID
from wfm_pipelines.settings.values import PARTITION_FORMAT
from wfm_pipelines.settings.variables import DEFAULT_CELERY_BROKER_URL


@dataclass(frozen=True)
class Settings:
    talkdesk_base_url: str
    talkdesk_api_url: str
    realtime_base_url: str
    realtime_api_url: str
    agent_state_interval_seconds: int
    database_url: str
    # The raw store's root: an absolute local directory holding the kept report entries as Parquet files.
    raw_store: str
    history_start: str
    volume_report: str
    report_format: str
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
    # A re-collection that would leave a window with fewer than share x the stored entries and at least
    # min_drop fewer is refused; share None: the guard is off.
    shrink_guard_share: float | None
    shrink_guard_min_drop: int
    min_free_disk_mb: int
    db_connect_timeout_s: int
    db_statement_timeout_s: int
    # How many agent-state collections an agent may be missing from before its current state is stale.
    agent_state_stale_after: int
    metadata_people_preview: bool
    # The variables that hold the OAuth clients (None: the emulator's demo client) and the database URL
    # (None: the default SQLite file). Secrets reach Dagster as `EnvVar`s of these names, never as values.
    client_id_var: str | None = None
    client_secret_var: str | None = None
    realtime_client_id_var: str | None = None
    realtime_client_secret_var: str | None = None
    database_url_var: str | None = None
    # WFM_ACCOUNTS_FILE and the accounts read from it; None: one account, `default`, from the TALKDESK_* variables.
    accounts_file: str | None = None
    file_accounts: tuple[Account, ...] | None = None
    # Where steps run (WFM_EXECUTOR) and the RabbitMQ of the Celery workers; the URL may hold a password,
    # so it reaches Dagster as an EnvVar of celery_broker_url_var when the process environment sets it.
    executor: str = "in_process"
    # How many steps of one run the multiprocess executor runs at once (WFM_MAX_CONCURRENT_STEPS).
    max_concurrent_steps: int = 8
    celery_broker_url: str = DEFAULT_CELERY_BROKER_URL
    celery_broker_url_var: str | None = None

    @property
    def history_start_datetime(self) -> datetime:
        return datetime.strptime(self.history_start, PARTITION_FORMAT).replace(tzinfo=timezone.utc)

    @property
    def accounts(self) -> tuple[Account, ...]:
        """Every account the deployment serves, enabled or not."""
        if self.file_accounts is not None:
            return self.file_accounts
        historical = TalkdeskClientConfig(
            base_url=self.talkdesk_base_url, api_url=self.talkdesk_api_url,
            client_id=None if self.client_id_var else EMULATOR_CLIENT_ID, client_id_var=self.client_id_var,
            client_secret_var=self.client_secret_var)
        realtime = TalkdeskClientConfig(
            base_url=self.realtime_base_url, api_url=self.realtime_api_url,
            client_id=None if self.realtime_client_id_var else EMULATOR_CLIENT_ID,
            client_id_var=self.realtime_client_id_var, client_secret_var=self.realtime_client_secret_var)
        return (Account(id=DEFAULT_ACCOUNT_ID, key_prefix="", name="Default", enabled=True, historical=historical,
                        realtime=realtime, agent_state_interval_seconds=self.agent_state_interval_seconds,
                        volume_report=self.volume_report),)

    @property
    def enabled_accounts(self) -> tuple[Account, ...]:
        return tuple(account for account in self.accounts if account.enabled)
