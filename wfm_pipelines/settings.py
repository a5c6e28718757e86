"""Configuration from the environment (the variables of `../shared/design/CONTRACT.md` section 3 and of the
README's configuration table), with the embedded defaults.

Plain Python, no Dagster: the Dagster resources read secrets through `dagster.EnvVar` themselves;
this module gives every other setting a typed value and a default that points at the local emulator.

Every variable is checked when the settings load (so `dagster definitions validate` fails on a bad
value): a bad one raises `SettingsError`, whose message starts with the variable's name, says what is
wrong and what is expected, and never shows a secret (client secrets never, URL passwords hidden).
An unset or empty (blank) variable takes its default; surrounding spaces are ignored.

Variable: valid values (default).

- TALKDESK_BASE_URL, TALKDESK_API_URL, TALKDESK_REALTIME_BASE_URL, TALKDESK_REALTIME_API_URL:
  `https://host[:port][/path]`; `http://` only for a loopback host (localhost, 127.0.0.0/8, ::1); no
  `user:password@`, query or fragment; a trailing slash is dropped (the emulator; the historical values).
- TALKDESK_CLIENT_ID/_SECRET, TALKDESK_REALTIME_CLIENT_ID/_SECRET: anything, but a real client (not the
  emulator's demo values) needs its base URL set, and a real (non-loopback) base URL its API URL, so
  that neither credentials nor a token go to the emulator's address (the emulator's demo client).
- WFM_AGENT_STATE_INTERVAL_SECONDS: integer 5..3600 (30).
- WFM_SCHEDULE_LAG_MINUTES: integer 0..14 (5).
- WFM_MAX_CONTACT_MINUTES: integer 1..1440 (240).
- WFM_STEP_RETRIES: integer 0..10, 0 meaning no step retries (2).
- WFM_HEALING_LOOKBACK_DAYS: number > 0 and <= 366, fractions allowed (7).
- WFM_HEALING_MAX_ATTEMPTS: integer 1..100 (5).
- WFM_HEALING_INTERVAL_SECONDS: integer 10..86400 (120).
- WFM_BACKFILL_PARTITIONS_PER_RUN: integer >= 1 (672).
- WFM_REPORT_CHUNK_HOURS: integer 1..720 (720).
- WFM_REPORT_TARGET_ENTRIES: integer 100..5000000 (200000).
- WFM_DB_CONNECT_TIMEOUT_SECONDS: integer 1..600 (10).
- WFM_DB_STATEMENT_TIMEOUT_SECONDS: integer 1..86400 (900).
- WFM_AGENT_STATE_STALE_AFTER: integer 1..1000 (3).
- WFM_HISTORY_START: `YYYY-MM-DD-HH:MM` UTC, zero-padded, minutes 00/15/30/45, not in the future
  (2025-01-01-00:00).
- WFM_AUTOMATION (on), WFM_METADATA_PEOPLE_PREVIEW (off): on/true/yes/1/enabled or
  off/false/no/0/disabled, any case.
- WFM_VOLUME_REPORT: calls | contacts (calls). TALKDESK_REPORT_WINDOW_FIELD: auto | start | end (auto).
- WFM_REPORT_FORMAT: auto | csv | json (auto): auto asks for CSV and, where the account's CSV header names no
  documented field, for JSON from then on (remembered per account and report type).
- WFM_SHRINK_GUARD: an off word, `<share>` or `<share>:<min_drop>`, share in (0, 1], min_drop an integer
  >= 0, 20 when omitted (0.5:20).
- WFM_DATABASE_URL: a URL SQLAlchemy reads with a supported driver, `sqlite:///...` or
  `postgresql+psycopg://...` (bare `postgresql://` means psycopg) (SQLite under DAGSTER_HOME).
- WFM_ACCOUNTS_FILE: a YAML file of Talkdesk accounts (`accounts.py` checks it); unset: one account,
  `default`, from the TALKDESK_* variables.
- WFM_RAW_STORE: a local directory, as a path or a `file://` URL, that is a directory or can be created as
  one (`$DAGSTER_HOME/raw`, else `.dagster_home/raw`). Other URL schemes (`s3://`) are refused for now.
- WFM_EXECUTOR: in_process | multiprocess | celery (in_process); celery needs a PostgreSQL WFM_DATABASE_URL,
  since every worker writes to it.
- WFM_MAX_CONCURRENT_STEPS: integer 1..64 (8): steps of one run at a time under WFM_EXECUTOR=multiprocess.
- WFM_CELERY_BROKER_URL: `amqp://`, `amqps://` or `pyamqp://` with a host (amqp://guest:guest@127.0.0.1:5672//);
  messages show its scheme and host only.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dotenv import load_dotenv

from wfm_pipelines.accounts import (
    DEFAULT_ACCOUNT_ID,
    Account,
    AccountsFileError,
    TalkdeskClientConfig,
    load_accounts_file,
)

EMULATOR_HOST = "127.0.0.1"
EMULATOR_PORT = 8089
EMULATOR_URL = f"http://{EMULATOR_HOST}:{EMULATOR_PORT}"
# The emulator's demo OAuth client. Not a secret: it only opens the local emulator.
EMULATOR_CLIENT_ID = "wfm-demo-client"
EMULATOR_CLIENT_SECRET = "wfm-demo-secret"

PARTITION_FORMAT = "%Y-%m-%d-%H:%M"
DEFAULT_HISTORY_START = "2025-01-01-00:00"
DEFAULT_SHRINK_GUARD = "0.5:20"
DEFAULT_SHRINK_GUARD_MIN_DROP = 20
EXECUTORS = ("in_process", "multiprocess", "celery")
REPORT_FORMATS = ("auto", "csv", "json")
# RabbitMQ's out-of-the-box account, which answers on loopback only: not a secret.
DEFAULT_CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"

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

ON_WORDS = ("on", "true", "yes", "1", "enabled")
OFF_WORDS = ("off", "false", "no", "0", "disabled")
API_URL_EXAMPLES = "https://api.talkdeskapp.com, https://api.talkdeskapp.eu or https://api.talkdeskappca.com"
_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$")


class SettingsError(ValueError):
    """A configuration variable has a bad value; the message starts with the variable's name."""


