"""Overlapping writers take turns, malformed entries are kept once, and the shrink guard refuses inside the
write transaction (issue 9, items 2, 6 and 9), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from wfm_pipelines.db import guards
from wfm_pipelines.db.configuration_upsert import upsert_configuration
from wfm_pipelines.db.queries import read_table, read_window
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.db.window_writer import replace_window
from wfm_pipelines_tests.db.db_frames import T0, quarters, volume_frame

HOUR = timedelta(hours=1)


def write_volume(engine, start, end, seed, pause=0.0, started: threading.Event | None = None, errors=None):
    frame = volume_frame(quarters(start, int((end - start) / timedelta(minutes=15))), ["q1", "q2"], seed=seed)

    def hold(_connection):
        if started is not None:
            started.set()
        time.sleep(pause)  # deleted, not yet inserted: the other writer arrives now

    try:
        replace_window(engine, "wfm_contact_volume_interval", frame, window_start=start, window_end=end,
                       time_column="interval_start", _after_delete=hold, account_id=DEFAULT_ACCOUNT_ID)
    except Exception as exc:  # noqa: BLE001 - the test reports what each writer met
        errors.append(exc)
    return frame


def test_two_writers_of_overlapping_windows_take_turns_and_the_last_leaves_a_complete_set(engine):
    """Bug: on PostgreSQL the second writer failed on a duplicate key (a tick's trailing window and a healing
    run over the same day)."""
    errors: list[Exception] = []
    first_inside = threading.Event()
    first = threading.Thread(target=write_volume, args=(engine, T0, T0 + 2 * HOUR, 1, 1.0, first_inside, errors))
    first.start()
    assert first_inside.wait(10)
    second = threading.Thread(target=write_volume, args=(engine, T0 + HOUR, T0 + 3 * HOUR, 2, 0.0, None, errors))
    second.start()
    first.join(30)
    second.join(30)
    assert errors == []
    rows = read_window(engine, "wfm_contact_volume_interval", window_start=T0, window_end=T0 + 3 * HOUR,
                       time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID)
    assert len(rows) == 2 * 12 and not rows.duplicated(["queue_id", "interval_start"]).any()
    # The second writer finished last: its window is its complete set; the first keeps the hour before it.
    expected_second = volume_frame(quarters(T0 + HOUR, 8), ["q1", "q2"], seed=2)
    late = rows[rows["interval_start"] >= pd.Timestamp(T0 + HOUR)].sort_values(["queue_id", "interval_start"])
    assert late["entered_count"].tolist() == expected_second.sort_values(
        ["queue_id", "interval_start"])["entered_count"].tolist()


def test_the_same_malformed_entry_is_kept_once_per_window(engine):
    row = {"report_type": "calls", "owner_at": pd.Timestamp(T0), "reason": "missing start_at", "entry": '{"x":1}',
           "entry_hash": "h1", "collected_at": pd.Timestamp(T0)}
    frame = pd.DataFrame([row])
    replace_window(engine, "talkdesk_malformed_entry", frame, window_start=T0, window_end=T0 + HOUR,
                   time_column="owner_at", scope={"report_type": "calls"}, account_id=DEFAULT_ACCOUNT_ID)
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO talkdesk_malformed_entry (account_id, report_type, owner_at, reason, entry, entry_hash, "
                "collected_at) SELECT account_id, report_type, owner_at, reason, entry, entry_hash, collected_at "
                "FROM talkdesk_malformed_entry"))
    assert len(read_table(engine, "talkdesk_malformed_entry", account_id=DEFAULT_ACCOUNT_ID)) == 1


@pytest.mark.parametrize("stored, new, refused", [
    (0, 0, False),      # never collected: no guard
    (100, 60, False),   # fewer, but more than half
    (100, 40, True),    # under half and 60 fewer
    (30, 14, False),    # under half but only 16 fewer
    (15, 0, True),      # an empty answer where five or more are stored
    (4, 0, False),      # ... not where fewer are
    (10, 12, False),    # more
])
def test_the_shrink_guard_rule(stored, new, refused):
    assert guards.ShrinkGuard(0.5, 20).refuses(stored, new) is refused


def test_a_refused_window_write_changes_nothing(engine):
    frame = volume_frame(quarters(T0, 4), ["q1", "q2"], seed=3)
    replace_window(engine, "wfm_contact_volume_interval", frame, window_start=T0, window_end=T0 + HOUR,
                   time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID)
    before = read_table(engine, "wfm_contact_volume_interval", account_id=DEFAULT_ACCOUNT_ID)
    guard = guards.group_sum_guard(guards.ShrinkGuard(0.5, 20), "the test window", group="queue_id",
                                   measure="entered_count", label="contacts entered")
    emptied = frame.assign(entered_count=0, handled_count=0, abandoned_count=0, answered_in_sl_count=0)
    with pytest.raises(guards.ShrinkRefusedError, match="queue_id 'q1': 0 contacts entered where"):
        replace_window(engine, "wfm_contact_volume_interval", emptied, window_start=T0, window_end=T0 + HOUR,
                       time_column="interval_start", guard=guard, account_id=DEFAULT_ACCOUNT_ID)
    pd.testing.assert_frame_equal(read_table(engine, "wfm_contact_volume_interval",
                                             account_id=DEFAULT_ACCOUNT_ID), before)


def test_a_listing_that_would_deactivate_most_rows_is_refused(engine):
    agents = pd.DataFrame({"agent_id": [f"a{i}" for i in range(40)], "name": None, "email": None,
                           "extension": None, "active": True, "source_created_at": pd.NaT})
    upsert_configuration(engine, "wfm_agent", agents, key_columns=["agent_id"], seen_at=T0,
                         account_id=DEFAULT_ACCOUNT_ID)
    guard = guards.deactivation_guard(guards.ShrinkGuard(0.5, 20), "the wfm_agent rows")
    with pytest.raises(guards.ShrinkRefusedError, match="lists 3 of the 40 active ones"):
        upsert_configuration(engine, "wfm_agent", agents.head(3), key_columns=["agent_id"],
                             seen_at=T0 + HOUR, deactivation_guard=guard, account_id=DEFAULT_ACCOUNT_ID)
    assert read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID)["active"].all()
    # A usual day's churn passes: two agents gone of forty.
    result = upsert_configuration(engine, "wfm_agent", agents.head(38), key_columns=["agent_id"],
                                  seen_at=T0 + HOUR, deactivation_guard=guard, account_id=DEFAULT_ACCOUNT_ID)
    assert result.deactivated == 2
