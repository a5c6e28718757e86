"""Check a pandas frame against a table and coerce it to the table's types, before any write.

Every problem raises `FrameValidationError` naming the table, the column and an example value, so
that a bad frame fails loudly and leaves the database untouched.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

from wfm_pipelines.db.types import UtcDateTime, to_utc

UTC_DTYPE = "datetime64[ns, UTC]"


class FrameValidationError(ValueError):
    """A frame does not fit its table; nothing was written."""

    def __init__(self, table: sa.Table | str, column: str | None, problem: str):
        self.table = table if isinstance(table, str) else table.name
        self.column = column
        where = f"table {self.table}" + (f", column {column}" if column else "")
        super().__init__(f"{where}: {problem}")


def _example(values: pd.Series, table: sa.Table, column: str) -> str:
    """The first offending value and how many there are; a value that describes a person (a name, an
    e-mail: `info={"personal": True}` in the schema) is never shown, since errors reach the event log."""
    count = f"{len(values)} such row{'s' if len(values) != 1 else ''}"
    if column in table.c and table.c[column].info.get("personal"):
        return f"<not shown: personal data> (row {values.index[0]!r}; {count})"
    return f"{values.iloc[0]!r} (row {values.index[0]!r}; {count})"


def is_required(column: sa.Column) -> bool:
    """A column that a frame must provide: NOT NULL with no default of any kind."""
    if column.nullable or column.server_default is not None or column.default is not None:
        return False
    autoincrement = column.primary_key and column.autoincrement is True
    return not autoincrement


def _coerce_timestamps(table: sa.Table, name: str, series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype(UTC_DTYPE)
    if pd.api.types.is_datetime64_dtype(series.dtype):
        present = series[series.notna()]
        if present.empty:
            return series.dt.tz_localize("UTC").astype(UTC_DTYPE)
        raise FrameValidationError(
            table, name, f"timestamps have no timezone (e.g. {_example(present, table, name)}); give UTC-aware timestamps"
        )
    present = series[series.notna()]
    if not _all_timezone_aware(present):
        for index, value in present.items():  # find the first bad value, for the message
            try:
                to_utc(value)
            except (TypeError, ValueError) as exc:
                raise FrameValidationError(
                    table, name, f"expected timezone-aware timestamps, got {value!r} (row {index!r}): {exc}"
                ) from None
    converted = pd.to_datetime(series.where(series.notna(), None), utc=True)
    return converted.astype(UTC_DTYPE)


def _all_timezone_aware(present: pd.Series) -> bool:
    """True when every value is an aware datetime, decided by C-speed passes; False means "check one by one".

    pandas converts datetimes without `utc=True` to a zoned dtype only when all share one zone and
    none is naive; anything else (strings, dates, mixed zones) goes to the per-value check.
    """
    if pd.api.types.infer_dtype(present, skipna=False) != "datetime":
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            converted = pd.to_datetime(present)
    except (TypeError, ValueError, OverflowError):
        return False
    return isinstance(converted.dtype, pd.DatetimeTZDtype)


def _numeric(table: sa.Table, name: str, series: pd.Series, kind: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.astype("float64") if kind == "float" else series
    else:
        numbers = pd.to_numeric(series, errors="coerce")
        unreadable = series[series.notna() & numbers.isna()]
        if not unreadable.empty:
            raise FrameValidationError(table, name, f"expected {kind} values, got {_example(unreadable, table, name)}")
    as_float = numbers.astype("float64")
    infinite = series[np.isinf(as_float)]
    if not infinite.empty:
        raise FrameValidationError(table, name, f"infinite value {_example(infinite, table, name)}")
    return numbers


def _coerce_integers(table: sa.Table, name: str, series: pd.Series) -> pd.Series:
    numbers = _numeric(table, name, series, "integer")
    if pd.api.types.is_float_dtype(numbers.dtype):
        fractional = series[numbers.notna() & (numbers % 1 != 0)]
        if not fractional.empty:
            raise FrameValidationError(table, name, f"expected integers, got fractional {_example(fractional, table, name)}")
    return numbers.astype("Int64")


def _coerce_floats(table: sa.Table, name: str, series: pd.Series) -> pd.Series:
    return _numeric(table, name, series, "float").astype("float64")


def _coerce_booleans(table: sa.Table, name: str, series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean")
    present = series[series.notna()]
    wrong = present[~present.map(lambda v: isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, np.integer)) and v in (0, 1)))]
    if not wrong.empty:
        raise FrameValidationError(table, name, f"expected booleans, got {_example(wrong, table, name)}")
    return series.astype("boolean")


def _coerce_text(table: sa.Table, name: str, series: pd.Series) -> pd.Series:
    nulls = series.isna()
    if nulls.all():
        return pd.Series([None] * len(series), index=series.index, dtype=object)
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.astype(str).astype(object)
    if pd.api.types.infer_dtype(series, skipna=True) == "string":
        # Every present value is already a str (a C-speed scan): only NULLs need normalising to None.
        text = series.astype(object)
        if nulls.any():
            text = text.where(~nulls, None)
        return text
    present = series[~nulls]
    wrong = present[~present.map(lambda v: isinstance(v, (str, int, np.integer)) and not isinstance(v, (bool, np.bool_)))]
    if not wrong.empty:
        raise FrameValidationError(table, name, f"expected text, got {_example(wrong, table, name)}")
    return series.map(lambda v: v if isinstance(v, str) else (None if pd.isna(v) else str(v))).astype(object)


def coerce_column(table: sa.Table, column: sa.Column, series: pd.Series) -> pd.Series:
    column_type = column.type
    if isinstance(column_type, UtcDateTime):
        return _coerce_timestamps(table, column.name, series)
    if isinstance(column_type, sa.Boolean):
        return _coerce_booleans(table, column.name, series)
    if isinstance(column_type, sa.Integer):
        return _coerce_integers(table, column.name, series)
    if isinstance(column_type, sa.Float):
        return _coerce_floats(table, column.name, series)
    if isinstance(column_type, sa.String):
        return _coerce_text(table, column.name, series)
    raise TypeError(f"table {table.name}, column {column.name}: no frame coercion for {column_type!r}")


def prepare_frame(
    table: sa.Table,
    frame: pd.DataFrame,
    *,
    managed_columns: Iterable[str] = (),
    optional_columns: Iterable[str] = (),
    fixed_values: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Return `frame` coerced to `table`'s column types, or raise FrameValidationError.

    `managed_columns` are filled by the writer and must not come in the frame; `fixed_values` are
    columns every row must equal (added where the frame lacks them); `optional_columns` may be
    absent or NULL even where the table says NOT NULL (the writer fills them).
    """
    if not isinstance(frame, pd.DataFrame):
        raise FrameValidationError(table, None, f"expected a pandas DataFrame, got {type(frame).__name__}")
    managed = set(managed_columns)
    optional = set(optional_columns)
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise FrameValidationError(table, str(duplicated[0]), "the frame has this column twice")
    unknown = [str(name) for name in frame.columns if name not in table.c]
    if unknown:
        raise FrameValidationError(table, unknown[0], f"not a column of the table (frame columns not in it: {unknown})")
    clashing = [name for name in frame.columns if name in managed]
    if clashing:
        raise FrameValidationError(table, clashing[0], "this column is maintained by the writer; leave it out of the frame")
    frame = frame.reset_index(drop=True)
    for name, value in (fixed_values or {}).items():
        if name not in table.c:
            raise FrameValidationError(table, name, "scope names a column the table does not have")
        if name not in frame.columns:
            frame = frame.assign(**{name: [value] * len(frame)})
    not_needed = managed | optional | set(frame.columns)
    missing = [c.name for c in table.columns if is_required(c) and c.name not in not_needed]
    if missing:
        raise FrameValidationError(table, missing[0], f"required column missing from the frame (missing: {missing})")

    coerced = {}
    for name in frame.columns:
        column = table.c[name]
        series = coerce_column(table, column, frame[name])
        if not column.nullable and name not in optional:
            nulls = frame[name][series.isna()]
            if not nulls.empty:
                raise FrameValidationError(table, name, f"NULL in a NOT NULL column, e.g. {_example(nulls, table, name)}")
        coerced[name] = series
    prepared = pd.DataFrame(coerced, index=frame.index)
    for name, value in (fixed_values or {}).items():
        expected = coerce_column(table, table.c[name], pd.Series([value]))[0]
        disagreeing = frame[name][prepared[name] != expected]
        if not disagreeing.empty:
            raise FrameValidationError(
                table, name, f"rows outside the scope {name}={value!r}: {_example(disagreeing, table, name)}"
            )
    return prepared