def load_dotenv_once() -> None:
    """Read `.env` from the working directory; real environment variables win."""
    load_dotenv(Path.cwd() / ".env", override=False)


def dagster_home(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home")


def default_database_url(env: Mapping[str, str] = os.environ) -> str:
    return f"sqlite:///{dagster_home(env) / 'wfm.db'}"


def default_raw_store(env: Mapping[str, str] = os.environ) -> str:
    return str(dagster_home(env) / "raw")


def _env(env: Mapping[str, str], name: str, default: str) -> str:
    """The variable's value without surrounding spaces; unset or blank means the default."""
    value = (env.get(name) or "").strip()
    return value or default


def _is_set(env: Mapping[str, str], name: str) -> bool:
    return bool((env.get(name) or "").strip())


def _shown(value: str) -> str:
    """A non-secret value as messages quote it (cut short: a long value is a paste error, not a setting)."""
    return repr(value if len(value) <= 60 else value[:57] + "...")


# --- parsing helpers: one per kind of value -------------------------------------------------------


def _range_text(low: float, high: float | None, *, low_open: bool = False) -> str:
    def number(value: float) -> str:
        return str(value) if isinstance(value, int) else f"{value:g}"

    if high is None:
        return f"{'greater than' if low_open else 'at least'} {number(low)}"
    if low_open:
        return f"greater than {number(low)} and at most {number(high)}"
    return f"from {number(low)} to {number(high)}"


def _int_in_range(env: Mapping[str, str], name: str, default: int, low: int, high: int | None, meaning: str) -> int:
    """A whole number in [low, high] (high None: no upper bound)."""
    raw = _env(env, name, str(default))
    expected = f"expected a whole number {_range_text(low, high)} ({meaning})"
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={_shown(raw)} is not a whole number; {expected}") from None
    if value < low or (high is not None and value > high):
        raise SettingsError(f"{name}={value} is out of range; {expected}")
    return value


def _float_in_range(env: Mapping[str, str], name: str, default: float, low: float, high: float, meaning: str) -> float:
    """A finite number in (low, high]."""
    raw = _env(env, name, f"{default:g}")
    expected = f"expected a number {_range_text(low, high, low_open=True)} ({meaning})"
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={_shown(raw)} is not a number; {expected}") from None
    if not math.isfinite(value) or not low < value <= high:
        raise SettingsError(f"{name}={_shown(raw)} is out of range; {expected}")
    return value


def _on_off(env: Mapping[str, str], name: str, default: bool, meaning: str) -> bool:
    """on/off and their synonyms, case-insensitive."""
    raw = _env(env, name, "on" if default else "off")
    word = raw.lower()
    if word in ON_WORDS:
        return True
    if word in OFF_WORDS:
        return False
    raise SettingsError(f"{name}={_shown(raw)} is neither on nor off; expected one of "
                        f"{'/'.join(ON_WORDS)} or {'/'.join(OFF_WORDS)} ({meaning})")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...], meaning: str) -> str:
    """One of `choices`, case-insensitive; returned in the lower case the code uses."""
    raw = _env(env, name, default)
    if raw.lower() not in choices:
        raise SettingsError(f"{name}={_shown(raw)} is not a known value; expected one of "
                            f"{', '.join(choices)} ({meaning})")
    return raw.lower()


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: a host only this machine answers on."""
    host = host.lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _talkdesk_url(env: Mapping[str, str], name: str, default: str) -> str:
    return check_talkdesk_url(_env(env, name, default), name)


def check_talkdesk_url(raw: str, name: str) -> str:
    """A Talkdesk base or API URL: https (http only for a loopback host), a host, no credentials.

    `name` says where the value comes from (a variable, or a key of the accounts file). A URL with `@`
    (user:password@host), a query or a fragment is refused without being quoted.
    """
    expected = "expected https://host, e.g. https://acme.talkdeskid.com or https://api.talkdeskapp.com"
    if "@" in raw:
        raise SettingsError(f"{name} holds credentials ('user:password@' in the URL; value not shown): {expected}, "
                            "with no credentials in it; the OAuth client goes in the *_CLIENT_ID and "
                            "*_CLIENT_SECRET variables")
    if "?" in raw or "#" in raw:
        raise SettingsError(f"{name} has a query or fragment ('?...' or '#...'; value not shown): {expected}, "
                            "with no query or fragment")
    shown = _shown(raw)
    if "://" not in raw:
        raise SettingsError(f"{name}={shown} has no scheme; {expected}")
    scheme, host = _scheme_and_host(raw, f"{name}={shown} has an unreadable host or port; {expected}")
    if scheme not in ("https", "http"):
        raise SettingsError(f"{name}={shown} has scheme {scheme!r}; {expected}")
    if not host:
        raise SettingsError(f"{name}={shown} has no host; {expected}")
    if not (_HOSTNAME.match(host) or _is_ip(host)):
        raise SettingsError(f"{name}={shown} has an invalid host name {host!r}; {expected}")
    if scheme == "http" and not is_loopback_host(host):
        raise SettingsError(f"{name}={shown} uses http for {host}, which is not a loopback address: credentials "
                            f"and tokens would travel unencrypted; {expected} (http:// is accepted only for "
                            "localhost, 127.0.0.0/8 and ::1)")
    return raw.rstrip("/")


def _scheme_and_host(url: str, unreadable: str) -> tuple[str, str | None]:
    """The URL's scheme (lower case) and host; a bad host or port raises SettingsError(unreadable)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - read only so that a bad port is refused
    except ValueError:
        raise SettingsError(unreadable) from None
    return parts.scheme.lower(), parts.hostname


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _history_start(env: Mapping[str, str], name: str, default: str) -> str:
    """A 15-minute partition key `YYYY-MM-DD-HH:MM` (UTC) that is not in the future."""
    raw = _env(env, name, default)
    expected = "expected a UTC quarter hour YYYY-MM-DD-HH:MM (minutes 00, 15, 30 or 45), e.g. 2025-01-01-00:00"
    try:
        start = datetime.strptime(raw, PARTITION_FORMAT)
    except ValueError:
        raise SettingsError(f"{name}={_shown(raw)} is not a date and time; {expected}") from None
    if start.strftime(PARTITION_FORMAT) != raw:
        raise SettingsError(f"{name}={_shown(raw)} is not zero-padded (did you mean "
                            f"{start.strftime(PARTITION_FORMAT)!r}?); {expected}")
    if start.minute % 15:
        raise SettingsError(f"{name}={_shown(raw)} is not on a quarter hour; {expected}")
    if start.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc):
        raise SettingsError(f"{name}={_shown(raw)} is in the future; {expected}, at or before now")
    return raw


