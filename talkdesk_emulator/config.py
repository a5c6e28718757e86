"""Emulator configuration (fixed at start) and fault settings (switched at run time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Where the emulator listens by default, and its demo OAuth client. Not secrets: they only open the local
# emulator. The pipelines' defaults (wfm_pipelines/settings.py) name the same values; nothing imports across.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8089
DEMO_CLIENT_ID = "wfm-demo-client"
DEMO_CLIENT_SECRET = "wfm-demo-secret"

# Every scope an API route of the emulator checks; the demo client is granted all of them.
ALL_SCOPES: tuple[str, ...] = (
    "account:read",
    "users:read",
    "ring-groups:read",
    "user-ring-groups:read",
    "queues:read",
    "queues-users:read",
    "ccaas-user-status:read",
    "data-reports:read",
    "data-reports:write",
)


@dataclass
class EmulatorConfig:
    seed: int = 7
    queues: int = 8
    agents: int = 60
    contacts_per_day: int = 5000
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    token_ttl: int = 600
    data_delay_seconds: int = 120
    report_processing_seconds: float = 1.0
    max_contact_seconds: int = 4 * 3600
    # Extra OAuth clients: client_id -> (secret, granted scopes). The main client always gets ALL_SCOPES.
    clients: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    account_timezone: str = "UTC"
    # Queue names as the account spells them (any text: commas, quotes, "..", "%2F"); the first queues take
    # them, the rest keep generated names. `queues` grows to at least len(queue_names).
    queue_names: tuple[str, ...] = ()
    # How the account's CSV reports name their columns (the `csv_header` fault's value at start and on reset):
    # "snake_case", the JSON keys, or "display_names" (`Call Id`, `Start At`, ...). Talkdesk documents neither.
    csv_header: str = "snake_case"

    def __post_init__(self) -> None:
        self.queue_names = tuple(self.queue_names)
        if not all(isinstance(name, str) and name for name in self.queue_names):
            raise ValueError("queue names must be non-empty strings")
        if len(set(self.queue_names)) != len(self.queue_names):
            raise ValueError("queue names must be unique (a ring group's name is its identifier)")
        self.queues = max(self.queues, len(self.queue_names))
        if self.queues < 1 or self.agents < 1:
            raise ValueError("an emulated account needs at least one queue and one agent")
        if self.contacts_per_day < 0:
            raise ValueError("contacts_per_day must not be negative")
        if self.max_contact_seconds < 600:
            raise ValueError("max_contact_seconds must be at least 600")
        if self.csv_header not in CSV_HEADERS:
            raise ValueError(f"csv_header must be {_one_of(CSV_HEADERS)}")

    def all_clients(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        merged = dict(self.clients)
        merged[self.client_id] = (self.client_secret, ALL_SCOPES)
        return merged


TIMESTAMP_FORMATS = ("iso", "legacy", "offset")
# Report types of POST /data/reports/{type}/jobs (the enum of Talkdesk's OpenAPI document;
# talkdesk_emulator/README.md#report-types),
# plus the one only GET lists show.
REPORT_TYPES = (
    "studio_flow_execution", "ring_attempts", "contacts", "outbound_dialer_calls", "qm_evaluation_score",
    "inbound_contact_volume", "talk_time_data", "hold_time_data", "acw_time_data", "contact_online_time",
    "csat_score", "user_status", "calls", "explore_calls", "qm_interaction_details", "qm_evaluation_analysis",
    "feedback", "adherence", "messaging_contacts", "messaging_traffic", "wfm_dce_queues", "wfm_dce_history",
    "audit_logs", "timeseries_history_reports", "timeseries_report", "erc_omnichannel_report",
    "insurance_omnichannel_report", "banking_omnichannel_report", "wfm_team_schedule_report",
    "wfm_team_schedule_report_for_internal", "wfm_contact_history_report_v2", "wfm_dce_history_v3",
    "advanced_dialer_calls_report", "va_conversation_markers", "case_sla_events",
)
# How the download host can answer badly (fault `report_file_fault`; see report_faults.py).
REPORT_FILE_FAULTS = ("html", "xml", "empty_body", "no_entries", "bare_list", "total_mismatch", "empty_report",
                      "csv_no_header", "truncated")
WAIT_FIELDS = ("wait_time", "specific_only")
# How a CSV report names its columns: by the JSON keys, or by display names (render.display_name).
CSV_HEADERS = ("snake_case", "display_names")
# What polling a report job answers: while it runs (documented: 200 with the job; seen in a public client: 204,
# no body), and once it is done (documented: 303 to the file; seen: 302).
JOB_PENDING_STATUSES = (200, 204)
JOB_DONE_STATUSES = (303, 302)
DIRECTORY_LISTINGS = ("full", "empty", "few")


def default_faults(config: EmulatorConfig) -> dict[str, Any]:
    return {
        "rate_limit_every": 0,
        "rate_limit_retry_after": 1,
        "error_rate": 0.0,
        "error_status": 503,
        "report_processing_seconds": config.report_processing_seconds,
        "report_failure": False,
        "report_failure_starts": None,
        "token_expiry_seconds": None,
        "malformed_rate": 0.0,
        "report_window_field": "end",
        "timestamp_format": "iso",
        "calls_payload": "current",
        "job_body": "wrapped",
        "ccaas_enabled": True,
        "data_delay_seconds": config.data_delay_seconds,
        "report_file_fault": None,
        "report_file_fault_jobs": None,
        "report_file_fault_types": None,
        "wait_fields": "wait_time",
        "job_create_delay_seconds": 0,
        "poison_rate": 0.0,
        "directory_listing": "full",
        "poison_user_names": False,
        "csv_header": config.csv_header,
        "job_pending_status": 200,
        "job_done_status": 303,
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _iso_pair(value: Any) -> bool:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        return False
    try:
        first, second = (datetime.fromisoformat(v.replace("Z", "+00:00")) for v in value)
    except ValueError:
        return False
    return first.tzinfo is not None and second.tzinfo is not None and first < second


def failure_starts_match(value: list[str] | None, window_start: datetime) -> bool:
    """Whether a report job whose window begins at `window_start` falls in the `report_failure_starts` fault:
    jobs whose window BEGINS in [from, to) fail, so a test can fail some batches of a backfill and not others."""
    if not value:
        return False
    first, second = (datetime.fromisoformat(v.replace("Z", "+00:00")) for v in value)
    return first <= window_start < second


def _fraction(value: Any) -> bool:
    return _is_number(value) and 0.0 <= value <= 1.0


def _report_type_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v in REPORT_TYPES for v in value)


def _one_of(choices: tuple[str, ...]) -> str:
    return " or ".join(f'"{choice}"' for choice in choices)


# Validators per fault key: a predicate and the expected value described for the 400 message.
FAULT_VALIDATORS: dict[str, tuple[Any, str]] = {
    "rate_limit_every": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "rate_limit_retry_after": (lambda v: v is None or (_is_number(v) and v >= 0), "seconds >= 0 or null"),
    "error_rate": (_fraction, "a number in 0..1"),
    "error_status": (lambda v: _is_int(v) and 500 <= v <= 599, "an HTTP status 500..599"),
    "report_processing_seconds": (lambda v: _is_number(v) and v >= 0, "seconds >= 0"),
    "report_failure": (lambda v: isinstance(v, bool), "a boolean"),
    "report_failure_starts": (lambda v: v is None or _iso_pair(v), 'null or ["<ISO from>", "<ISO to>"]'),
    "token_expiry_seconds": (lambda v: v is None or (_is_number(v) and v >= 0), "seconds >= 0 or null"),
    "malformed_rate": (_fraction, "a number in 0..1"),
    "report_window_field": (lambda v: v in ("end", "start"), '"end" or "start"'),
    "timestamp_format": (lambda v: v in TIMESTAMP_FORMATS, '"iso", "legacy" or "offset"'),
    "calls_payload": (lambda v: v in ("current", "legacy"), '"current" or "legacy"'),
    "job_body": (lambda v: v in ("wrapped", "flat"), '"wrapped" or "flat"'),
    "ccaas_enabled": (lambda v: isinstance(v, bool), "a boolean"),
    "data_delay_seconds": (lambda v: _is_number(v) and v >= 0, "seconds >= 0"),
    "report_file_fault": (lambda v: v is None or v in REPORT_FILE_FAULTS, f"null or {_one_of(REPORT_FILE_FAULTS)}"),
    "report_file_fault_jobs": (lambda v: v is None or (_is_int(v) and v >= 1), "null or an integer >= 1"),
    "report_file_fault_types": (lambda v: v is None or _report_type_list(v),
                                "null or a non-empty list of report type names"),
    "wait_fields": (lambda v: v in WAIT_FIELDS, _one_of(WAIT_FIELDS)),
    "job_create_delay_seconds": (lambda v: _is_number(v) and v >= 0, "seconds >= 0"),
    "poison_rate": (_fraction, "a number in 0..1"),
    "directory_listing": (lambda v: v in DIRECTORY_LISTINGS, _one_of(DIRECTORY_LISTINGS)),
    "poison_user_names": (lambda v: isinstance(v, bool), "a boolean"),
    "csv_header": (lambda v: v in CSV_HEADERS, _one_of(CSV_HEADERS)),
    "job_pending_status": (lambda v: _is_int(v) and v in JOB_PENDING_STATUSES, "200 or 204"),
    "job_done_status": (lambda v: _is_int(v) and v in JOB_DONE_STATUSES, "303 or 302"),
}


def validate_fault_update(update: Any) -> list[str]:
    """Problems with a fault update, empty when it can be merged."""
    if not isinstance(update, dict):
        return ["the body must be a JSON object"]
    problems = []
    for key, value in update.items():
        if key not in FAULT_VALIDATORS:
            problems.append(f"unknown fault {key!r}; known: {', '.join(sorted(FAULT_VALIDATORS))}")
            continue
        check, expected = FAULT_VALIDATORS[key]
        if not check(value):
            problems.append(f"{key} must be {expected}, not {value!r}")
    return problems
