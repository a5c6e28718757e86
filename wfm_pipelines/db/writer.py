"""Idempotent writes of pandas frames into the WFM tables, and reads back.

Every writer validates the whole frame first (`validation.py`), then changes the database in one
transaction: a failure at any point leaves the rows that were there before.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import chain
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from wfm_pipelines.db.schema import (
    HISTORY_COLUMNS,
    table_named,
    wfm_agent_state_current,
    wfm_agent_state_snapshot,
)
from wfm_pipelines.db.engine import write_connection
from wfm_pipelines.db.types import UtcDateTime, to_utc
from wfm_pipelines.db.validation import (
    UTC_DTYPE,
    FrameValidationError,
    check_time_window,
    coerce_column,
    check_unique_keys,
    prepare_frame,
)

SQLITE_CHUNK_ROWS = 20_000
# About 10 MB of raw-entry rows per chunk: below glibc's mmap threshold, so chunk buffers are reused
# instead of page-faulted afresh (chunks of 100,000 rows were about twice as slow to build).
COPY_CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class WriteResult:
    deleted: int
    inserted: int


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    deactivated: int
    reactivated: int


@dataclass(frozen=True)
class SnapshotResult:
    appended: int  # snapshot rows written
    new_agents: int  # agents seen for the first time
    changed: int  # agents whose state changed (a new `since`)
    unchanged: int  # agents whose state and `since` stay
    stale: int  # agents whose current row is newer than this snapshot (left as they were)


# --- replace a time window -------------------------------------------------------------------------


def _window_condition(table: sa.Table, time_column: str, start: datetime, end: datetime, scope: Mapping | None):
    column = table.c[time_column]
    condition = sa.and_(column >= start, column < end)
    for name, value in (scope or {}).items():
        condition = sa.and_(condition, table.c[name] == value)
    return condition


def replace_window(
    engine: Engine,
    table: sa.Table | str,
    frame: pd.DataFrame,
    *,
    window_start: datetime,
    window_end: datetime,
    time_column: str,
    scope: Mapping[str, object] | None = None,
    _after_delete: Callable[[Connection], None] | None = None,
) -> WriteResult:
    """Make the rows of `table` in [window_start, window_end) (and `scope`) exactly `frame`.

    `_after_delete` is a test hook called between the delete and the insert.
    """
    table = table_named(table)
    prepared = prepare_frame(table, frame, fixed_values=scope)
    check_time_window(table, prepared, time_column, window_start, window_end)
    key = [c.name for c in table.primary_key.columns]
    if all(name in prepared.columns for name in key):
        check_unique_keys(table, prepared, key)
    start, end = to_utc(window_start), to_utc(window_end)
    with write_connection(engine) as connection, connection.begin():
        deleted = connection.execute(
            table.delete().where(_window_condition(table, time_column, start, end, scope))
        ).rowcount
        if _after_delete is not None:
            _after_delete(connection)
        bulk_insert(connection, table, prepared)
    return WriteResult(deleted=deleted, inserted=len(prepared))


def bulk_insert(connection: Connection, table: sa.Table, prepared: pd.DataFrame) -> None:
    """Insert a prepared frame inside the connection's current transaction."""
    if prepared.empty:
        return
    if connection.dialect.name == "postgresql":
        _copy_into_postgres(connection, table, prepared)
    else:
        _insert_into_sqlite(connection, table, prepared)


def python_values(series: pd.Series) -> list:
    """A prepared column as plain Python values: None for NULL, aware datetimes, int, float, str, bool."""
    if str(series.dtype) == UTC_DTYPE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas 2.x announces a Series return type
            values = np.asarray(series.dt.to_pydatetime(), dtype=object)
        values[series.isna().to_numpy()] = None
        return values.tolist()
    return series.to_numpy(dtype=object, na_value=None).tolist()


# PostgreSQL's binary COPY format (docs: sql-copy.html, "Binary Format"): a signature, then per row an
# int16 field count and per field an int32 byte length (-1 for NULL) and the value in network order.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"  # no flags, no extension
_COPY_TRAILER = b"\xff\xff"
_POSTGRES_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in microseconds since 1970-01-01


