"""Awkward values survive the bulk path (binary COPY on PostgreSQL, executemany on SQLite) exactly,
and the fast validation paths keep the slow paths' meaning and messages."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, talkdesk_malformed_entry
from wfm_pipelines.db.types import UtcDateTime
from wfm_pipelines.db.validation import FrameValidationError, coerce_column, prepare_frame
from wfm_pipelines.db.bulk import COPY_CHUNK_ROWS, bulk_insert
from wfm_pipelines.db.window_writer import replace_window

UTC = timezone.utc
STAMP = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)

AWKWARD_TEXTS = [
    "tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "\\\\N", "N", "", "  ",
    "trailing backslash\\", "\\t not a tab", "naïve café ✓ 日本語 🎧", "mixed\t\\\n\r\\N end",
    '{"json": "with \\"quotes\\" and \\u00e9"}', "x" * 10_000,
]


def _awkward_table() -> sa.Table:
    return sa.Table(
        "copy_round_trip",
        sa.MetaData(),
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.Text),
        sa.Column("small", sa.SmallInteger),
        sa.Column("count", sa.Integer),
        sa.Column("big", sa.BigInteger),
        sa.Column("ratio", sa.Double),
        sa.Column("flag", sa.Boolean),
        sa.Column("at", UtcDateTime()),
    )


def _awkward_frame() -> pd.DataFrame:
    texts = AWKWARD_TEXTS + [None]
    floats = [0.0, -0.0, 0.1, -1e-300, 5e-324, 1.7976931348623157e308, 123456789.123456789, math.pi,
              float("nan"), None, 2.0**53 + 2, -7.25, 1e16, 3.0, 1 / 3, 42.0]
    counts = [0, 1, -1, 2**31 - 1, -(2**31), None, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    bigs = [2**63 - 1, -(2**63), 0, None, 10**15, -(10**15), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    smalls = [2**15 - 1, -(2**15), 0, None] + list(range(12))
    flags = [True, False, None] * 5 + [True]
    stamps = [STAMP, None, STAMP + timedelta(microseconds=1), datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
              datetime(1970, 1, 1, tzinfo=UTC), datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
              datetime(2199, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
              datetime(2025, 3, 1, 14, 0, 0, 654321, tzinfo=timezone(timedelta(hours=2)))] + [STAMP] * 8
    rows = len(texts)
    return pd.DataFrame({
        "row_id": range(rows), "label": texts, "small": pd.array(smalls, dtype="Int64"),
        "count": pd.array(counts, dtype="Int64"), "big": pd.array(bigs, dtype="Int64"),
        "ratio": pd.array(floats, dtype="float64"), "flag": pd.array(flags, dtype="boolean"),
        "at": pd.Series(stamps, dtype=object),
    })


def _expected(frame: pd.DataFrame) -> list[tuple]:
    def clean(value):
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        if isinstance(value, (np.integer, np.bool_)):
            return value.item()
        return value

    return [tuple(clean(value) for value in row) for row in frame.astype(object).itertuples(index=False)]


def _read_back(connection: sa.Connection, table: sa.Table) -> list[tuple]:
    return [tuple(row) for row in connection.execute(sa.select(table).order_by(table.c.row_id))]


def test_awkward_values_round_trip_exactly(engine):
    table = _awkward_table()
    frame = _awkward_frame()
    table.create(engine)
    with engine.begin() as connection:
        bulk_insert(connection, table, prepare_frame(table, frame))
    with engine.connect() as connection:
        stored = _read_back(connection, table)
    expected = _expected(frame)
    assert len(stored) == len(expected)
    for got, want in zip(stored, expected):
        for name, got_value, want_value in zip(table.columns.keys(), got, want):
            assert got_value == want_value, (name, got, want)
            assert type(got_value) is type(want_value), (name, got_value, want_value)
            if isinstance(want_value, float) and engine.dialect.name == "postgresql":  # SQLite stores -0.0 as 0.0
                assert math.copysign(1, got_value) == math.copysign(1, want_value), (name, got_value)


def test_text_and_nulls_are_told_apart_on_postgres(postgres_url):
    """The server's own view: '' is not NULL, '\\N' is text, an escape-looking string is kept verbatim."""
    from wfm_pipelines.db.engine import create_wfm_engine

    engine = create_wfm_engine(postgres_url)
    table = _awkward_table()
    table.create(engine)
    frame = _awkward_frame()
    with engine.begin() as connection:
        bulk_insert(connection, table, prepare_frame(table, frame))
    with engine.connect() as connection:
        nulls = connection.execute(sa.text("SELECT row_id FROM copy_round_trip WHERE label IS NULL")).scalars().all()
        empty = connection.execute(sa.text("SELECT row_id FROM copy_round_trip WHERE label = ''")).scalars().all()
        lengths = dict(connection.execute(sa.text("SELECT label, octet_length(label) FROM copy_round_trip "
                                                  "WHERE label IS NOT NULL")).all())
    engine.dispose()
    assert nulls == [len(AWKWARD_TEXTS)]
    assert empty == [AWKWARD_TEXTS.index("")]
    assert lengths == {text: len(text.encode()) for text in AWKWARD_TEXTS}


