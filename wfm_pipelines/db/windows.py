"""The one condition that selects a time window (and a scope) of a table: writers replace it, queries read it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa

from wfm_pipelines.db.types import to_utc


def window_condition(table: sa.Table, time_column: str, start: datetime, end: datetime,
                     scope: Mapping[str, object] | None = None) -> sa.ColumnElement[bool]:
    """`start <= time_column < end` and every `scope` column equal to its value."""
    column = table.c[time_column]
    condition = sa.and_(column >= to_utc(start, what="window_start"), column < to_utc(end, what="window_end"))
    for name, value in (scope or {}).items():
        condition = sa.and_(condition, table.c[name] == value)
    return condition
