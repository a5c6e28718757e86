"""Read-side queries for the data-quality checks: done in the database, so a check over a week of a
large center reads the offending rows and a few columns, not every row back into memory. Each reads one
account's rows (`account_id`, `DEFAULT_ACCOUNT_ID` where not given)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, table_named
from wfm_pipelines.db.windows import account_scope, window_condition
from wfm_pipelines.intervals import INTERVAL_SECONDS


def offending_rows(engine: Engine, table_name: str, predicate, *, window_start: datetime, window_end: datetime,
                   time_column: str, columns: list[str], limit: int = 50,
                   account_id: str = DEFAULT_ACCOUNT_ID) -> tuple[int, pd.DataFrame]:
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
                    scope: Mapping[str, object] | None = None, interval_seconds: int = INTERVAL_SECONDS,
                    account_id: str = DEFAULT_ACCOUNT_ID) -> pd.Series:
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
