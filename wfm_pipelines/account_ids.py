"""What a Talkdesk account id may be: a leaf module, so the accounts file's reader (in the settings) and the WFM
tables (`db.schema`) check ids the same way without importing each other."""

from __future__ import annotations

import re

# The one account of a deployment without an accounts file, and the account of every row stored before accounts.
DEFAULT_ACCOUNT_ID = "default"
# What an account id may be; it prefixes asset keys and names the account's folder in the raw store.
ACCOUNT_ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")


def check_account_id(account_id: str) -> str:
    """The account id, or ValueError when it is not one (an empty or misspelt id must not write anywhere)."""
    if not isinstance(account_id, str) or not ACCOUNT_ID_PATTERN.fullmatch(account_id):
        raise ValueError(f"account id {account_id!r} does not match {ACCOUNT_ID_PATTERN.pattern}")
    return account_id