@dataclass(frozen=True)
class _CopyField:
    """One column of a chunk in binary COPY form: a fixed-width part per row, then an optional payload per row."""

    fixed: np.ndarray  # (rows, width) uint8: the length word, and the value itself when its width is fixed
    payload: list[bytes] | None  # variable-length (or NULL-bearing) values; b"" for NULL


def _big_endian_rows(values: np.ndarray) -> np.ndarray:
    return values.view(np.uint8).reshape(len(values), values.dtype.itemsize)


def _fixed_width_field(values: np.ndarray, nulls: np.ndarray) -> _CopyField:
    """Big-endian values of one width; NULL rows carry length -1 and no value."""
    width = values.dtype.itemsize
    if not nulls.any():
        lengths = np.full(len(values), width, dtype=">i4")
        return _CopyField(np.hstack([_big_endian_rows(lengths), _big_endian_rows(values)]), None)
    lengths = np.where(nulls, -1, width).astype(">i4")
    payload = _big_endian_rows(values).view(np.dtype((np.void, width))).ravel().tolist()
    for position in np.flatnonzero(nulls).tolist():
        payload[position] = b""
    return _CopyField(_big_endian_rows(lengths), payload)


def _integer_field(column: sa.Column, series: pd.Series, nulls: np.ndarray, binary_type: str) -> _CopyField:
    values = series.to_numpy(dtype="int64", na_value=0)
    info = np.iinfo(binary_type)
    outside = (values < info.min) | (values > info.max)
    if outside.any():
        # What the server would say; raised before sending, as the fixed-width form cannot hold it.
        raise psycopg.DataError(
            f"value {values[outside][0]} is out of range for column {column.name} ({column.type}) "
            f"(row {series.index[outside][0]!r})"
        )
    return _fixed_width_field(values.astype(binary_type), nulls)


def _copy_field(column: sa.Column, series: pd.Series) -> _CopyField:
    """One prepared column in binary COPY form, built by vectorised passes (no Python call per value)."""
    column_type = column.type
    nulls = series.isna().to_numpy()
    if isinstance(column_type, UtcDateTime):
        microseconds = series.dt.tz_convert(None).to_numpy().astype("datetime64[us]").astype(np.int64)
        microseconds[nulls] = 0
        return _fixed_width_field((microseconds - _POSTGRES_EPOCH_US).astype(">i8"), nulls)
    if isinstance(column_type, sa.Boolean):
        return _fixed_width_field(series.to_numpy(dtype=bool, na_value=False).astype(np.uint8), nulls)
    if isinstance(column_type, sa.SmallInteger):
        return _integer_field(column, series, nulls, ">i2")
    if isinstance(column_type, sa.BigInteger):
        return _integer_field(column, series, nulls, ">i8")
    if isinstance(column_type, sa.Integer):
        return _integer_field(column, series, nulls, ">i4")
    if isinstance(column_type, sa.Float):
        single = isinstance(column_type, sa.REAL) or (
            not isinstance(column_type, sa.Double) and column_type.precision is not None and column_type.precision <= 24
        )
        values = series.to_numpy(dtype="float64", na_value=0.0)
        return _fixed_width_field(values.astype(">f4" if single else ">f8"), nulls)
    text = series.to_numpy(dtype=object, copy=True)
    text[nulls] = ""
    payload = list(map(str.encode, text.tolist()))
    lengths = np.fromiter(map(len, payload), dtype=np.int64, count=len(payload))
    lengths[nulls] = -1
    return _CopyField(_big_endian_rows(lengths.astype(">i4")), payload)


def _rows_of(blocks: list[np.ndarray]) -> list[bytes]:
    joined = np.hstack(blocks) if len(blocks) > 1 else blocks[0]
    return joined.view(np.dtype((np.void, joined.shape[1]))).ravel().tolist()


