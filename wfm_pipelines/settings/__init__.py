"""Configuration from the environment: every variable checked and typed, with defaults that point at the local
Talkdesk emulator. docs/configuration.md lists the variables (written from `variables.py`).

Plain Python, no Dagster, no database layer: the Dagster resources read secrets through `dagster.EnvVar` themselves.
Every variable is checked when the settings load (so `dagster definitions validate` fails on a bad value): a bad one
raises `SettingsError`, whose message starts with the variable's name, says what is wrong and what is expected, and
never shows a secret (client secrets never, URL passwords hidden). An unset or empty (blank) variable takes its
default; surrounding spaces are ignored.

- `environment`: reading one variable, the default paths, `SettingsError`;
- `variables`: the registry of every variable (name, default, valid values, meaning, secret, example);
- `values` and `validators`: the readers of plain values and of addresses (URLs, database, raw store, broker);
- `accounts_file`: `WFM_ACCOUNTS_FILE`'s reader and the `Account` values;
- `model` (`Settings`) and `loading` (`load_settings`); `render_docs` writes the documentation.
"""

from wfm_pipelines.account_ids import DEFAULT_ACCOUNT_ID
from wfm_pipelines.settings.accounts_file import Account, AccountsFileError, TalkdeskClientConfig, load_accounts_file
from wfm_pipelines.settings.emulator import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    EMULATOR_HOST,
    EMULATOR_PORT,
    EMULATOR_URL,
)
from wfm_pipelines.settings.environment import (
    SettingsError,
    dagster_home,
    default_database_url,
    default_raw_store,
    load_dotenv_once,
)
from wfm_pipelines.settings.loading import API_URL_EXAMPLES, load_settings, raw_store_root
from wfm_pipelines.settings.model import Settings
from wfm_pipelines.settings.validators import check_talkdesk_url, is_loopback_host
from wfm_pipelines.settings.values import PARTITION_FORMAT
from wfm_pipelines.settings.variables import (
    DEFAULT_CELERY_BROKER_URL,
    DEFAULT_HISTORY_START,
    DEFAULT_SHRINK_GUARD,
    DEFAULT_SHRINK_GUARD_MIN_DROP,
    EXECUTORS,
    OFF_WORDS,
    ON_WORDS,
    REPORT_FORMATS,
)

__all__ = [
    "API_URL_EXAMPLES", "DEFAULT_ACCOUNT_ID", "DEFAULT_CELERY_BROKER_URL", "DEFAULT_HISTORY_START",
    "DEFAULT_SHRINK_GUARD", "DEFAULT_SHRINK_GUARD_MIN_DROP", "EMULATOR_CLIENT_ID", "EMULATOR_CLIENT_SECRET",
    "EMULATOR_HOST", "EMULATOR_PORT", "EMULATOR_URL", "EXECUTORS", "OFF_WORDS", "ON_WORDS", "PARTITION_FORMAT",
    "REPORT_FORMATS", "Account", "AccountsFileError", "Settings", "SettingsError", "TalkdeskClientConfig",
    "check_talkdesk_url", "dagster_home", "default_database_url", "default_raw_store", "is_loopback_host",
    "load_accounts_file", "load_dotenv_once", "load_settings", "raw_store_root",
]
