"""The Talkdesk accounts one deployment serves; the reader and the values live in `wfm_pipelines.settings.accounts_file`
(the Dagster wiring imports them from here)."""

from wfm_pipelines.account_ids import ACCOUNT_ID_PATTERN, DEFAULT_ACCOUNT_ID
from wfm_pipelines.settings.accounts_file import (
    CLIENT_KEYS,
    INTERVAL_RANGE,
    Account,
    AccountsFileError,
    TalkdeskClientConfig,
    load_accounts_file,
)
from wfm_pipelines.settings.variables import VOLUME_REPORTS

__all__ = ["ACCOUNT_ID_PATTERN", "CLIENT_KEYS", "DEFAULT_ACCOUNT_ID", "INTERVAL_RANGE", "VOLUME_REPORTS", "Account",
           "AccountsFileError", "TalkdeskClientConfig", "load_accounts_file"]