def copy_binary_chunk(table: sa.Table, chunk: pd.DataFrame) -> bytes:
    """Rows of a prepared frame as binary COPY rows (without the signature and trailer).

    Neighbouring fixed-width parts of a row are laid out together in one numpy array, so each row is
    a few byte strings (fixed part, text, fixed part, ...) joined once.
    """
    rows = len(chunk)
    segments: list[list[bytes]] = []
    blocks = [_big_endian_rows(np.full(rows, len(chunk.columns), dtype=">i2"))]
    for name in chunk.columns:
        field = _copy_field(table.c[name], chunk[name])
        blocks.append(field.fixed)
        if field.payload is not None:
            segments += [_rows_of(blocks), field.payload]
            blocks = []
    if blocks:
        segments.append(_rows_of(blocks))
    return b"".join(chain.from_iterable(zip(*segments)))


def _copy_into_postgres(connection: Connection, table: sa.Table, prepared: pd.DataFrame) -> None:
    """Binary COPY on the connection's own psycopg connection, so it joins the open transaction.

    Each chunk is encoded column by column with vectorised passes: building a Python object per
    value for psycopg's `write_row` cost more than the server's own work.
    """
    columns = list(prepared.columns)
    quote = connection.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in columns)}) FROM STDIN (FORMAT BINARY)"
    driver_connection = connection.connection.driver_connection
    try:
        with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(_COPY_SIGNATURE)
            for offset in range(0, len(prepared), COPY_CHUNK_ROWS):
                copy.write(copy_binary_chunk(table, prepared.iloc[offset : offset + COPY_CHUNK_ROWS]))
            copy.write(_COPY_TRAILER)
    except psycopg.Error as exc:
        # The same exception classes as any other statement (sqlalchemy.exc.IntegrityError, ...).
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def _sqlite_timestamps(series: pd.Series) -> np.ndarray:
    """UTC timestamps as the fixed-width text UtcDateTime stores, vectorised."""
    microseconds = series.dt.tz_convert(None).to_numpy().astype("datetime64[us]")
    text = np.char.replace(np.datetime_as_string(microseconds, unit="us"), "T", " ").astype(object)
    text[series.isna().to_numpy()] = None
    return text


def _sqlite_values(table: sa.Table, prepared: pd.DataFrame) -> list[np.ndarray]:
    """Columns as object arrays of plain Python values, in the form the UtcDateTime type stores."""
    arrays = []
    for name in prepared.columns:
        series = prepared[name]
        if isinstance(table.c[name].type, UtcDateTime):
            arrays.append(_sqlite_timestamps(series))
        elif isinstance(table.c[name].type, sa.Boolean):
            arrays.append(series.astype("Int64").to_numpy(dtype=object, na_value=None))
        else:
            arrays.append(series.to_numpy(dtype=object, na_value=None))
    return arrays


