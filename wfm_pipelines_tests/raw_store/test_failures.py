"""A raw store write that fails at any point leaves the window with its old file or its new one, never neither;
a damaged file is reported, naming it, never read silently."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.raw_store import RawFileError, RawStore, RawStoreFullError
from wfm_pipelines.raw_store.files import TEMPORARY_SUFFIX
from wfm_pipelines_tests.raw_store import child
from wfm_pipelines_tests.raw_store.entries import (HOUR, T0, a_day_after_the_newest_file, calls, files_on_disk,
                                                  just_after_the_newest_file, keys_of)

ROOT = Path(__file__).resolve().parents[2]
WHOLE = (T0, T0 + 3 * HOUR)


def run_child(scenario: str, database_url: str, store: RawStore) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wfm_pipelines_tests.raw_store.child", scenario, database_url,
                           store.root], capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.fixture
def old_state(engine, store):
    """The old window written; returns (its catalogue rows, its entries as read)."""
    store.replace_window(engine, "calls", *child.OLD_WINDOW, child.old_entries(), collected_at=child.COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    return (store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID),
            store.read_window(engine, "calls", *WHOLE, account_id=DEFAULT_ACCOUNT_ID))


def test_a_full_disk_leaves_the_previous_file_and_catalogue_row(database_url, engine, store, old_state):
    catalogued, entries = old_state
    result = run_child("disk_full", database_url, store)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"REFUSED {errno.EFBIG} "), result.stdout  # the kernel refused the write
    assert store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) == catalogued
    assert store.read_window(engine, "calls", *WHOLE, account_id=DEFAULT_ACCOUNT_ID).equals(entries)
    assert files_on_disk(store) == {f.path for f in catalogued}  # no half-written or temporary file is left


def test_a_kill_before_the_catalogue_commits_leaves_the_old_state_and_an_orphan(database_url, engine, store,
                                                                                old_state):
    catalogued, entries = old_state
    result = run_child("kill_before_commit", database_url, store)
    assert result.returncode == -9, result.stdout + result.stderr
    assert store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) == catalogued
    assert store.read_window(engine, "calls", *WHOLE, account_id=DEFAULT_ACCOUNT_ID).equals(entries)
    orphans = files_on_disk(store) - {f.path for f in catalogued}
    assert orphans and all(path.endswith(".parquet") for path in orphans)  # the new file and the split remainders
    # An orphan is removed only once old enough that no writer can still be about to catalogue it.
    assert store.remove_orphans(engine, now=just_after_the_newest_file(store), account_id=DEFAULT_ACCOUNT_ID) == []
    later = a_day_after_the_newest_file(store)
    assert sorted(store.remove_orphans(engine, now=later, account_id=DEFAULT_ACCOUNT_ID)) == sorted(orphans)
    assert files_on_disk(store) == {f.path for f in catalogued}
    assert store.read_window(engine, "calls", *WHOLE, account_id=DEFAULT_ACCOUNT_ID).equals(entries)


def test_a_kill_after_the_catalogue_commits_leaves_the_new_state_and_the_old_file_as_an_orphan(
        database_url, engine, store, old_state):
    catalogued, _ = old_state
    result = run_child("kill_after_commit", database_url, store)
    assert result.returncode == -9, result.stdout + result.stderr
    now_catalogued = store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID)
    assert [(f.window_start, f.window_end) for f in now_catalogued] == [
        (T0, T0 + HOUR), child.NEW_WINDOW, (T0 + 2 * HOUR, T0 + 3 * HOUR)]
    read = store.read_window(engine, "calls", *WHOLE, account_id=DEFAULT_ACCOUNT_ID)
    expected = child.old_entries()
    assert keys_of(read) == (keys_of(expected)[:6] + keys_of(child.new_entries()) + keys_of(expected)[12:])
    later = a_day_after_the_newest_file(store)
    assert store.remove_orphans(engine, now=later, account_id=DEFAULT_ACCOUNT_ID) == [catalogued[0].path]
    assert files_on_disk(store) == {f.path for f in now_catalogued}


def test_an_error_at_the_commit_leaves_the_old_state_and_no_new_file(engine, store, old_state):
    catalogued, entries = old_state

    def refuse_commit(_connection):
        raise RuntimeError("the database went away at the commit")

    sa.event.listen(engine, "commit", refuse_commit)
    try:
        with pytest.raises(RuntimeError, match="went away at the commit"):
            store.replace_window(engine, "calls", *child.NEW_WINDOW, child.new_entries(),
                                 collected_at=child.COLLECTED + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    finally:
        sa.event.remove(engine, "commit", refuse_commit)
    assert store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) == catalogued
    assert store.read_window(engine, "calls", *WHOLE, account_id=DEFAULT_ACCOUNT_ID).equals(entries)
    assert files_on_disk(store) == {f.path for f in catalogued}


def test_leftover_temporary_files_are_orphans_too(engine, store, old_state):
    catalogued, _ = old_state
    leftover = Path(store.files.base) / "calls" / "2026" / "03" / "02" / ("crashed.parquet" + TEMPORARY_SUFFIX)
    leftover.write_bytes(b"PAR1 half written")
    later = a_day_after_the_newest_file(store)
    removed = store.remove_orphans(engine, now=later, account_id=DEFAULT_ACCOUNT_ID)
    assert removed == ["calls/2026/03/02/crashed.parquet" + TEMPORARY_SUFFIX]
    assert files_on_disk(store) == {f.path for f in catalogued}


# --- damaged files ----------------------------------------------------------------------------------


@pytest.fixture
def one_file(engine, store):
    written = store.replace_window(engine, "calls", T0, T0 + HOUR, calls(40, T0), collected_at=child.COLLECTED,
                                   account_id=DEFAULT_ACCOUNT_ID)
    return written.file, Path(store.files.base) / written.file.path


def assert_names_the_file(raised: pytest.ExceptionInfo, raw_file, problem: str) -> None:
    message = str(raised.value)
    assert raised.value.path == raw_file.path
    assert raw_file.path in message and "'calls' entries of [2026-03-02 00:00, 2026-03-02 01:00) UTC" in message
    assert problem in message, message
    assert str(Path(raw_file.path).parent) not in message.replace(raw_file.path, "")  # relative, not absolute


def test_a_truncated_file_is_reported_naming_it(engine, store, one_file):
    raw_file, path = one_file
    path.write_bytes(path.read_bytes()[: raw_file.bytes // 2])
    with pytest.raises(RawFileError) as raised:
        store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert_names_the_file(raised, raw_file, f"is {raw_file.bytes // 2} bytes where its catalogue row says "
                                            f"{raw_file.bytes}")
    with pytest.raises(RawFileError):
        store.interval_counts(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)


def test_a_corrupted_file_is_reported_naming_it(engine, store, one_file):
    raw_file, path = one_file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RawFileError) as raised:
        store.read_window(engine, "calls", T0, T0 + HOUR, columns=["type"], account_id=DEFAULT_ACCOUNT_ID)
    assert_names_the_file(raised, raw_file, "has sha256")
    assert "corrupted or replaced" in str(raised.value)


def test_a_file_whose_sha256_differs_from_its_catalogue_row_is_reported(engine, store, one_file):
    raw_file, _ = one_file
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE talkdesk_raw_file SET sha256 = :digest"), {"digest": "0" * 64})
    with pytest.raises(RawFileError) as raised:
        store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert_names_the_file(raised, raw_file, f"where its catalogue row says {'0' * 16}...")


def test_a_file_that_is_not_parquet_is_reported_even_when_its_row_matches_it(engine, store, one_file):
    raw_file, path = one_file
    garbage = b"<html>not a report</html>" * 10
    path.write_bytes(garbage)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE talkdesk_raw_file SET sha256 = :digest, bytes = :size"),
                           {"digest": hashlib.sha256(garbage).hexdigest(), "size": len(garbage)})
    with pytest.raises(RawFileError) as raised:
        store.read_window(engine, "calls", T0, T0 + HOUR, account_id=DEFAULT_ACCOUNT_ID)
    assert_names_the_file(raised, raw_file, "is not a readable Parquet file")


def test_a_missing_file_is_reported_and_verify_lists_every_problem(engine, store, one_file):
    raw_file, path = one_file
    other = store.replace_window(engine, "calls", T0 + HOUR, T0 + 2 * HOUR, calls(5, T0 + HOUR),
                                 collected_at=child.COLLECTED, account_id=DEFAULT_ACCOUNT_ID).file
    healthy = store.replace_window(engine, "user_status", T0, T0 + HOUR, calls(5, T0),
                                   collected_at=child.COLLECTED, account_id=DEFAULT_ACCOUNT_ID).file
    os.remove(path)
    Path(store.files.base, other.path).write_bytes(b"")
    problems = store.verify(engine, account_id=DEFAULT_ACCOUNT_ID)
    assert [(p.path, p.problem) for p in problems] == [
        (raw_file.path, "is missing"), (other.path, f"is 0 bytes where its catalogue row says {other.bytes} "
                                                    "(truncated or overwritten)")]
    assert store.verify(engine, "user_status", account_id=DEFAULT_ACCOUNT_ID) == [] and healthy.rows == 5


def test_a_damaged_file_reaching_into_a_new_window_refuses_the_write_and_keeps_everything(engine, store):
    """Its entries outside the new window cannot be kept without reading it: the write fails, nothing changes."""
    old = store.replace_window(engine, "calls", T0, T0 + 3 * HOUR, calls(30, T0, every=timedelta(minutes=6)),
                               collected_at=child.COLLECTED, account_id=DEFAULT_ACCOUNT_ID).file
    path = Path(store.files.base) / old.path
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(RawFileError, match="truncated"):
        store.replace_window(engine, "calls", T0 + HOUR, T0 + 2 * HOUR, calls(3, T0 + HOUR),
                             collected_at=child.COLLECTED, account_id=DEFAULT_ACCOUNT_ID)
    assert store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) == [old]
    assert files_on_disk(store) == {old.path}
    # A window that covers the whole damaged file replaces it without reading it.
    store.replace_window(engine, "calls", T0, T0 + 3 * HOUR, calls(3, T0), collected_at=child.COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    assert keys_of(store.read_window(engine, "calls", T0, T0 + 3 * HOUR,
                                     account_id=DEFAULT_ACCOUNT_ID)) == ["c-0", "c-1", "c-2"]


def test_a_volume_with_less_free_space_than_kept_free_refuses_the_write_before_anything_changes(engine, store,
                                                                                              old_state):
    catalogued, entries = old_state
    # The volume "past" the threshold: the store keeps free 10 GiB more than the volume has.
    full = RawStore(store.root, min_free_mb=store.free_mb() + 10 * 1024)
    with pytest.raises(RawStoreFullError) as refused:
        full.replace_window(engine, "calls", *child.OLD_WINDOW, calls(5, T0), collected_at=child.COLLECTED,
                            account_id=DEFAULT_ACCOUNT_ID)
    message = str(refused.value)
    assert f"the raw store at {store.root} has " in message and "MiB free, less than the" in message
    assert "WFM_MIN_FREE_DISK_MB" in message and refused.value.free_mib < refused.value.min_free_mib
    assert store.catalogued(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) == catalogued
    assert store.read_window(engine, "calls", *WHOLE, account_id=DEFAULT_ACCOUNT_ID).equals(entries)
    assert files_on_disk(store) == {f.path for f in catalogued}
    # With room (or the check off) the same write goes through.
    roomy = RawStore(store.root, min_free_mb=1)
    roomy.replace_window(engine, "calls", *child.OLD_WINDOW, calls(5, T0), collected_at=child.COLLECTED,
                         account_id=DEFAULT_ACCOUNT_ID)
    assert store.read_window(engine, "calls", *WHOLE, account_id=DEFAULT_ACCOUNT_ID).num_rows == 5


def test_free_space_is_judged_on_the_nearest_existing_folder_of_a_store_not_created_yet(tmp_path):
    assert RawStore(tmp_path / "not" / "yet", min_free_mb=1).free_mb() > 0
