"""Bulk inserts inside an open transaction: PostgreSQL binary COPY built with vectorised column passes,
SQLite executemany with values already in their stored form."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wfm_pipelines.db.types import UtcDateTime

SQLITE_CHUNK_ROWS = 20_000
# About 10 MB of raw-entry rows per chunk: below glibc's mmap threshold, so chunk buffers are reused
# instead of page-faulted afresh (chunks of 100,000 rows were about twice as slow to build).
COPY_CHUNK_ROWS = 20_000


def bulk_insert(connection: Connection, table: sa.Table, prepared: pd.DataFrame) -> None:
    """Insert a prepared frame inside the connection's current transaction."""
    if prepared.empty:
        return
    if connection.dialect.name == "postgresql":
        _copy_into_postgres(connection, table, prepared)
    else:
        _insert_into_sqlite(connection, table, prepared)


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