def _insert_into_sqlite(connection: Connection, table: sa.Table, prepared: pd.DataFrame) -> None:
    # The driver's executemany with values already in stored form: the same text UtcDateTime
    # writes, without a Python call per value.
    preparer = connection.dialect.identifier_preparer
    columns = list(prepared.columns)
    statement = (
        f"INSERT INTO {preparer.quote(table.name)} ({', '.join(preparer.quote(c) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    arrays = _sqlite_values(table, prepared)
    for offset in range(0, len(prepared), SQLITE_CHUNK_ROWS):
        rows = list(zip(*(array[offset : offset + SQLITE_CHUNK_ROWS] for array in arrays)))
        connection.exec_driver_sql(statement, rows)


# --- configuration with history ------------------------------------------------------------------


def _lock_for_write(connection: Connection, table: sa.Table) -> None:
    """Serialise read-modify-write writers of one table (SQLite already has BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f'LOCK TABLE "{table.name}" IN SHARE ROW EXCLUSIVE MODE')


def _records(prepared: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (None for NULL, aware datetimes)."""
    columns = {name: python_values(prepared[name]) for name in prepared.columns}
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def upsert_configuration(
    engine: Engine,
    table: sa.Table | str,
    frame: pd.DataFrame,
    *,
    key_columns: list[str],
    seen_at: datetime,
    deactivate_missing: bool = True,
) -> UpsertResult:
    """Insert new keys, update and re-activate present ones, deactivate absent ones; never delete.

    Where the table has `active`, a present key is active unless the frame's optional `active`
    column (the source's own flag) says false; a key absent from the frame becomes inactive.
    """
    table = table_named(table)
    seen_at = to_utc(seen_at, what="seen_at")
    if not key_columns:
        raise FrameValidationError(table, None, "key_columns is empty")
    for name in key_columns:
        if name not in table.c:
            raise FrameValidationError(table, name, "key column is not a column of the table")
    has_active = "active" in table.c
    # `active` may come in the frame (the source's own flag; NULL means active); the seen columns may not.
    managed = [name for name in HISTORY_COLUMNS if name in table.c and name != "active"]
    prepared = prepare_frame(table, frame, managed_columns=managed, optional_columns=["active"] if has_active else [])
    for name in key_columns:
        if name not in prepared.columns:
            raise FrameValidationError(table, name, "key column missing from the frame")
        nulls = prepared[name][prepared[name].isna()]
        if not nulls.empty:
            raise FrameValidationError(table, name, f"NULL key in row {nulls.index[0]!r}")
    check_unique_keys(table, prepared, key_columns)

    rows = _records(prepared)
    attributes = [name for name in prepared.columns if name not in key_columns and name != "active"]
    key_of = lambda row: tuple(row[name] for name in key_columns)  # noqa: E731
    keys = [table.c[name] for name in key_columns]
    with write_connection(engine) as connection, connection.begin():
        _lock_for_write(connection, table)
        selected = keys + ([table.c.active] if has_active else [])
        existing = {tuple(r[: len(keys)]): (r[-1] if has_active else True) for r in connection.execute(sa.select(*selected))}

        new_rows = [row for row in rows if key_of(row) not in existing]
        present_rows = [row for row in rows if key_of(row) in existing]
        if has_active:
            for row in rows:
                row["active"] = True if row.get("active") is None else bool(row["active"])
        history = {"first_seen_at": seen_at, "last_seen_at": seen_at}
        if new_rows:
            connection.execute(table.insert(), [row | history for row in new_rows])
        if present_rows:
            key_match = sa.and_(*(table.c[name] == sa.bindparam(f"key_{name}") for name in key_columns))
            values = {name: sa.bindparam(f"value_{name}") for name in attributes}
            values["last_seen_at"] = sa.bindparam("value_last_seen_at", type_=UtcDateTime())
            if has_active:
                values["active"] = sa.bindparam("value_active", type_=sa.Boolean())
            connection.execute(
                table.update().where(key_match).values(values),
                [
                    {f"key_{n}": row[n] for n in key_columns}
                    | {f"value_{n}": row[n] for n in attributes}
                    | {"value_last_seen_at": seen_at}
                    | ({"value_active": row["active"]} if has_active else {})
                    for row in present_rows
                ],
            )
        reactivated = sum(1 for row in present_rows if has_active and row["active"] and not existing[key_of(row)])
        deactivated = 0
        if has_active and deactivate_missing:
            seen = {key_of(row) for row in rows}
            vanished = [key for key, active in existing.items() if active and key not in seen]
            if vanished:
                key_match = sa.and_(*(table.c[name] == sa.bindparam(f"key_{name}") for name in key_columns))
                connection.execute(
                    table.update().where(key_match).values(active=False),
                    [{f"key_{n}": value for n, value in zip(key_columns, key)} for key in vanished],
                )
            deactivated = len(vanished)
    return UpsertResult(inserted=len(new_rows), updated=len(present_rows), deactivated=deactivated, reactivated=reactivated)


# --- agent state snapshots -------------------------------------------------------------------------


def append_agent_state_snapshot(engine: Engine, frame: pd.DataFrame, *, snapshot_at: datetime) -> SnapshotResult:
    """Append one snapshot (agent_id, state[, since]) and move `wfm_agent_state_current` forward.

    An agent whose state is unchanged keeps its `since`; a new or changed one gets the frame's
    `since` where given (e.g. Talkdesk's status start), else `snapshot_at`. Writing the same
    snapshot again replaces it.
    """
    snapshot_at = to_utc(snapshot_at, what="snapshot_at")
    table = wfm_agent_state_snapshot
    if not isinstance(frame, pd.DataFrame):
        raise FrameValidationError(table, None, f"expected a pandas DataFrame, got {type(frame).__name__}")
    since_given = "since" in frame.columns
    states = prepare_frame(table, frame.drop(columns=["since"]) if since_given else frame,
                           fixed_values={"snapshot_at": snapshot_at})
    check_unique_keys(table, states, ["agent_id"])
    if since_given:
        since = coerce_column(wfm_agent_state_current, wfm_agent_state_current.c.since,
                              frame["since"].reset_index(drop=True))
    else:
        since = pd.Series(pd.NaT, index=states.index, dtype=UTC_DTYPE)
    since = since.fillna(pd.Timestamp(snapshot_at))

    with write_connection(engine) as connection, connection.begin():
        _lock_for_write(connection, wfm_agent_state_current)
        connection.execute(table.delete().where(table.c.snapshot_at == snapshot_at))
        bulk_insert(connection, table, states[["agent_id", "snapshot_at", "state"]])
        current = {
            row.agent_id: row
            for row in connection.execute(
                sa.select(wfm_agent_state_current.c.agent_id, wfm_agent_state_current.c.state,
                          wfm_agent_state_current.c.snapshot_at)
            )
        }
        inserts, changes, touches = [], [], []
        stale = 0
        for agent_id, state, started in zip(states["agent_id"], states["state"], since):
            previous = current.get(agent_id)
            started = min(started.to_pydatetime(), snapshot_at)
            if previous is None:
                inserts.append({"agent_id": agent_id, "state": state, "since": started, "snapshot_at": snapshot_at})
            elif previous.snapshot_at > snapshot_at:
                stale += 1
            elif previous.state == state:
                touches.append({"key": agent_id, "at": snapshot_at})
            else:
                changes.append({"key": agent_id, "new_state": state, "new_since": started, "at": snapshot_at})
        c = wfm_agent_state_current.c
        if inserts:
            connection.execute(wfm_agent_state_current.insert(), inserts)
        at = sa.bindparam("at", type_=UtcDateTime())
        if touches:
            connection.execute(
                wfm_agent_state_current.update().where(c.agent_id == sa.bindparam("key")).values(snapshot_at=at),
                touches,
            )
        if changes:
            connection.execute(
                wfm_agent_state_current.update()
                .where(c.agent_id == sa.bindparam("key"))
                .values(state=sa.bindparam("new_state"),
                        since=sa.bindparam("new_since", type_=UtcDateTime()), snapshot_at=at),
                changes,
            )
    return SnapshotResult(appended=len(states), new_agents=len(inserts), changed=len(changes),
                          unchanged=len(touches), stale=stale)


# --- reads --------------------------------------------------------------------------------------------


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


def read_window(
    engine: Engine,
    table: sa.Table | str,
    *,
    window_start: datetime,
    window_end: datetime,
    time_column: str,
    scope: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """The rows with window_start <= time_column < window_end (and `scope`), ordered by key."""
    table = table_named(table)
    start, end = to_utc(window_start, what="window_start"), to_utc(window_end, what="window_end")
    query = (
        sa.select(table)
        .where(_window_condition(table, time_column, start, end, scope))
        .order_by(*table.primary_key.columns)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return _frame_from_rows(table, [c.name for c in table.columns], rows)


def read_table(engine: Engine, table: sa.Table | str) -> pd.DataFrame:
    """Every row of `table`, ordered by key."""
    table = table_named(table)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
    return _frame_from_rows(table, [c.name for c in table.columns], rows)