def check_time_window(
    table: sa.Table, frame: pd.DataFrame, time_column: str, window_start: datetime, window_end: datetime
) -> None:
    """Every row's `time_column` must lie in [window_start, window_end)."""
    if time_column not in table.c or not isinstance(table.c[time_column].type, UtcDateTime):
        raise FrameValidationError(table, time_column, "time_column must be a timestamp column of the table")
    if time_column not in frame.columns:
        raise FrameValidationError(table, time_column, "the frame has no time_column")
    start, end = pd.Timestamp(to_utc(window_start, what="window_start")), pd.Timestamp(to_utc(window_end, what="window_end"))
    if not start < end:
        raise FrameValidationError(table, time_column, f"empty window [{start}, {end})")
    times = frame[time_column]
    outside = times[times.isna() | (times < start) | (times >= end)]
    if not outside.empty:
        raise FrameValidationError(
            table, time_column, f"value outside the window [{start.isoformat()}, {end.isoformat()}): {_example(outside, table, time_column)}"
        )


def check_unique_keys(table: sa.Table, frame: pd.DataFrame, key_columns: list[str]) -> None:
    duplicated = frame[frame.duplicated(subset=key_columns, keep=False)]
    if not duplicated.empty:
        example = duplicated.iloc[0][key_columns].to_dict()
        raise FrameValidationError(
            table, ", ".join(key_columns), f"key repeated in the frame, e.g. {example} ({len(duplicated)} rows)"
        )
