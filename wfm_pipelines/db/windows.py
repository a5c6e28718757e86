"""The one condition that selects a time window (and a scope) of a table: writers replace it, queries read it.
Every scope includes the account: no write or read reaches past one account's rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa

from wfm_pipelines.db.schema import check_account_id
from wfm_pipelines.db.types import to_utc

# The column every table's rows name their account in, the first part of every key.
ACCOUNT = "account_id"


def account_scope(scope: Mapping[str, object] | None, account_id: str) -> dict[str, object]:
    """`scope` with `account_id` added; a scope naming another account is a mistake, not a choice between them."""
    account_id = check_account_id(account_id)
    scope = dict(scope or {})
    if scope.get(ACCOUNT, account_id) != account_id:
        raise ValueError(f"scope names account {scope[ACCOUNT]!r} but the write is for account {account_id!r}")
    return {ACCOUNT: account_id, **scope}


def window_condition(table: sa.Table, time_column: str, start: datetime, end: datetime,
                     scope: Mapping[str, object] | None = None) -> sa.ColumnElement[bool]:
    """`start <= time_column < end` and every `scope` column equal to its value."""
    column = table.c[time_column]
    condition = sa.and_(column >= to_utc(start, what="window_start"), column < to_utc(end, what="window_end"))
    for name, value in (scope or {}).items():
        condition = sa.and_(condition, table.c[name] == value)
    return condition