def _shrink_guard(env: Mapping[str, str], name: str, default: str) -> tuple[float | None, int]:
    """`off` | `<share>` | `<share>:<min_drop>` -> (share or None when off, min_drop)."""
    raw = _env(env, name, default)
    expected = ("expected off, a share like 0.5, or share:min_drop like 0.5:20 (share greater than 0 and at most 1, "
                "min_drop a whole number >= 0): a re-collection that would leave a window with fewer than share x "
                "the stored entries and at least min_drop fewer is refused")
    if raw.lower() in OFF_WORDS:
        return None, DEFAULT_SHRINK_GUARD_MIN_DROP
    share_text, separator, drop_text = raw.partition(":")
    try:
        share = float(share_text.strip())
    except ValueError:
        raise SettingsError(f"{name}={_shown(raw)} is neither off nor a share; {expected}") from None
    if not math.isfinite(share) or not 0 < share <= 1:
        raise SettingsError(f"{name}={_shown(raw)}: the share is out of range; {expected}")
    if not separator:
        return share, DEFAULT_SHRINK_GUARD_MIN_DROP
    try:
        min_drop = int(drop_text.strip())
    except ValueError:
        raise SettingsError(f"{name}={_shown(raw)}: min_drop is not a whole number; {expected}") from None
    if min_drop < 0:
        raise SettingsError(f"{name}={_shown(raw)}: min_drop is negative; {expected}")
    return share, min_drop


