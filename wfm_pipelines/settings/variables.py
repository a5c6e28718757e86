"""Every configuration variable, once: its name, default, valid values, meaning, whether it is a secret and the value
`deploy/wfm.env.example` gives it. The loaders read the defaults and ranges from here, and `render_docs` writes
docs/configuration.md and deploy/wfm.env.example from it (a test fails when either is stale)."""

from __future__ import annotations

from dataclasses import dataclass

from wfm_pipelines.settings.emulator import EMULATOR_CLIENT_ID, EMULATOR_URL

ON_WORDS = ("on", "true", "yes", "1", "enabled")
OFF_WORDS = ("off", "false", "no", "0", "disabled")
DEFAULT_HISTORY_START = "2025-01-01-00:00"
DEFAULT_SHRINK_GUARD = "0.5:20"
DEFAULT_SHRINK_GUARD_MIN_DROP = 20
EXECUTORS = ("in_process", "multiprocess", "celery")
REPORT_FORMATS = ("auto", "csv", "json")
VOLUME_REPORTS = ("calls", "contacts")
REPORT_WINDOW_FIELDS = ("auto", "start", "end")
# RabbitMQ's out-of-the-box account, which answers on loopback only: not a secret.
DEFAULT_CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"

TALKDESK = "Talkdesk"
COLLECTION = "Collection"
STORAGE = "Storage"
EXECUTION = "Execution"
DEPLOYMENT = "Secrets of the deployment files"
SECTIONS = {
    TALKDESK: "The account (or accounts) collected from, and their OAuth clients.",
    COLLECTION: "What is collected, how often and how far back, and how runs recover.",
    STORAGE: "The WFM database and the raw store.",
    EXECUTION: "Where the steps of a run execute.",
    DEPLOYMENT: "Read by the containers of `deploy/docker-compose.yaml` and the Dagster instance "
                "(`deploy/dagster.postgres.yaml`), not by the settings.",
}

URL_VALUES = ("`https://host[:port][/path]`; `http://` only for a loopback host (localhost, 127.0.0.0/8, ::1); no "
              "`user:password@`, query or fragment; a trailing slash is dropped")
CLIENT_VALUES = ("any text; a real client (not the emulator's demo client) needs its base URL set, and a real "
                 "base URL its API URL, so that neither credentials nor a token go to the emulator")


@dataclass(frozen=True, kw_only=True)
class Variable:
    name: str
    section: str
    description: str
    valid: str = ""
    # The value an unset or blank variable takes; "" when it is computed (then `default_text` says how).
    default: str = ""
    default_text: str = ""
    # Never quoted in a message; Dagster reads it through `dagster.EnvVar`.
    secret: bool = False
    # The value deploy/wfm.env.example sets; None: the example leaves the variable out.
    example: str | None = None

    @property
    def documented_default(self) -> str:
        return self.default_text or f"`{self.default}`"

    @property
    def documented_values(self) -> str:
        return self.valid


@dataclass(frozen=True, kw_only=True)
class Number(Variable):
    """A number in [low, high] (high None: no upper bound); not whole: in (low, high], fractions allowed."""

    low: float
    high: float | None
    meaning: str  # how a message names it: "expected a whole number from 0 to 10 (<meaning>)"
    whole: bool = True

    @property
    def documented_values(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} {range_text(self.low, self.high, low_open=not self.whole)}"


@dataclass(frozen=True, kw_only=True)
class Choice(Variable):
    """One of `choices`, any case."""

    choices: tuple[str, ...]
    meaning: str

    @property
    def documented_values(self) -> str:
        return " \\| ".join(f"`{choice}`" for choice in self.choices)


@dataclass(frozen=True, kw_only=True)
class Switch(Variable):
    """On or off, by any of their words, any case."""

    meaning: str

    @property
    def documented_values(self) -> str:
        return f"{'/'.join(ON_WORDS)} or {'/'.join(OFF_WORDS)}, any case"


def range_text(low: float, high: float | None, *, low_open: bool = False) -> str:
    def number(value: float) -> str:
        return str(value) if isinstance(value, int) else f"{value:g}"

    if high is None:
        return f"{'greater than' if low_open else 'at least'} {number(low)}"
    if low_open:
        return f"greater than {number(low)} and at most {number(high)}"
    return f"from {number(low)} to {number(high)}"


