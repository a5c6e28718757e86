"""Reads of the WFM tables. Each reads one account's rows (`account_id`, a required keyword) and returns the
columns a writer takes, without `account_id`, since every row it returns is that account's.

The data-quality checks' queries are done in the database, so a check over a week of a large center reads the
offending rows and a few columns, not every row back into memory."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wfm_pipelines.db.schema import check_account_id, table_named
from wfm_pipelines.db.types import UtcDateTime
from wfm_pipelines.db.validation import UTC_DTYPE
from wfm_pipelines.db.windows import ACCOUNT, account_scope, window_condition
from wfm_pipelines.intervals import INTERVAL_SECONDS


def offending_rows(engine: Engine, table_name: str, predicate, *, window_start: datetime, window_end: datetime,
                   time_column: str, columns: list[str], account_id: str,
                   limit: int = 50) -> tuple[int, pd.DataFrame]:
    """(how many of the account's rows of the window match `predicate(table)`, the first `limit` of them)."""
    table = table_named(table_name)
    where = sa.and_(window_condition(table, time_column, window_start, window_end, account_scope(None, account_id)),
                    predicate(table))
    with engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one()
        rows = connection.execute(
            sa.select(*(table.c[name] for name in columns)).where(where)
            .order_by(*table.primary_key.columns).limit(limit)).all()
    return int(count), pd.DataFrame([tuple(row) for row in rows], columns=columns)


def interval_counts(engine: Engine, table_name: str, column: str, *, window_start: datetime, window_end: datetime,
                    account_id: str, scope: Mapping[str, object] | None = None,
                    interval_seconds: int = INTERVAL_SECONDS) -> pd.Series:
    """The account's rows per interval of `column` (a count indexed by the interval's UTC start), grouped in the
    database."""
    table = table_named(table_name)
    stamp = table.c[column]
    if engine.dialect.name == "postgresql":
        bucket = sa.cast(sa.func.floor(sa.extract("epoch", stamp) / interval_seconds), sa.BigInteger)
    else:  # SQLite keeps fixed-width UTC text; strftime('%s') reads its first 19 characters as UTC
        bucket = sa.cast(sa.func.strftime("%s", sa.func.substr(stamp, 1, 19)), sa.Integer) // interval_seconds
    query = (sa.select(bucket.label("bucket"), sa.func.count().label("rows"))
             .where(window_condition(table, column, window_start, window_end, account_scope(scope, account_id)))
             .group_by(bucket))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    index = pd.to_datetime([int(b) * interval_seconds for b, _ in rows], unit="s", utc=True)
    return pd.Series([int(n) for _, n in rows], index=index, dtype="int64").sort_index()


def read_window(
    engine: Engine,
    table: sa.Table | str,
    *,
    window_start: datetime,
    window_end: datetime,
    time_column: str,
    account_id: str,
    scope: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """The account's rows with window_start <= time_column < window_end (and `scope`), ordered by key, without
    the `account_id` column."""
    table = table_named(table)
    columns = _read_columns(table)
    query = (
        sa.select(*columns)
        .where(window_condition(table, time_column, window_start, window_end, account_scope(scope, account_id)))
        .order_by(*table.primary_key.columns)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return _frame_from_rows(table, [c.name for c in columns], rows)


def read_table(engine: Engine, table: sa.Table | str, *, account_id: str) -> pd.DataFrame:
    """Every row of the account in `table`, ordered by key, without the `account_id` column."""
    table = table_named(table)
    columns = _read_columns(table)
    query = sa.select(*columns).where(table.c[ACCOUNT] == check_account_id(account_id))
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(*table.primary_key.columns)).all()
    return _frame_from_rows(table, [c.name for c in columns], rows)


def _read_columns(table: sa.Table) -> list[sa.Column]:
    """The columns a read returns: those a writer takes, the account apart (the reader named it)."""
    return [column for column in table.columns if column.name != ACCOUNT]


def _frame_from_rows(table: sa.Table, columns: list[str], rows: list) -> pd.DataFrame:
    data = {}
    for position, name in enumerate(columns):
        values = [row[position] for row in rows]
        column_type = table.c[name].type
        if isinstance(column_type, UtcDateTime):
            series = pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype(UTC_DTYPE)
        elif isinstance(column_type, sa.Boolean):
            series = pd.Series(values, dtype="boolean" if None in values else bool)
        elif isinstance(column_type, sa.Integer):
            series = pd.Series(values, dtype="Int64" if None in values else "int64")
        elif isinstance(column_type, sa.Float):
            series = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
        else:
            series = pd.Series(values, dtype=object)
        data[name] = series
    return pd.DataFrame(data, columns=columns)
