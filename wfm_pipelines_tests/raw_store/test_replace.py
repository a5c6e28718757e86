"""Replacing a window of raw entries: what is written, what is replaced, what is kept, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wfm_pipelines.db.guards import ShrinkGuard, ShrinkRefusedError
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.raw_store import RawEntriesError
from wfm_pipelines.talkdesk.report_table import BROKEN_COLUMN, KEY_COLUMN, OWNER_COLUMN, OWNER_TYPE, entries_to_table
from wfm_pipelines_tests.raw_store.entries import HOUR, MINUTE, T0, calls, files_on_disk, keys_of, windows, with_owner

COLLECTED = T0 + timedelta(days=1)
LATER = COLLECTED + HOUR


def test_a_window_reads_back_exactly_from_one_compressed_sorted_file(engine, store):
    entries = entries_to_table([
        {"call_id": "b", "type": "inbound", "talk_time": 12.5, "notes": "café ☕", "ring_groups": ["Sales", "VIP"]},
        {"call_id": "a", "type": "missed", "user_name": "Ana \ud83d", "notes": None},
        {"call_id": "c", "type": "abandoned", "wait_time": 0},
    ])
    owners = [T0 + 2 * MINUTE, T0 + MINUTE, T0 + 2 * MINUTE]
    entries = with_owner(entries, owners, ["b", "a", "c"])

    written = store.replace_window(engine, "calls", T0, T0 + HOUR, entries, collected_at=COLLECTED,
                                   account_id=DEFAULT_ACCOUNT_ID)

    read = store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert keys_of(read) == ["a", "b", "c"]  # by owning time, then key
    assert read.column(OWNER_COLUMN).type == OWNER_TYPE
    assert read.column(OWNER_COLUMN).to_pylist() == [T0 + MINUTE, T0 + 2 * MINUTE, T0 + 2 * MINUTE]
    by_key = {row[KEY_COLUMN]: row for row in read.to_pylist()}
    assert by_key["b"]["talk_time"] == "12.5" and by_key["b"]["ring_groups"] == '["Sales","VIP"]'
    assert by_key["b"]["notes"] == "café ☕" and by_key["a"]["notes"] is None
    assert by_key["a"]["user_name"] == "Ana \ufffd" and by_key["a"][BROKEN_COLUMN] == "user_name"
    assert by_key["c"]["wait_time"] == "0" and by_key["c"]["talk_time"] is None

    raw_file = written.file
    assert store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) == [raw_file]
    assert (raw_file.window_start, raw_file.window_end, raw_file.rows, raw_file.collected_at) == (
        T0, T0 + HOUR, 3, COLLECTED)
    on_disk = Path(store.files.base) / raw_file.path
    assert files_on_disk(store) == {raw_file.path}
    assert raw_file.path.startswith("calls/2026/03/02/calls_20260302T000000Z_20260302T010000Z_")
    assert raw_file.bytes == on_disk.stat().st_size
    assert raw_file.sha256 == hashlib.sha256(on_disk.read_bytes()).hexdigest()
    metadata = pq.ParquetFile(on_disk).metadata
    column_chunks = [metadata.row_group(0).column(i) for i in range(metadata.num_columns)]
    assert {chunk.compression for chunk in column_chunks} == {"ZSTD"}
    assert all(any("DICTIONARY" in encoding for encoding in chunk.encodings) for chunk in column_chunks)
    assert (written.stored_rows, written.rows_outside_window, written.replaced, written.remainders) == (0, 0, [], [])


def test_entries_owned_outside_the_window_are_not_written_and_are_counted(engine, store):
    entries = calls(10, T0 - 2 * MINUTE)  # owned at T0-2m .. T0+7m
    entries = pa.concat_tables([entries, with_owner(entries_to_table([{"call_id": "no-time"}]), [None], ["no-time"])],
                               promote_options="default")
    written = store.replace_window(engine, "calls", T0, T0 + 5 * MINUTE, entries, collected_at=COLLECTED,
                                   account_id=DEFAULT_ACCOUNT_ID)
    assert written.rows_outside_window == 2 + 3 + 1  # before, at or after the end, no owning time
    stored = store.read_window(engine, "calls", T0 - HOUR, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert keys_of(stored) == [f"c-{i}" for i in range(2, 7)]


def test_a_window_written_again_replaces_its_entries_and_deletes_the_old_file(engine, store):
    first = store.replace_window(engine, "calls", T0, T0 + HOUR, calls(30, T0), collected_at=COLLECTED,
                                 account_id=DEFAULT_ACCOUNT_ID)
    second = store.replace_window(engine, "calls", T0, T0 + HOUR, calls(20, T0, prefix="n"), collected_at=LATER,
                                  account_id=DEFAULT_ACCOUNT_ID)
    assert second.replaced == [first.file] and second.stored_rows == 30 and second.remainders == []
    stored = store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert keys_of(stored) == [f"n-{i}" for i in range(20)]
    assert store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) == [second.file]
    assert files_on_disk(store) == {second.file.path}
    assert first.file.path != second.file.path  # a file is never overwritten in place


def test_files_wholly_inside_a_larger_window_are_replaced(engine, store):
    for hour in range(3):
        store.replace_window(engine, "calls", T0 + hour * HOUR, T0 + (hour + 1) * HOUR,
                             calls(6, T0 + hour * HOUR, every=10 * MINUTE, prefix=f"h{hour}"), collected_at=COLLECTED,
                             account_id=DEFAULT_ACCOUNT_ID)
    written = store.replace_window(engine, "calls", T0, T0 + 3 * HOUR, calls(5, T0, every=30 * MINUTE, prefix="day"),
                                   collected_at=LATER, account_id=DEFAULT_ACCOUNT_ID)
    assert len(written.replaced) == 3 and written.stored_rows == 18 and written.remainders == []
    assert windows(store, engine) == [(T0, T0 + 3 * HOUR, 5)]
    assert files_on_disk(store) == {written.file.path}


def test_a_window_inside_a_file_splits_it_and_the_rest_keeps_its_entries(engine, store):
    old = store.replace_window(engine, "calls", T0, T0 + 6 * HOUR, calls(36, T0, every=10 * MINUTE, prefix="old"),
                               collected_at=COLLECTED, account_id=DEFAULT_ACCOUNT_ID)
    new = store.replace_window(engine, "calls", T0 + 2 * HOUR, T0 + 3 * HOUR,
                               calls(3, T0 + 2 * HOUR + 5 * MINUTE, every=20 * MINUTE, prefix="new"),
                               collected_at=LATER, account_id=DEFAULT_ACCOUNT_ID)

    assert new.replaced == [old.file] and new.stored_rows == 6  # the old file's entries in 02:00-03:00
    assert windows(store, engine) == [(T0, T0 + 2 * HOUR, 12), (T0 + 2 * HOUR, T0 + 3 * HOUR, 3),
                                      (T0 + 3 * HOUR, T0 + 6 * HOUR, 18)]
    assert [f.collected_at for f in new.remainders] == [COLLECTED, COLLECTED]  # collected when the old file was
    whole = store.read_window(engine, "calls", T0, T0 + 6 * HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert keys_of(whole) == ([f"old-{i}" for i in range(12)] + [f"new-{i}" for i in range(3)]
                              + [f"old-{i}" for i in range(18, 36)])
    # the old file is gone
    assert files_on_disk(store) == {f.path for f in store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID)}


def test_a_window_overlapping_the_edges_of_two_files_rewrites_both(engine, store):
    store.replace_window(engine, "calls", T0, T0 + 2 * HOUR, calls(12, T0, every=10 * MINUTE, prefix="a"),
                         collected_at=COLLECTED, account_id=DEFAULT_ACCOUNT_ID)
    store.replace_window(engine, "calls", T0 + 2 * HOUR, T0 + 4 * HOUR,
                         calls(12, T0 + 2 * HOUR, every=10 * MINUTE, prefix="b"), collected_at=COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    # The next tick's trailing window: 01:30-02:30.
    new = store.replace_window(engine, "calls", T0 + 90 * MINUTE, T0 + 150 * MINUTE,
                               calls(4, T0 + 90 * MINUTE, every=15 * MINUTE, prefix="n"), collected_at=LATER,
                               account_id=DEFAULT_ACCOUNT_ID)
    assert new.stored_rows == 3 + 3 and len(new.replaced) == 2 and len(new.remainders) == 2
    assert windows(store, engine) == [(T0, T0 + 90 * MINUTE, 9), (T0 + 90 * MINUTE, T0 + 150 * MINUTE, 4),
                                      (T0 + 150 * MINUTE, T0 + 4 * HOUR, 9)]
    assert keys_of(store.read_window(engine, "calls", T0, T0 + 4 * HOUR, account_id=DEFAULT_ACCOUNT_ID)) == (
        [f"a-{i}" for i in range(9)] + [f"n-{i}" for i in range(4)] + [f"b-{i}" for i in range(3, 12)])
    assert files_on_disk(store) == {f.path for f in store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID)}


def test_a_window_without_entries_is_collected_and_empty(engine, store):
    store.replace_window(engine, "calls", T0, T0 + HOUR, calls(10, T0), collected_at=COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    written = store.replace_window(engine, "calls", T0, T0 + HOUR, calls(0, T0), collected_at=LATER,
                                   account_id=DEFAULT_ACCOUNT_ID)
    assert written.file.rows == 0 and written.stored_rows == 10
    assert windows(store, engine) == [(T0, T0 + HOUR, 0)]  # "collected, empty"
    assert store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID).num_rows == 0
    assert Path(store.files.base, written.file.path).stat().st_size == written.file.bytes > 0
    assert store.catalogued(engine, "calls", T0 + HOUR, T0 + 2 * HOUR,
                            account_id=DEFAULT_ACCOUNT_ID) == []  # never collected: no file at all


def test_report_types_are_kept_apart(engine, store):
    store.replace_window(engine, "calls", T0, T0 + HOUR, calls(5, T0), collected_at=COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    store.replace_window(engine, "user_status", T0, T0 + HOUR, calls(3, T0, prefix="s"), collected_at=COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    store.replace_window(engine, "calls", T0, T0 + HOUR, calls(4, T0, prefix="n"), collected_at=LATER,
                         account_id=DEFAULT_ACCOUNT_ID)
    stored = store.read_window(engine, "user_status", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert keys_of(stored) == ["s-0", "s-1", "s-2"]
    stored = store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert keys_of(stored) == ["n-0", "n-1", "n-2", "n-3"]


GUARD = ShrinkGuard(share=0.5, min_drop=20)


def test_the_shrink_guard_refuses_much_fewer_entries_and_keeps_the_old_file(engine, store):
    old = store.replace_window(engine, "calls", T0, T0 + HOUR, calls(50, T0), collected_at=COLLECTED,
                               account_id=DEFAULT_ACCOUNT_ID)
    for answer in (calls(10, T0, prefix="n"), calls(0, T0)):
        with pytest.raises(ShrinkRefusedError) as refused:
            store.replace_window(engine, "calls", T0, T0 + HOUR, answer, collected_at=LATER, guard=GUARD,
                                 account_id=DEFAULT_ACCOUNT_ID)
        assert f"{answer.num_rows} entries where 50 are stored" in str(refused.value)
        assert "the raw 'calls' entries of [2026-03-02 00:00, 2026-03-02 01:00) UTC" in str(refused.value)
        assert store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) == [old.file]
        assert files_on_disk(store) == {old.file.path}  # the refused file is removed
        stored = store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
        assert keys_of(stored) == keys_of(calls(50, T0))
    # Enough entries, or no guard (the run accepted a smaller answer), replace it.
    store.replace_window(engine, "calls", T0, T0 + HOUR, calls(30, T0, prefix="n"), collected_at=LATER, guard=GUARD,
                         account_id=DEFAULT_ACCOUNT_ID)
    store.replace_window(engine, "calls", T0, T0 + HOUR, calls(1, T0, prefix="m"), collected_at=LATER,
                         account_id=DEFAULT_ACCOUNT_ID)
    assert keys_of(store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)) == ["m-0"]


def test_the_shrink_guard_counts_only_the_entries_inside_the_window(engine, store):
    # 60 entries over six hours, 10 of them in 02:00-03:00: an empty answer there is refused (10 >= 5 stored),
    # a window never collected has no guard.
    store.replace_window(engine, "calls", T0, T0 + 6 * HOUR, calls(60, T0, every=6 * MINUTE), collected_at=COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    before = files_on_disk(store)
    with pytest.raises(ShrinkRefusedError, match="0 entries where 10 are stored"):
        store.replace_window(engine, "calls", T0 + 2 * HOUR, T0 + 3 * HOUR, calls(0, T0), collected_at=LATER,
                             guard=GUARD, account_id=DEFAULT_ACCOUNT_ID)
    assert files_on_disk(store) == before  # neither the new file nor the split remainders are left
    assert windows(store, engine) == [(T0, T0 + 6 * HOUR, 60)]
    fresh = store.replace_window(engine, "calls", T0 + 6 * HOUR, T0 + 7 * HOUR, calls(0, T0), collected_at=LATER,
                                 guard=GUARD, account_id=DEFAULT_ACCOUNT_ID)
    assert fresh.stored_rows == 0


@pytest.mark.parametrize(("entries", "problem"), [
    (calls(2, T0).drop_columns([OWNER_COLUMN]), "no '_wfm_owner_at' column"),
    (calls(2, T0).drop_columns([KEY_COLUMN]), "no '_wfm_entry_key' column"),
    (calls(2, T0).set_column(6, OWNER_COLUMN, pa.array([T0.replace(tzinfo=None)] * 2, type=pa.timestamp("us"))),
     "naive time is refused"),
    (calls(2, T0).set_column(7, KEY_COLUMN, pa.array(["a", None])), "1 null keys"),
    (calls(2, T0).append_column("talk_seconds", pa.array([1, 2])), "'talk_seconds' is int64"),
    (pa.concat_tables([calls(2, T0), calls(1, T0)]), "1 entries repeat an owning time and key, e.g. key 'c-0'"),
])
def test_entries_of_the_wrong_shape_are_refused_before_anything_is_written(engine, store, entries, problem):
    assert entries.column_names[6:8] == [OWNER_COLUMN, KEY_COLUMN] or problem.startswith("no ")
    with pytest.raises(RawEntriesError, match=problem):
        store.replace_window(engine, "calls", T0, T0 + HOUR, entries, collected_at=COLLECTED,
                             account_id=DEFAULT_ACCOUNT_ID)
    assert files_on_disk(store) == set() and store.catalogued(engine, account_id=DEFAULT_ACCOUNT_ID) == []


def test_a_bad_report_type_or_window_is_refused(engine, store):
    with pytest.raises(ValueError, match="report type '../calls'"):
        store.replace_window(engine, "../calls", T0, T0 + HOUR, calls(1, T0), collected_at=COLLECTED,
                             account_id=DEFAULT_ACCOUNT_ID)
    with pytest.raises(ValueError, match="empty window"):
        store.replace_window(engine, "calls", T0, T0, calls(1, T0), collected_at=COLLECTED,
                             account_id=DEFAULT_ACCOUNT_ID)
    with pytest.raises(ValueError, match="no timezone"):
        store.replace_window(engine, "calls", T0.replace(tzinfo=None), T0 + HOUR, calls(1, T0),
                             collected_at=COLLECTED, account_id=DEFAULT_ACCOUNT_ID)
    assert files_on_disk(store) == set()


def test_writers_of_overlapping_windows_take_turns_and_leave_one_file_per_time(engine, store):
    """Two writers replacing overlapping windows of shifting sizes at once: no error, and afterwards the
    catalogue's windows never overlap, every file is on disk and verifies, and nothing else is."""
    errors: list[BaseException] = []

    def writer(offset_minutes: int, prefix: str) -> None:
        try:
            for round_ in range(6):
                start = T0 + timedelta(minutes=offset_minutes + 25 * round_)
                store.replace_window(engine, "calls", start, start + 2 * HOUR,
                                     calls(24, start, every=5 * MINUTE, prefix=f"{prefix}{round_}"),
                                     collected_at=COLLECTED, account_id=DEFAULT_ACCOUNT_ID)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(0, "x")), threading.Thread(target=writer, args=(10, "y"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    catalogued = store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID)
    for before, after in zip(catalogued, catalogued[1:]):
        assert before.window_end <= after.window_start
    assert files_on_disk(store) == {f.path for f in catalogued}
    assert store.verify(engine, account_id=DEFAULT_ACCOUNT_ID) == []
    whole = store.read_window(engine, "calls", T0 - HOUR, T0 + 6 * HOUR, account_id=DEFAULT_ACCOUNT_ID)
    owners_and_keys = list(zip(whole.column(OWNER_COLUMN).to_pylist(), keys_of(whole)))
    assert len(owners_and_keys) == len(set(owners_and_keys)) == sum(f.rows for f in catalogued)
