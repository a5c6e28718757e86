"""Reading raw entries back: windows across files, files of different fields, counts per interval."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, OWNER_COLUMN, OWNER_TYPE
from wfm_pipelines_tests.raw_store.entries import HOUR, MINUTE, T0, calls, keys_of

COLLECTED = T0 + timedelta(days=1)


def test_a_window_across_files_gives_its_own_entries_in_order(engine, store):
    for hour in range(4):
        store.replace_window(engine, "calls", T0 + hour * HOUR, T0 + (hour + 1) * HOUR,
                             calls(4, T0 + hour * HOUR, every=15 * MINUTE, prefix=f"h{hour}"), collected_at=COLLECTED,
                             account_id=DEFAULT_ACCOUNT_ID)
    read = store.read_window(engine, "calls", T0 + 75 * MINUTE, T0 + 165 * MINUTE, account_id=DEFAULT_ACCOUNT_ID)
    assert keys_of(read) == ["h1-1", "h1-2", "h1-3", "h2-0", "h2-1", "h2-2"]  # 02:45 is the end: not in it
    assert read.column(OWNER_COLUMN).to_pylist() == [T0 + (75 + 15 * i) * MINUTE for i in range(6)]
    assert store.read_window(engine, "calls", T0 + 4 * HOUR, T0 + 5 * HOUR, account_id=DEFAULT_ACCOUNT_ID).num_rows == 0


def test_files_of_different_fields_read_as_one_table_with_nulls_where_a_file_lacks_one(engine, store):
    store.replace_window(engine, "calls", T0, T0 + HOUR, calls(2, T0, prefix="a", notes="first"),
                         collected_at=COLLECTED, account_id=DEFAULT_ACCOUNT_ID)
    store.replace_window(engine, "calls", T0 + HOUR, T0 + 2 * HOUR,
                         calls(2, T0 + HOUR, prefix="b", csat_score="5").drop_columns(["wait_time"]),
                         collected_at=COLLECTED, account_id=DEFAULT_ACCOUNT_ID)
    read = store.read_window(engine, "calls", T0, T0 + 2 * HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert read.column_names == [OWNER_COLUMN, KEY_COLUMN, "call_id", "type", "talk_time", "wait_time", "ring_groups",
                                 "start_at", "notes", "csat_score"]
    assert read.column("notes").to_pylist() == ["first", "first", None, None]
    assert read.column("csat_score").to_pylist() == [None, None, "5", "5"]
    assert read.column("wait_time").to_pylist() == ["0", "1", None, None]
    assert all(read.schema.field(name).type == pa.string() for name in read.column_names if name != OWNER_COLUMN)

    picked = store.read_window(engine, "calls", T0, T0 + 2 * HOUR, columns=["csat_score", KEY_COLUMN, "no_such_field"],
                               account_id=DEFAULT_ACCOUNT_ID)
    assert picked.column_names == ["csat_score", KEY_COLUMN, "no_such_field"]
    assert picked.to_pydict() == {"csat_score": [None, None, "5", "5"], KEY_COLUMN: ["a-0", "a-1", "b-0", "b-1"],
                                  "no_such_field": [None] * 4}


def test_a_window_without_files_reads_as_an_empty_table_of_the_asked_columns(engine, store):
    empty = store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert empty.num_rows == 0 and empty.schema == pa.schema([(OWNER_COLUMN, OWNER_TYPE), (KEY_COLUMN, pa.string())])
    picked = store.read_window(engine, "calls", T0, T0 + HOUR, columns=[OWNER_COLUMN, "type"],
                               account_id=DEFAULT_ACCOUNT_ID)
    assert picked.schema == pa.schema([(OWNER_COLUMN, OWNER_TYPE), ("type", pa.string())])


def test_interval_counts_match_a_count_of_the_owning_times(engine, store):
    rng = np.random.default_rng(7)
    offsets = np.sort(rng.integers(0, 6 * 3600 * 10**6, size=500))  # microseconds into six hours
    owners = [T0 + timedelta(microseconds=int(us)) for us in offsets]
    entries = calls(500, T0)
    entries = entries.set_column(entries.column_names.index(OWNER_COLUMN), OWNER_COLUMN,
                                 pa.array(owners, type=OWNER_TYPE))
    # Two files and a split: the counts must not depend on how the window is cut into files.
    store.replace_window(engine, "calls", T0, T0 + 6 * HOUR, entries, collected_at=COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    store.replace_window(engine, "calls", T0 + 2 * HOUR, T0 + 3 * HOUR, entries, collected_at=COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)

    window = (T0 + 50 * MINUTE, T0 + 5 * HOUR)
    counts = store.interval_counts(engine, "calls", *window, account_id=DEFAULT_ACCOUNT_ID)
    times = pd.Series(pd.to_datetime(owners, utc=True))
    times = times[(times >= pd.Timestamp(window[0])) & (times < pd.Timestamp(window[1]))]
    expected = times.dt.floor("15min").value_counts().sort_index()
    assert counts.index.dtype == "datetime64[ns, UTC]" and counts.dtype == "int64"
    assert counts.to_dict() == expected.to_dict()
    assert counts.index[0] == pd.Timestamp(T0 + 45 * MINUTE) and counts.sum() == len(times)
    hourly = store.interval_counts(engine, "calls", *window, minutes=60, account_id=DEFAULT_ACCOUNT_ID)
    assert hourly.sum() == len(times) and list(hourly.index) == [pd.Timestamp(T0 + h * HOUR) for h in range(5)]


def test_interval_counts_of_a_window_without_entries_are_empty(engine, store):
    store.replace_window(engine, "calls", T0, T0 + HOUR, calls(0, T0), collected_at=COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    counts = store.interval_counts(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert counts.empty and counts.dtype == "int64" and counts.index.dtype == "datetime64[ns, UTC]"