def _database_url(env: Mapping[str, str], name: str) -> str:
    """A WFM database URL whose driver is supported (`wfm_pipelines.db.engine.normalise_url`).

    The URL is returned as given (the engine normalises it); messages show it with the password and any
    query parameters hidden, or not at all when it cannot be parsed.
    """
    raw = _env(env, name, "")
    if not raw:
        return default_database_url(env)
    import sqlalchemy as sa  # here, not at import: the settings stay light for the CLI helpers

    from wfm_pipelines.db.engine import normalise_url, safe_url

    expected = "expected sqlite:///path/to/wfm.db or postgresql+psycopg://user:password@host:5432/dbname"
    try:
        parsed = sa.make_url(raw)
    except Exception:  # noqa: BLE001 - SQLAlchemy's message would quote the URL, password and all
        raise SettingsError(f"{name} is not a database URL SQLAlchemy can read (not shown: it may hold a "
                            f"password); {expected}") from None
    if parsed.host and "@" in parsed.host:
        raise SettingsError(f"{name} has an '@' after its credentials (not shown): percent-encode '@' in the "
                            f"password as %40; {expected}")
    shown = safe_url(parsed.set(query={})) + ("?..." if parsed.query else "")
    try:
        supported = normalise_url(parsed)
        supported.get_dialect()  # an unknown driver (e.g. sqlite+foo) fails here rather than at first use
    except Exception as exc:  # noqa: BLE001 - ValueError from normalise_url, NoSuchModuleError for a plugin
        reason = str(exc) if isinstance(exc, ValueError) else f"no SQLAlchemy driver {parsed.drivername!r}"
        raise SettingsError(f"{name}={shown} is not supported: {reason}; {expected}") from None
    return raw


