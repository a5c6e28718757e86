"""Replace one account's rows of a time window (and scope) of a WFM table with a frame, and the lock that makes
writers of one table, account and scope take turns.

The writer validates the whole frame first (`validation.py`), then changes the database in one transaction: a
failure at any point leaves the rows that were there before. A frame need not carry `account_id`: the writer
fills it in (and refuses a frame whose rows name another account). Writers of different accounts never wait for
each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from wfm_pipelines.db.bulk import bulk_insert
from wfm_pipelines.db.engine import write_connection
from wfm_pipelines.db.schema import table_named
from wfm_pipelines.db.validation import check_time_window, check_unique_keys, prepare_frame
from wfm_pipelines.db.windows import ACCOUNT, account_scope, window_condition


@dataclass(frozen=True)
class WriteResult:
    deleted: int
    inserted: int


# Called inside the write transaction, after the writers' lock and before anything is deleted:
# (connection, table, the window's WHERE condition, the prepared new rows). Raises to refuse the write.
WindowGuard = Callable[[Connection, sa.Table, sa.ColumnElement[bool], pd.DataFrame], None]


def replace_window(
    engine: Engine,
    table: sa.Table | str,
    frame: pd.DataFrame,
    *,
    window_start: datetime,
    window_end: datetime,
    time_column: str,
    account_id: str,
    scope: Mapping[str, object] | None = None,
    guard: WindowGuard | None = None,
    _after_delete: Callable[[Connection], None] | None = None,
) -> WriteResult:
    """Make the account's rows of `table` in [window_start, window_end) (and `scope`) exactly `frame`.

    Writers of one table, account and scope take turns (`lock_writers`), so two runs over overlapping windows
    never fail on a duplicate key and the last to finish leaves a complete set; other accounts' writers do not
    wait. `guard` may refuse the write after seeing what the account has stored (e.g. a shrink guard); nothing
    changes then. `_after_delete` is a test hook called between the delete and the insert.
    """
    table = table_named(table)
    scope = account_scope(scope, account_id)
    prepared = prepare_frame(table, frame, fixed_values=scope)
    check_time_window(table, prepared, time_column, window_start, window_end)
    key = [c.name for c in table.primary_key.columns if c.name != ACCOUNT]  # every row has the scope's account
    if all(name in prepared.columns for name in key):
        check_unique_keys(table, prepared, key)
    condition = window_condition(table, time_column, window_start, window_end, scope)
    with write_connection(engine) as connection, connection.begin():
        lock_writers(connection, table, scope)
        if guard is not None:
            guard(connection, table, condition, prepared)
        deleted = connection.execute(table.delete().where(condition)).rowcount
        if _after_delete is not None:
            _after_delete(connection)
        bulk_insert(connection, table, prepared)
    return WriteResult(deleted=deleted, inserted=len(prepared))


def lock_writers(connection: Connection, table: sa.Table, scope: Mapping[str, object] | None = None) -> None:
    """Make writers of one table and scope (which names the account) take turns until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed on the table and scope (windows of different runs
    overlap, so the key is not the window; two accounts' keys differ, so their writers never wait for each
    other). SQLite: the write transaction began IMMEDIATE and already holds the database's only write lock."""
    if connection.dialect.name != "postgresql":
        return
    name = table.name + "".join(f"|{column}={value}" for column, value in sorted((scope or {}).items()))
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
