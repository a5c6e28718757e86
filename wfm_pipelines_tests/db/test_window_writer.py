"""replace_window: idempotent, atomic, validated before anything is touched."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, talkdesk_malformed_entry, wfm_contact_volume_interval
from wfm_pipelines.db.validation import FrameValidationError
from wfm_pipelines.db.queries import read_table, read_window
from wfm_pipelines.db.window_writer import replace_window

from wfm_pipelines_tests.db.db_frames import QUARTER, T0, quarters, volume_frame

VOLUME = "wfm_contact_volume_interval"


def write_volume(engine, frame, start=T0, end=T0 + 4 * QUARTER, **kwargs):
    return replace_window(engine, VOLUME, frame, window_start=start, window_end=end,
                          time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID, **kwargs)


def row_count(engine, table=wfm_contact_volume_interval) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_replacing_a_window_twice_gives_the_same_rows(engine):
    frame = volume_frame(quarters(T0, 4), ["q1", "q2", "q3"])
    first = write_volume(engine, frame)
    second = write_volume(engine, frame)
    assert (first.deleted, first.inserted) == (0, 12)
    assert (second.deleted, second.inserted) == (12, 12)
    stored = read_window(engine, VOLUME, window_start=T0, window_end=T0 + 4 * QUARTER, time_column="interval_start",
                         account_id=DEFAULT_ACCOUNT_ID)
    assert len(stored) == 12 == row_count(engine)
    expected = frame.sort_values(["queue_id", "interval_start"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(stored[expected.columns], expected, check_dtype=False)
    assert str(stored["interval_start"].dtype) == "datetime64[ns, UTC]"
    assert stored["sum_acw_time_s"].notna().all()


def test_rows_outside_the_window_are_kept(engine):
    write_volume(engine, volume_frame(quarters(T0, 8), ["q1"]), end=T0 + 8 * QUARTER)
    # Rewrite only the middle hour with one queue fewer rows and new numbers.
    middle = volume_frame(quarters(T0 + 2 * QUARTER, 4), ["q1"], seed=5)
    result = write_volume(engine, middle.iloc[:3], start=T0 + 2 * QUARTER, end=T0 + 6 * QUARTER)
    assert (result.deleted, result.inserted) == (4, 3)
    stored = read_table(engine, VOLUME, account_id=DEFAULT_ACCOUNT_ID)
    assert list(stored["interval_start"]) == [pd.Timestamp(t) for t in quarters(T0, 8) if t != T0 + 5 * QUARTER]
    assert stored.set_index("interval_start").loc[pd.Timestamp(T0 + 2 * QUARTER), "handled_count"] == middle.iloc[0]["handled_count"]


def test_an_empty_frame_empties_the_window(engine):
    write_volume(engine, volume_frame(quarters(T0, 4), ["q1"]))
    result = write_volume(engine, volume_frame([], ["q1"]))
    assert (result.deleted, result.inserted) == (4, 0)
    assert row_count(engine) == 0


def test_failure_between_delete_and_insert_keeps_the_previous_rows(engine):
    original = volume_frame(quarters(T0, 4), ["q1", "q2"])
    write_volume(engine, original)

    def fail(connection):
        remaining = connection.execute(sa.select(sa.func.count()).select_from(wfm_contact_volume_interval)).scalar_one()
        assert remaining == 0  # the delete did happen inside the transaction
        raise RuntimeError("injected failure")

    with pytest.raises(RuntimeError, match="injected failure"):
        write_volume(engine, volume_frame(quarters(T0, 4), ["q1", "q2"], seed=9), _after_delete=fail)
    stored = read_table(engine, VOLUME, account_id=DEFAULT_ACCOUNT_ID)
    expected = original.sort_values(["queue_id", "interval_start"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(stored[expected.columns], expected, check_dtype=False)


def test_database_error_during_insert_rolls_back_the_delete(engine):
    write_volume(engine, volume_frame(quarters(T0, 4), ["q1"]))

    def insert_a_clashing_row(connection):
        replacement = volume_frame([T0], ["q1"]).iloc[0].to_dict() | {"account_id": "default"}
        connection.execute(wfm_contact_volume_interval.insert(), [replacement])

    with pytest.raises(sa.exc.IntegrityError, match="(?i)unique|duplicate"):
        write_volume(engine, volume_frame(quarters(T0, 4), ["q1"]), _after_delete=insert_a_clashing_row)
    assert row_count(engine) == 4


BAD_FRAMES = {
    "missing required column": (lambda f: f.drop(columns=["handled_count"]), "handled_count", "required column missing"),
    "extra column": (lambda f: f.assign(colour="red"), "colour", "not a column of the table"),
    "uncoercible text in a count": (lambda f: f.assign(entered_count=["many"] + [1] * (len(f) - 1)), "entered_count", "'many'"),
    "fractional count": (lambda f: f.assign(handled_count=[1.5] + [1] * (len(f) - 1)), "handled_count", "fractional"),
    "null in a not-null column": (lambda f: f.assign(sum_talk_time_s=[np.nan] + [1.0] * (len(f) - 1)), "sum_talk_time_s", "NULL"),
    "naive timestamps": (lambda f: f.assign(collected_at=pd.Timestamp("2025-03-01 12:00")), "collected_at", "no timezone"),
    "time outside the window": (lambda f: f.assign(interval_start=f["interval_start"] + timedelta(hours=1)), "interval_start", "outside the window"),
    "duplicate key": (lambda f: pd.concat([f, f.iloc[:1]]), "queue_id, interval_start", "key repeated"),
    "text that is not text": (lambda f: f.assign(queue_id=[{"id": 1}] * len(f)), "queue_id", "expected text"),
}


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
def test_validation_errors_name_table_and_column_and_delete_nothing(engine, case):
    write_volume(engine, volume_frame(quarters(T0, 4), ["q1", "q2"]))
    spoil, column, problem = BAD_FRAMES[case]
    with pytest.raises(FrameValidationError) as caught:
        write_volume(engine, spoil(volume_frame(quarters(T0, 4), ["q1", "q2"])))
    message = str(caught.value)
    assert f"table {VOLUME}" in message
    assert f"column {column}" in message
    assert problem in message
    assert row_count(engine) == 8


def test_acceptable_types_are_coerced(engine):
    frame = volume_frame(quarters(T0, 2), ["q1"], with_acw=False)
    frame["entered_count"] = frame["entered_count"].astype(float)  # whole floats are fine for counts
    frame["interval_start"] = frame["interval_start"].dt.tz_convert("America/New_York")  # any zone, stored as UTC
    frame["queue_id"] = [7, 7]  # integer ids become text
    write_volume(engine, frame)
    stored = read_table(engine, VOLUME, account_id=DEFAULT_ACCOUNT_ID)
    assert list(stored["queue_id"]) == ["7", "7"]
    assert list(stored["interval_start"]) == [pd.Timestamp(T0), pd.Timestamp(T0 + QUARTER)]
    assert stored["sum_acw_time_s"].isna().all()  # NaN -> NULL -> NaN


def test_scope_limits_the_delete_and_checks_the_frame(engine):
    def malformed(report_type, hashes, start=T0):
        return pd.DataFrame({
            "report_type": report_type,
            "owner_at": [start + timedelta(minutes=i) for i in range(len(hashes))],
            "reason": "bad",
            "entry": [json.dumps({"id": h}) for h in hashes],
            "entry_hash": hashes,
            "collected_at": T0,
        })

    window = dict(window_start=T0, window_end=T0 + QUARTER, time_column="owner_at", account_id=DEFAULT_ACCOUNT_ID)
    table = "talkdesk_malformed_entry"
    replace_window(engine, table, malformed("calls", ["a", "b"]), scope={"report_type": "calls"}, **window)
    replace_window(engine, table, malformed("user_status", ["s"]), scope={"report_type": "user_status"}, **window)
    # Rewriting `calls` leaves `user_status` alone; the frame may omit the scope column.
    result = replace_window(engine, table, malformed("calls", ["c"]).drop(columns=["report_type"]),
                            scope={"report_type": "calls"}, **window)
    assert (result.deleted, result.inserted) == (2, 1)
    stored = read_table(engine, talkdesk_malformed_entry, account_id=DEFAULT_ACCOUNT_ID)
    assert sorted(zip(stored["report_type"], stored["entry_hash"])) == [("calls", "c"), ("user_status", "s")]
    with pytest.raises(FrameValidationError, match="column report_type: rows outside the scope"):
        replace_window(engine, table, malformed("contacts", ["x"]), scope={"report_type": "calls"}, **window)
    scoped = read_window(engine, table, scope={"report_type": "user_status"}, **window)
    assert list(scoped["entry_hash"]) == ["s"]


def test_awkward_text_round_trips(engine):
    awkward = ["", "\\N", 'quote " and, comma', "line\nbreak\r\n", "tab\there", "ünïcødé ✓", "\\", "NULL", None]
    window = dict(window_start=T0, window_end=T0 + QUARTER, time_column="owner_at", account_id=DEFAULT_ACCOUNT_ID)
    malformed = pd.DataFrame({"report_type": "calls", "owner_at": [T0] * len(awkward), "reason": "bad",
                              "entry": awkward, "entry_hash": [f"h{i}" for i in range(len(awkward))],
                              "collected_at": T0})
    replace_window(engine, "talkdesk_malformed_entry", malformed, **window)
    stored = read_window(engine, "talkdesk_malformed_entry", **window).sort_values("id")
    assert list(stored["entry"]) == awkward  # NULL stays NULL, "" stays "", "\N" stays text
    assert stored["id"].is_unique


def test_sub_second_timestamps_keep_microseconds(engine):
    precise = datetime(2025, 3, 1, 12, 0, 1, 123456, tzinfo=timezone.utc)
    frame = pd.DataFrame({"agent_id": ["a"], "state_start": [precise], "state": ["available"],
                          "state_end": [precise + timedelta(seconds=61.5)], "duration_s": [61.5], "collected_at": [T0]})
    replace_window(engine, "wfm_agent_state_transaction", frame, window_start=T0, window_end=T0 + QUARTER,
                   time_column="state_end", account_id=DEFAULT_ACCOUNT_ID)
    stored = read_table(engine, "wfm_agent_state_transaction", account_id=DEFAULT_ACCOUNT_ID)
    assert stored.loc[0, "state_start"] == pd.Timestamp(precise)
    assert stored.loc[0, "duration_s"] == 61.5


def test_naive_window_bounds_are_refused(engine):
    with pytest.raises(ValueError, match="no timezone"):
        write_volume(engine, volume_frame([], ["q1"]), start=datetime(2025, 3, 1))


def test_concurrent_writers_on_different_windows_both_land(postgres_url):
    """Writers of one table take turns (db.window_writer.lock_writers): the second waits for the first to commit."""
    from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema

    engine = create_wfm_engine(postgres_url)
    ensure_schema(engine)
    try:
        first_inside = threading.Event()
        errors = []

        def writer(offset_hours: int):
            start = T0 + timedelta(hours=offset_hours)

            def hold(_connection):
                if offset_hours == 0:
                    first_inside.set()
                    time.sleep(0.5)  # deleted, not yet inserted: the other writer arrives and waits

            try:
                write_volume(engine, volume_frame(quarters(start, 4), ["q1", "q2"], seed=offset_hours),
                             start=start, end=start + 4 * QUARTER, _after_delete=hold)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        first = threading.Thread(target=writer, args=(0,))
        first.start()
        assert first_inside.wait(10)
        second = threading.Thread(target=writer, args=(1,))
        second.start()
        for thread in (first, second):
            thread.join(timeout=60)
        assert errors == []
        assert row_count(engine) == 16
    finally:
        engine.dispose()


def test_concurrent_writers_on_sqlite_queue_on_the_busy_timeout(sqlite_url):
    from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema

    engine = create_wfm_engine(sqlite_url)
    ensure_schema(engine)
    try:
        errors = []

        def writer(offset_hours: int):
            start = T0 + timedelta(hours=offset_hours)
            try:
                for seed in range(5):
                    write_volume(engine, volume_frame(quarters(start, 4), ["q1", "q2"], seed=seed),
                                 start=start, end=start + 4 * QUARTER)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(h,)) for h in (0, 1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert row_count(engine) == 24
    finally:
        engine.dispose()
