"""Two accounts in one raw store (issue 12), on SQLite and PostgreSQL: the same report type and window are two
files, each account's own; replacing, reading, counting, verifying and removing orphans never reach the other
account's files; the default account's files keep the layout they had before accounts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from wfm_pipelines.db.guards import ShrinkGuard, ShrinkRefusedError
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines_tests.raw_store.entries import HOUR, MINUTE, T0, a_day_after_the_newest_file, calls, files_on_disk, keys_of

COLLECTED = T0 + timedelta(days=1)
WINDOW = (T0, T0 + HOUR)


def test_the_same_report_type_and_window_of_two_accounts_are_two_files(engine, store):
    north = store.replace_window(engine, "calls", *WINDOW, calls(5, T0, prefix="n"), collected_at=COLLECTED,
                                 account_id="north")
    south = store.replace_window(engine, "calls", *WINDOW, calls(3, T0, prefix="s"), collected_at=COLLECTED,
                                 account_id="south")
    default = store.replace_window(engine, "calls", *WINDOW, calls(2, T0, prefix="d"), collected_at=COLLECTED,
                                   account_id=DEFAULT_ACCOUNT_ID)

    assert north.file.path.startswith("accounts/north/calls/2026/03/02/calls_20260302T000000Z_")
    assert south.file.path.startswith("accounts/south/calls/2026/03/02/")
    assert default.file.path.startswith("calls/2026/03/02/")  # the layout before accounts
    assert files_on_disk(store) == {north.file.path, south.file.path, default.file.path}
    assert pq.read_schema(Path(store.files.base) / south.file.path).metadata[b"wfm.account_id"] == b"south"
    for account, written, prefix, count in (("north", north, "n", 5), ("south", south, "s", 3),
                                            (DEFAULT_ACCOUNT_ID, default, "d", 2)):
        assert store.catalogued(engine, "calls", account_id=account) == [written.file]
        assert written.file.account_id == account and written.replaced == []
        assert keys_of(store.read_window(engine, "calls", *WINDOW, account_id=account)) == [
            f"{prefix}-{i}" for i in range(count)]
        assert store.interval_counts(engine, "calls", *WINDOW, account_id=account).sum() == count
    assert store.read_window(engine, "calls", *WINDOW, account_id="east").num_rows == 0


def test_replacing_one_accounts_window_leaves_the_other_accounts_file(engine, store):
    south = store.replace_window(engine, "calls", T0, T0 + 2 * HOUR, calls(60, T0, every=2 * MINUTE, prefix="s"),
                                 collected_at=COLLECTED, account_id="south")
    store.replace_window(engine, "calls", *WINDOW, calls(5, T0, prefix="n"), collected_at=COLLECTED,
                         account_id="north")
    again = store.replace_window(engine, "calls", T0 + 30 * MINUTE, T0 + 90 * MINUTE,
                                 calls(2, T0 + 30 * MINUTE, prefix="m"), collected_at=COLLECTED, account_id="north")

    assert [f.account_id for f in again.replaced] == ["north"]  # not south's file, though it overlaps
    assert store.catalogued(engine, account_id="south") == [south.file]
    assert south.file.path in files_on_disk(store)
    assert store.verify(engine, account_id="south") == []
    assert keys_of(store.read_window(engine, "calls", T0, T0 + 2 * HOUR, account_id="north")) == [
        "n-0", "n-1", "n-2", "n-3", "n-4", "m-0", "m-1"]
    assert all(f.path.startswith("accounts/north/") for f in store.catalogued(engine, account_id="north"))
    assert store.read_window(engine, "calls", T0, T0 + 2 * HOUR, account_id="south").num_rows == 60


def test_the_shrink_guard_compares_an_account_with_itself(engine, store):
    guard = ShrinkGuard(0.5, 20)
    store.replace_window(engine, "calls", *WINDOW, calls(50, T0, prefix="n"), collected_at=COLLECTED,
                         account_id="north")
    written = store.replace_window(engine, "calls", *WINDOW, calls(1, T0, prefix="s"), collected_at=COLLECTED,
                                   guard=guard, account_id="south")
    assert written.stored_rows == 0
    with pytest.raises(ShrinkRefusedError, match="1 entries where 50 are stored"):
        store.replace_window(engine, "calls", *WINDOW, calls(1, T0, prefix="x"), collected_at=COLLECTED,
                             guard=guard, account_id="north")
    assert store.read_window(engine, "calls", *WINDOW, account_id="north").num_rows == 50


def test_verify_and_orphans_are_per_account(engine, store):
    north = store.replace_window(engine, "calls", *WINDOW, calls(5, T0, prefix="n"), collected_at=COLLECTED,
                                 account_id="north")
    default = store.replace_window(engine, "calls", *WINDOW, calls(5, T0, prefix="d"), collected_at=COLLECTED,
                                   account_id=DEFAULT_ACCOUNT_ID)
    (Path(store.files.base) / north.file.path).write_bytes(b"not parquet")
    assert [p.path for p in store.verify(engine, account_id="north")] == [north.file.path]
    assert store.verify(engine, account_id=DEFAULT_ACCOUNT_ID) == []

    base = Path(store.files.base)
    orphans = {"north": "accounts/north/calls/2026/03/02/left.parquet",
               "south": "accounts/south/user_status/2026/03/02/left.parquet",
               DEFAULT_ACCOUNT_ID: "calls/2026/03/02/left.parquet"}
    for path in orphans.values():
        (base / path).parent.mkdir(parents=True, exist_ok=True)
        (base / path).write_bytes(b"orphan")
    later = a_day_after_the_newest_file(store)
    assert store.remove_orphans(engine, now=later, account_id="south") == [orphans["south"]]
    assert store.remove_orphans(engine, now=later, account_id=DEFAULT_ACCOUNT_ID) == [orphans[DEFAULT_ACCOUNT_ID]]
    assert store.remove_orphans(engine, now=later, account_id="north") == [orphans["north"]]
    assert files_on_disk(store) == {north.file.path, default.file.path}


def test_an_account_id_that_is_not_one_is_refused_before_any_file_is_written(engine, store):
    for not_an_id in ("../north", "North", ""):
        with pytest.raises(ValueError, match="account id"):
            store.replace_window(engine, "calls", *WINDOW, calls(1, T0), collected_at=COLLECTED, account_id=not_an_id)
    with pytest.raises(ValueError, match="report type 'accounts'"):  # the folder of the other accounts
        store.replace_window(engine, "accounts", *WINDOW, calls(1, T0), collected_at=COLLECTED,
                             account_id=DEFAULT_ACCOUNT_ID)
    assert files_on_disk(store) == set()