def _raw_store(env: Mapping[str, str], name: str) -> str:
    """The raw store's root as an absolute local path: a path or a `file://` URL naming a directory that
    exists or can be created (nothing is created here)."""
    raw = _env(env, name, "")
    if not raw:
        return os.path.abspath(default_raw_store(env))
    expected = "expected a local directory, e.g. /var/lib/wfm/raw or file:///var/lib/wfm/raw"
    if "\x00" in raw:
        raise SettingsError(f"{name} holds a NUL character; {expected}")
    path = raw
    scheme, separator, _ = raw.partition("://")
    if separator:
        parts = urlsplit(raw)
        if scheme.lower() != "file":
            raise SettingsError(f"{name}={_shown(raw)} uses {scheme}://, which this version cannot store to; {expected}")
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise SettingsError(f"{name}={_shown(raw)} is not a local file URL; {expected}")
        path = unquote(parts.path)
    path = os.path.abspath(os.path.expanduser(path))
    existing = Path(path)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == Path(path) and not existing.is_dir():
        raise SettingsError(f"{name}={_shown(raw)} is a file, not a directory; {expected}")
    if not existing.is_dir():
        raise SettingsError(f"{name}={_shown(raw)} cannot be created: {str(existing)!r} is a file; {expected}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SettingsError(f"{name}={_shown(raw)} is not writable ({str(existing)!r} refuses this user); {expected}")
    return path


def _celery_broker_url(env: Mapping[str, str], name: str) -> str:
    """A RabbitMQ URL; messages show its scheme and host only, never the credentials or the rest."""
    raw = _env(env, name, DEFAULT_CELERY_BROKER_URL)
    expected = "expected amqp://user:password@host:5672/vhost (amqps:// for TLS), e.g. " + DEFAULT_CELERY_BROKER_URL
    scheme, separator, _ = raw.partition("://")
    if not separator:
        raise SettingsError(f"{name} has no scheme (value not shown: it may hold a password); {expected}")
    _, host = _scheme_and_host(raw, f"{name} has an unreadable host or port (value not shown); {expected}")
    if scheme.lower() not in ("amqp", "amqps", "pyamqp"):
        raise SettingsError(f"{name} uses {_shown(scheme[:20] + '://')}, which is not a RabbitMQ (AMQP) URL; {expected}")
    if not host:
        raise SettingsError(f"{name} ({scheme}://...) has no host; {expected}")
    return raw


def _check_executor_database(executor: str, database_url: str) -> None:
    """Celery workers on other hosts cannot share a SQLite file: each would fill a database of its own."""
    if executor == "celery" and database_url.lower().startswith("sqlite"):
        raise SettingsError(
            "WFM_DATABASE_URL is SQLite, but WFM_EXECUTOR=celery runs steps on Celery workers, each of which "
            "would write to a SQLite file of its own; set WFM_DATABASE_URL to the PostgreSQL database every "
            "worker reaches, e.g. postgresql+psycopg://user:password@host:5432/wfm")


def raw_store_root(environ: Mapping[str, str] | None = None) -> str:
    """WFM_RAW_STORE alone, checked as `load_settings` checks it: for code that needs only the raw store
    (the migration that moves raw entries into it)."""
    if environ is None:
        load_dotenv_once()
    return _raw_store(os.environ if environ is None else environ, "WFM_RAW_STORE")


def _check_real_credentials(env: Mapping[str, str]) -> None:
    """A real OAuth client must not be sent to the emulator's default address, nor its token."""
    def real(id_name: str, secret_name: str) -> str:
        """The variables among the two that hold a real client, as the message names them ('' when none)."""
        named = []
        if _env(env, id_name, EMULATOR_CLIENT_ID) != EMULATOR_CLIENT_ID:
            named.append(id_name)
        if _env(env, secret_name, EMULATOR_CLIENT_SECRET) != EMULATOR_CLIENT_SECRET:
            named.append(secret_name)
        return " and ".join(named) + (" hold" if len(named) > 1 else " holds") if named else ""

    def real_host(url_name: str) -> str | None:
        host = urlsplit(_env(env, url_name, EMULATOR_URL)).hostname or ""
        return None if is_loopback_host(host) else host

    historical = real("TALKDESK_CLIENT_ID", "TALKDESK_CLIENT_SECRET")
    if historical and not _is_set(env, "TALKDESK_BASE_URL"):
        raise SettingsError(
            f"TALKDESK_BASE_URL is not set, but {historical} a real OAuth client (not the emulator's "
            f"demo client): its credentials would be sent to the local emulator at {EMULATOR_URL}; set "
            "TALKDESK_BASE_URL to the account's identity host, e.g. https://acme.talkdeskid.com")
    host = real_host("TALKDESK_BASE_URL")
    if host and not _is_set(env, "TALKDESK_API_URL"):
        raise SettingsError(
            f"TALKDESK_API_URL is not set, but TALKDESK_BASE_URL points at {host}: the account's bearer token would "
            f"be sent to the local emulator at {EMULATOR_URL}; set TALKDESK_API_URL to the account's API gateway, "
            f"e.g. {API_URL_EXAMPLES}")
    realtime = real("TALKDESK_REALTIME_CLIENT_ID", "TALKDESK_REALTIME_CLIENT_SECRET")
    if realtime and not _is_set(env, "TALKDESK_REALTIME_BASE_URL") and not _is_set(env, "TALKDESK_BASE_URL"):
        raise SettingsError(
            f"TALKDESK_REALTIME_BASE_URL is not set (nor TALKDESK_BASE_URL), but {realtime} a real "
            f"OAuth client: its credentials would be sent to the local emulator at {EMULATOR_URL}; set "
            "TALKDESK_REALTIME_BASE_URL (or TALKDESK_BASE_URL) to the account's identity host, e.g. "
            "https://acme.talkdeskid.com")
    host = real_host("TALKDESK_REALTIME_BASE_URL")
    if host and not _is_set(env, "TALKDESK_REALTIME_API_URL") and not _is_set(env, "TALKDESK_API_URL"):
        raise SettingsError(
            f"TALKDESK_REALTIME_API_URL is not set (nor TALKDESK_API_URL), but TALKDESK_REALTIME_BASE_URL points at "
            f"{host}: the real-time bearer token would be sent to the local emulator at {EMULATOR_URL}; set "
            f"TALKDESK_REALTIME_API_URL (or TALKDESK_API_URL) to the account's API gateway, e.g. {API_URL_EXAMPLES}")


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
        return (Account(id=DEFAULT_ACCOUNT_ID, name="Default", enabled=True, historical=historical, realtime=realtime,
                        agent_state_interval_seconds=self.agent_state_interval_seconds,
                        volume_report=self.volume_report, prefixed=False),)

    @property
    def enabled_accounts(self) -> tuple[Account, ...]:
        return tuple(account for account in self.accounts if account.enabled)


def _first_set(env: Mapping[str, str], *names: str) -> str | None:
    return next((name for name in names if _is_set(env, name)), None)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; a bad value raises `SettingsError` naming its variable.

    `environ` defaults to the process environment with `.env` read into it; tests pass a mapping instead.
    """
    if environ is None:
        load_dotenv_once()
    env = os.environ if environ is None else environ
    base_url = _talkdesk_url(env, "TALKDESK_BASE_URL", EMULATOR_URL)
    api_url = _talkdesk_url(env, "TALKDESK_API_URL", EMULATOR_URL)
    realtime_base_url = _talkdesk_url(env, "TALKDESK_REALTIME_BASE_URL", base_url)
    realtime_api_url = _talkdesk_url(env, "TALKDESK_REALTIME_API_URL", api_url)
    _check_real_credentials(env)
    shrink_share, shrink_min_drop = _shrink_guard(env, "WFM_SHRINK_GUARD", DEFAULT_SHRINK_GUARD)
    agent_state_interval = _int_in_range(
        env, "WFM_AGENT_STATE_INTERVAL_SECONDS", 30, 5, 3600, "seconds between two collections of agent states")
    volume_report = _choice(env, "WFM_VOLUME_REPORT", "calls", ("calls", "contacts"),
                            "the Explore report the interval volume is built from")
    accounts_file = _env(env, "WFM_ACCOUNTS_FILE", "") or None
    file_accounts = None
    if accounts_file is not None:
        try:
            file_accounts = load_accounts_file(accounts_file, env, default_interval_seconds=agent_state_interval,
                                               default_volume_report=volume_report)
        except AccountsFileError as exc:
            raise SettingsError(str(exc)) from None
    database_url = _database_url(env, "WFM_DATABASE_URL")
    executor = _choice(env, "WFM_EXECUTOR", "in_process", EXECUTORS, "where the steps of a run execute")
    _check_executor_database(executor, database_url)
    return Settings(
        talkdesk_base_url=base_url,
        talkdesk_api_url=api_url,
        realtime_base_url=realtime_base_url,
        realtime_api_url=realtime_api_url,
        agent_state_interval_seconds=agent_state_interval,
        database_url=database_url,
        raw_store=_raw_store(env, "WFM_RAW_STORE"),
        history_start=_history_start(env, "WFM_HISTORY_START", DEFAULT_HISTORY_START),
        volume_report=volume_report,
        report_format=_choice(env, "WFM_REPORT_FORMAT", "auto", REPORT_FORMATS,
                              "the file format Explore reports are asked for"),
        schedule_lag_minutes=_int_in_range(
            env, "WFM_SCHEDULE_LAG_MINUTES", 5, 0, 14, "minutes after an interval closes that its tick runs"),
        report_window_field=_choice(env, "TALKDESK_REPORT_WINDOW_FIELD", "auto", ("auto", "start", "end"),
                                    "the record timestamp Explore reports filter a window on"),
        max_contact_minutes=_int_in_range(
            env, "WFM_MAX_CONTACT_MINUTES", 240, 1, 24 * 60, "the longest contact to expect, in minutes"),
        step_retries=_int_in_range(env, "WFM_STEP_RETRIES", 2, 0, 10, "step retries; 0 means none"),
        healing_lookback_days=_float_in_range(
            env, "WFM_HEALING_LOOKBACK_DAYS", 7, 0, 366, "days back self-healing looks for failed or missing intervals"),
        healing_max_attempts=_int_in_range(
            env, "WFM_HEALING_MAX_ATTEMPTS", 5, 1, 100, "self-healing attempts per interval"),
        healing_interval_seconds=_int_in_range(
            env, "WFM_HEALING_INTERVAL_SECONDS", 120, 10, 24 * 3600, "seconds between two self-healing looks"),
        automation_running=_on_off(env, "WFM_AUTOMATION", True, "whether schedules and sensors start running"),
        backfill_partitions_per_run=_int_in_range(
            env, "WFM_BACKFILL_PARTITIONS_PER_RUN", 7 * 96, 1, None, "15-minute partitions one backfill run covers"),
        report_chunk_hours=_int_in_range(
            env, "WFM_REPORT_CHUNK_HOURS", 30 * 24, 1, 30 * 24, "the longest span of one Explore report, in hours"),
        report_target_entries=_int_in_range(
            env, "WFM_REPORT_TARGET_ENTRIES", 200_000, 100, 5_000_000, "about how many entries one Explore report holds"),
        shrink_guard_share=shrink_share,
        shrink_guard_min_drop=shrink_min_drop,
        db_connect_timeout_s=_int_in_range(
            env, "WFM_DB_CONNECT_TIMEOUT_SECONDS", 10, 1, 600, "seconds to wait for a database connection"),
        db_statement_timeout_s=_int_in_range(
            env, "WFM_DB_STATEMENT_TIMEOUT_SECONDS", 900, 1, 24 * 3600, "seconds one database statement may run"),
        agent_state_stale_after=_int_in_range(
            env, "WFM_AGENT_STATE_STALE_AFTER", 3, 1, 1000,
            "collections an agent may be missing from before its current state is stale"),
        metadata_people_preview=_on_off(env, "WFM_METADATA_PEOPLE_PREVIEW", False,
                                        "whether run metadata previews people"),
        executor=executor,
        max_concurrent_steps=_int_in_range(
            env, "WFM_MAX_CONCURRENT_STEPS", 8, 1, 64, "steps of one run at a time under WFM_EXECUTOR=multiprocess"),
        celery_broker_url=_celery_broker_url(env, "WFM_CELERY_BROKER_URL"),
        **(_variables_of_secrets(env) if environ is None else {}),
        accounts_file=accounts_file,
        file_accounts=file_accounts,
    )


def _variables_of_secrets(env: Mapping[str, str]) -> dict[str, str | None]:
    """Which process variables hold the clients, the database URL and the broker URL (Dagster reads them as
    `EnvVar`s).
    Settings read from a given mapping name none: their resources get the emulator's demo client and the
    mapping's database URL as plain values."""
    return dict(
        client_id_var=_first_set(env, "TALKDESK_CLIENT_ID"),
        client_secret_var=_first_set(env, "TALKDESK_CLIENT_SECRET"),
        realtime_client_id_var=_first_set(env, "TALKDESK_REALTIME_CLIENT_ID", "TALKDESK_CLIENT_ID"),
        realtime_client_secret_var=_first_set(env, "TALKDESK_REALTIME_CLIENT_SECRET", "TALKDESK_CLIENT_SECRET"),
        database_url_var=_first_set(env, "WFM_DATABASE_URL"),
        celery_broker_url_var=_first_set(env, "WFM_CELERY_BROKER_URL"),
    )