def test_several_chunks_keep_every_row_in_order(engine):
    table = _awkward_table()
    table.create(engine)
    rows = 2 * COPY_CHUNK_ROWS + 17
    frame = pd.DataFrame({
        "row_id": np.arange(rows), "label": [f"r{i}\t{i % 7}" if i % 5 else None for i in range(rows)],
        "ratio": np.arange(rows) / 3, "at": pd.Timestamp(STAMP) + pd.to_timedelta(np.arange(rows), unit="us"),
    })
    with engine.begin() as connection:
        bulk_insert(connection, table, prepare_frame(table, frame))
    with engine.connect() as connection:
        stored = connection.execute(sa.select(table.c.row_id, table.c.label, table.c.ratio, table.c.at)
                                    .order_by(table.c.row_id)).all()
    assert len(stored) == rows
    for i in (0, 1, 5, COPY_CHUNK_ROWS - 1, COPY_CHUNK_ROWS, COPY_CHUNK_ROWS + 1, rows - 1):
        assert tuple(stored[i]) == (i, f"r{i}\t{i % 7}" if i % 5 else None, i / 3,
                                    STAMP + timedelta(microseconds=i))


def test_out_of_range_integer_is_a_database_error_and_writes_nothing(postgres_url):
    from wfm_pipelines.db.engine import create_wfm_engine

    engine = create_wfm_engine(postgres_url)
    table = _awkward_table()
    table.create(engine)
    frame = pd.DataFrame({"row_id": [1, 2], "count": [1, 2**31]})
    with pytest.raises(sa.exc.DataError, match="out of range"):
        with engine.begin() as connection:
            bulk_insert(connection, table, prepare_frame(table, frame))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM copy_round_trip")).scalar_one() == 0
    engine.dispose()


def test_entries_with_awkward_json_round_trip_through_replace_window(engine):
    start = datetime(2025, 3, 1, tzinfo=UTC)
    entries = list(AWKWARD_TEXTS)
    frame = pd.DataFrame({
        "report_type": "calls",
        "owner_at": [start + timedelta(seconds=i, microseconds=i) for i in range(len(entries))],
        "reason": [f"reason\t{i}\\" for i in range(len(entries))],
        "entry": entries,
        "entry_hash": [f"h{i}" for i in range(len(entries))],
        "collected_at": pd.Timestamp(STAMP),
    })
    replace_window(engine, "talkdesk_malformed_entry", frame, window_start=start,
                   window_end=start + timedelta(days=1), time_column="owner_at", scope={"report_type": "calls"},
                   account_id=DEFAULT_ACCOUNT_ID)
    malformed = talkdesk_malformed_entry.c
    with engine.connect() as connection:
        stored = connection.execute(sa.select(malformed.owner_at, malformed.reason, malformed.entry,
                                              malformed.collected_at).order_by(malformed.owner_at)).all()
    assert [row.entry for row in stored] == entries
    assert [row.reason for row in stored] == list(frame["reason"])
    assert [row.owner_at for row in stored] == list(frame["owner_at"])
    assert {row.collected_at for row in stored} == {STAMP}


# --- the validation fast paths ----------------------------------------------------------------------

TEXT_COLUMN = sa.Column("label", sa.Text)
TEXT_TABLE = sa.Table("text_only", sa.MetaData(), TEXT_COLUMN)
TIME_COLUMN = sa.Column("at", UtcDateTime())
TIME_TABLE = sa.Table("time_only", sa.MetaData(), TIME_COLUMN)


@pytest.mark.parametrize("series", [
    pd.Series(["a", None, np.nan, pd.NA, "", "\\N"], dtype=object),
    pd.Series(["a", None, None, None, "", "\\N"], dtype="string"),
], ids=["object", "string-dtype"])
def test_all_text_column_keeps_strings_and_normalises_nulls(series):
    coerced = coerce_column(TEXT_TABLE, TEXT_COLUMN, series)
    assert coerced.dtype == object
    assert coerced.tolist() == ["a", None, None, None, "", "\\N"]


def test_text_column_with_integers_still_turns_them_into_text():
    coerced = coerce_column(TEXT_TABLE, TEXT_COLUMN, pd.Series(["a", 7, np.int64(8), None], dtype=object))
    assert coerced.tolist() == ["a", "7", "8", None]


@pytest.mark.parametrize("bad", [True, 1.5, b"bytes", datetime(2025, 1, 1, tzinfo=UTC)])
def test_text_column_refuses_other_types_naming_table_and_column(bad):
    with pytest.raises(FrameValidationError, match=r"^table text_only, column label: expected text, got "):
        coerce_column(TEXT_TABLE, TEXT_COLUMN, pd.Series(["a", bad], dtype=object))


def test_object_timestamps_in_one_or_many_zones_become_utc():
    plus_two = timezone(timedelta(hours=2))
    one_zone = pd.Series([STAMP, None, STAMP + timedelta(hours=1)], dtype=object)
    many_zones = pd.Series([STAMP, STAMP.astimezone(plus_two), None], dtype=object)
    assert coerce_column(TIME_TABLE, TIME_COLUMN, one_zone).tolist()[::2] == [STAMP, STAMP + timedelta(hours=1)]
    coerced = coerce_column(TIME_TABLE, TIME_COLUMN, many_zones)
    assert coerced.tolist()[:2] == [STAMP, STAMP] and str(coerced.dtype) == "datetime64[ns, UTC]"
    assert coerced.isna().tolist() == [False, False, True]


@pytest.mark.parametrize("values, shown", [
    ([STAMP, datetime(2025, 3, 1, 12)], "datetime.datetime(2025, 3, 1, 12, 0) (row 1)"),
    ([STAMP, "2025-03-01T12:00:00Z"], "'2025-03-01T12:00:00Z' (row 1)"),
    ([pd.Timestamp("2025-03-01")], "Timestamp('2025-03-01 00:00:00') (row 0)"),
])
def test_object_timestamps_without_zone_are_refused_by_row(values, shown):
    with pytest.raises(FrameValidationError, match=r"^table time_only, column at: expected timezone-aware timestamps, "
                                                   rf"got {re.escape(shown)}"):
        coerce_column(TIME_TABLE, TIME_COLUMN, pd.Series(values, dtype=object))