VARIABLES: tuple[Variable, ...] = (
    # --- Talkdesk -------------------------------------------------------------------------------------------
    Variable(name="TALKDESK_BASE_URL", section=TALKDESK, valid=URL_VALUES, default=EMULATOR_URL,
             default_text=f"the local emulator, `{EMULATOR_URL}`", example="https://acme.talkdeskid.com",
             description="the account's identity host; tokens come from `{TALKDESK_BASE_URL}/oauth/token` "
                         "(e.g. `https://acme.talkdeskid.com`)"),
    Variable(name="TALKDESK_API_URL", section=TALKDESK, valid="as `TALKDESK_BASE_URL`", default=EMULATOR_URL,
             default_text="the local emulator", example="https://api.talkdeskapp.com",
             description="the account's API gateway (`https://api.talkdeskapp.com`, `https://api.talkdeskapp.eu`, "
                         "`https://api.talkdeskappca.com`)"),
    Variable(name="TALKDESK_CLIENT_ID", section=TALKDESK, valid=CLIENT_VALUES, default=EMULATOR_CLIENT_ID,
             default_text="the emulator's demo client", example="change-me",
             description="the OAuth client id of the historical integration"),
    Variable(name="TALKDESK_CLIENT_SECRET", section=TALKDESK, valid="as `TALKDESK_CLIENT_ID`", secret=True,
             default_text="the emulator's demo client", example="change-me",
             description="the OAuth client secret of the historical integration"),
    Variable(name="TALKDESK_REALTIME_BASE_URL", section=TALKDESK, valid="as `TALKDESK_BASE_URL`",
             default_text="`TALKDESK_BASE_URL`",
             description="the identity host of the real-time (adherence) integration's own OAuth client"),
    Variable(name="TALKDESK_REALTIME_API_URL", section=TALKDESK, valid="as `TALKDESK_BASE_URL`",
             default_text="`TALKDESK_API_URL`",
             description="the API gateway of the real-time integration"),
    Variable(name="TALKDESK_REALTIME_CLIENT_ID", section=TALKDESK, valid="as `TALKDESK_CLIENT_ID`",
             default_text="`TALKDESK_CLIENT_ID`", description="the OAuth client id of the real-time integration"),
    Variable(name="TALKDESK_REALTIME_CLIENT_SECRET", section=TALKDESK, valid="as `TALKDESK_CLIENT_ID`", secret=True,
             default_text="`TALKDESK_CLIENT_SECRET`",
             description="the OAuth client secret of the real-time integration"),
    Variable(name="WFM_ACCOUNTS_FILE", section=TALKDESK,
             valid="a YAML file of accounts (ids, names, OAuth clients with the variable holding each secret, "
                   "intervals, volume reports); every secret variable it names must be set",
             default_text="unset: one account, `default`, from the `TALKDESK_*` variables, with unprefixed asset keys",
             description="the Talkdesk accounts one deployment serves, each with its own OAuth clients"),
    Choice(name="TALKDESK_REPORT_WINDOW_FIELD", section=TALKDESK, default="auto", choices=REPORT_WINDOW_FIELDS,
           meaning="the record timestamp Explore reports filter a window on",
           description="which record timestamp your account's Explore reports filter a window on"),
    # --- Collection -----------------------------------------------------------------------------------------
    Number(name="WFM_AGENT_STATE_INTERVAL_SECONDS", section=COLLECTION, default="30", low=5, high=3600,
           meaning="seconds between two collections of agent states",
           description="Transaction Collection Interval: how often current agent states are collected"),
    Variable(name="WFM_HISTORY_START", section=COLLECTION, default=DEFAULT_HISTORY_START, example=DEFAULT_HISTORY_START,
             valid="`YYYY-MM-DD-HH:MM` UTC, zero-padded, minutes 00/15/30/45, not in the future",
             description="the first 15-minute partition"),
    Choice(name="WFM_VOLUME_REPORT", section=COLLECTION, default="calls", choices=VOLUME_REPORTS,
           meaning="the Explore report the interval volume is built from",
           description="the Explore report the interval volume is built from"),
    Choice(name="WFM_REPORT_FORMAT", section=COLLECTION, default="auto", choices=REPORT_FORMATS,
           meaning="the file format Explore reports are asked for",
           description="the file format Explore reports are asked for. `auto`: CSV, its header read whether it names "
                       "the fields by their JSON keys (`call_id`) or by display names (`Call Id`); where an account's "
                       "CSV header names no documented field, the same window is asked for as JSON, and JSON is "
                       "remembered for that account and report type. `csv` or `json` ask for that format alone "
                       "(`csv` then fails on such a header, saying so)"),
    Number(name="WFM_SCHEDULE_LAG_MINUTES", section=COLLECTION, default="5", low=0, high=14,
           meaning="minutes after an interval closes that its tick runs",
           description="how long after an interval closes its 15-minute tick runs (Explore data lags real time by "
                       "1-5 minutes)"),
    Number(name="WFM_MAX_CONTACT_MINUTES", section=COLLECTION, default="240", low=1, high=24 * 60,
           meaning="the longest contact to expect, in minutes",
           description="the longest contact to expect; a run fetches contact reports this far past its range so "
                       "contacts that started in it and ended later are complete"),
    Number(name="WFM_BACKFILL_PARTITIONS_PER_RUN", section=COLLECTION, default=str(7 * 96), low=1, high=None,
           default_text="`672` (a week)", meaning="15-minute partitions one backfill run covers",
           description="how many 15-minute partitions one backfill run covers"),
    Number(name="WFM_REPORT_TARGET_ENTRIES", section=COLLECTION, default="200000", low=100, high=5_000_000,
           meaning="about how many entries one Explore report holds",
           description="about how many entries one Explore report should hold: a run sizes each report (and each "
                       "raw file) from the entry rate it has seen, for twice that rate; larger means fewer report "
                       "jobs and more memory (about 1.5 KB an entry of the largest report while it is parsed)"),
    Number(name="WFM_REPORT_CHUNK_HOURS", section=COLLECTION, default=str(30 * 24), low=1, high=30 * 24,
           default_text="`720` (30 days; Talkdesk allows 31)",
           meaning="the longest span of one Explore report, in hours",
           description="the longest span one report may cover"),
    Number(name="WFM_STEP_RETRIES", section=COLLECTION, default="2", low=0, high=10,
           meaning="step retries; 0 means none",
           description="step retries (exponential backoff from 30 s) after the client's own HTTP retries gave up; "
                       "0 means none"),
    Number(name="WFM_HEALING_LOOKBACK_DAYS", section=COLLECTION, default="7", low=0, high=366, whole=False,
           meaning="days back self-healing looks for failed or missing intervals",
           description="self-healing: how far back to look for failed or missing intervals, in days"),
    Number(name="WFM_HEALING_MAX_ATTEMPTS", section=COLLECTION, default="5", low=1, high=100,
           meaning="self-healing attempts per interval", description="self-healing: how many attempts per interval"),
    Number(name="WFM_HEALING_INTERVAL_SECONDS", section=COLLECTION, default="120", low=10, high=24 * 3600,
           meaning="seconds between two self-healing looks", description="self-healing: how often to look, in seconds"),
    Switch(name="WFM_AUTOMATION", section=COLLECTION, default="on",
           meaning="whether schedules and sensors start running",
           description="`on`: schedules and sensors start running as soon as the code location loads; `off`: they "
                       "start stopped"),
    Variable(name="WFM_SHRINK_GUARD", section=COLLECTION, default=DEFAULT_SHRINK_GUARD,
             valid="an off word, `<share>` or `<share>:<min_drop>`: share greater than 0 and at most 1, min_drop a "
                   f"whole number >= 0, {DEFAULT_SHRINK_GUARD_MIN_DROP} when omitted",
             description="a re-collection that would leave a window with fewer than `share` of the stored entries and "
                         "at least `min_drop` fewer (or none where 5 or more are stored) is refused"),
    Number(name="WFM_AGENT_STATE_STALE_AFTER", section=COLLECTION, default="3", low=1, high=1000,
           meaning="collections an agent may be missing from before its current state is stale",
           description="how many agent-state collections in a row may miss an agent before its current state is "
                       "marked stale and leaves `community_realtime`"),
    Switch(name="WFM_METADATA_PEOPLE_PREVIEW", section=COLLECTION, default="off",
           meaning="whether run metadata previews people",
           description="`on` shows a preview of the imported agents (names, e-mails) in the run's metadata; by "
                       "default only counts"),
    # --- Storage --------------------------------------------------------------------------------------------
    Variable(name="DAGSTER_HOME", section=STORAGE, valid="a directory",
             default_text="`.dagster_home` in the working directory",
             description="the Dagster instance's directory; the default WFM database and raw store live under it"),
    Variable(name="WFM_DATABASE_URL", section=STORAGE, secret=True,
             example="postgresql+psycopg://wfm:change-me@postgres:5432/wfm",
             valid="`sqlite:///path/to/wfm.db` or `postgresql+psycopg://user:password@host:5432/dbname` (bare "
                   "`postgresql://` means psycopg 3); messages hide its password and query",
             default_text="`sqlite:///$DAGSTER_HOME/wfm.db`", description="the SQLAlchemy URL of the WFM database"),
    Variable(name="WFM_RAW_STORE", section=STORAGE,
             valid="a local directory, as a path or a `file://` URL, that is a directory or can be created as one; "
                   "other URL schemes (`s3://`) are refused for now",
             default_text="`$DAGSTER_HOME/raw`",
             description="where the Talkdesk report entries are kept as compressed Parquet files, catalogued in "
                         "`talkdesk_raw_file`"),
    Number(name="WFM_MIN_FREE_DISK_MB", section=STORAGE, default="1024", low=0, high=None,
           meaning="MiB a collection leaves free on the raw store's volume",
           description="the free space, in MiB, a collection leaves on the raw store's volume: with less, it fails "
                       "before it replaces anything, saying how much is free and where, and healing collects the "
                       "interval again once there is room (the healing sensor waits meanwhile); `0` switches the "
                       "check off. The default keeps a gigabyte for the database and the Dagster instance that "
                       "often share the volume"),
    Number(name="WFM_DB_CONNECT_TIMEOUT_SECONDS", section=STORAGE, default="10", low=1, high=600,
           meaning="seconds to wait for a database connection",
           description="how long to wait for a WFM database connection"),
    Number(name="WFM_DB_STATEMENT_TIMEOUT_SECONDS", section=STORAGE, default="900", low=1, high=24 * 3600,
           meaning="seconds one database statement may run",
           description="how long one statement may run (PostgreSQL `statement_timeout`, which also bounds waiting "
                       "for another writer)"),
    # --- Execution ------------------------------------------------------------------------------------------
    Choice(name="WFM_EXECUTOR", section=EXECUTION, default="in_process", choices=EXECUTORS,
           meaning="where the steps of a run execute",
           description="where a run's steps execute: `in_process` (in the run's own process), `multiprocess` (a "
                       "process per step, up to `WFM_MAX_CONCURRENT_STEPS` at once) or `celery` (on Celery workers "
                       "through RabbitMQ; needs a PostgreSQL `WFM_DATABASE_URL`, since every worker writes to it)"),
    Number(name="WFM_MAX_CONCURRENT_STEPS", section=EXECUTION, default="8", low=1, high=64,
           meaning="steps of one run at a time under WFM_EXECUTOR=multiprocess",
           description="with `WFM_EXECUTOR=multiprocess`, how many steps of one run execute at once"),
    Variable(name="WFM_CELERY_BROKER_URL", section=EXECUTION, default=DEFAULT_CELERY_BROKER_URL, secret=True,
             example="amqp://wfm:change-me@rabbitmq:5672//",
             valid="`amqp://`, `amqps://` (TLS) or `pyamqp://` with a host; messages show its scheme and host only",
             description="the RabbitMQ the `celery` executor and its workers share"),
    # --- Deployment files -----------------------------------------------------------------------------------
    Variable(name="POSTGRES_PASSWORD", section=DEPLOYMENT, secret=True, example="change-me", default_text="none",
             description="the password of the compose file's `postgres` server"),
    Variable(name="DAGSTER_PG_PASSWORD", section=DEPLOYMENT, secret=True, example="change-me", default_text="none",
             description="the Dagster instance's PostgreSQL password (the same one)"),
    Variable(name="RABBITMQ_DEFAULT_PASS", section=DEPLOYMENT, secret=True, example="change-me", default_text="none",
             description="the password of the compose file's `rabbitmq` broker"),
)

BY_NAME: dict[str, Variable] = {variable.name: variable for variable in VARIABLES}
