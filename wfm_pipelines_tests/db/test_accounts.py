"""Two Talkdesk accounts in one database (issue 12), on SQLite and PostgreSQL alike: the same queue and agent ids
never collide, and every write and read reaches one account's rows only: windows, configuration (and its
deactivations and their guard), snapshots (and staleness), malformed entries, report behaviour, check queries."""

from __future__ import annotations

import threading
from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from wfm_pipelines.db import guards, queries, report_behaviour
from wfm_pipelines.db.engine import get_engine, write_connection
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, check_account_id, wfm_contact_volume_interval
from wfm_pipelines.db.validation import FrameValidationError
from wfm_pipelines.db.agent_state_writer import append_agent_state_snapshot
from wfm_pipelines.db.configuration_upsert import upsert_configuration
from wfm_pipelines.db.queries import read_table, read_window
from wfm_pipelines.db.window_writer import lock_writers, replace_window
from wfm_pipelines_tests.db.db_frames import T0, quarters, volume_frame

HOUR = timedelta(hours=1)
VOLUME = "wfm_contact_volume_interval"


def write_volume(engine, frame, account_id, **kwargs):
    return replace_window(engine, VOLUME, frame, window_start=T0, window_end=T0 + HOUR, time_column="interval_start",
                          account_id=account_id, **kwargs)


def volume_of(engine, account_id):
    return read_window(engine, VOLUME, window_start=T0, window_end=T0 + HOUR, time_column="interval_start",
                       account_id=account_id)


def agents(ids, name_prefix=""):
    return pd.DataFrame({"agent_id": ids, "name": [f"{name_prefix}{i}" for i in ids], "email": None,
                         "extension": None, "active": True, "source_created_at": pd.NaT})


def test_the_same_ids_in_two_accounts_are_two_rows_and_each_read_returns_its_own(engine):
    north, south = volume_frame(quarters(T0, 4), ["q1", "q2"], seed=1), volume_frame(quarters(T0, 4), ["q1", "q2"],
                                                                                     seed=2)
    write_volume(engine, north, "north")
    write_volume(engine, south, "south")
    upsert_configuration(engine, "wfm_agent", agents(["a1", "a2"], "North "), key_columns=["agent_id"], seen_at=T0,
                         account_id="north")
    upsert_configuration(engine, "wfm_agent", agents(["a1", "a2"], "South "), key_columns=["agent_id"], seen_at=T0,
                         account_id="south")

    for account, written in (("north", north), ("south", south)):
        stored = volume_of(engine, account)
        assert list(stored.columns) == [c.name for c in wfm_contact_volume_interval.columns if c.name != "account_id"]
        assert stored["entered_count"].tolist() == written.sort_values(["queue_id", "interval_start"])[
            "entered_count"].tolist()
    assert read_table(engine, "wfm_agent", account_id="north")["name"].tolist() == ["North a1", "North a2"]
    assert read_table(engine, "wfm_agent", account_id="south")["name"].tolist() == ["South a1", "South a2"]
    assert volume_of(engine, DEFAULT_ACCOUNT_ID).empty and read_table(engine, "wfm_agent",
                                                                      account_id=DEFAULT_ACCOUNT_ID).empty


def test_replacing_one_accounts_window_leaves_the_other_accounts_rows(engine):
    write_volume(engine, volume_frame(quarters(T0, 4), ["q1", "q2"], seed=1), "north")
    write_volume(engine, volume_frame(quarters(T0, 4), ["q1", "q2"], seed=2), "south")
    south_before = volume_of(engine, "south")

    result = write_volume(engine, volume_frame(quarters(T0, 2), ["q1"], seed=3), "north")
    assert (result.deleted, result.inserted) == (8, 2)
    pd.testing.assert_frame_equal(volume_of(engine, "south"), south_before)
    assert len(volume_of(engine, "north")) == 2

    write_volume(engine, volume_frame([], ["q1"]), "north")  # an empty window of north
    pd.testing.assert_frame_equal(volume_of(engine, "south"), south_before)


def test_a_write_is_for_one_account_only(engine):
    frame = volume_frame(quarters(T0, 2), ["q1"])
    with pytest.raises(FrameValidationError, match="rows outside the scope account_id='north'"):
        write_volume(engine, frame.assign(account_id="south"), "north")
    with pytest.raises(ValueError, match="scope names account 'south'"):
        write_volume(engine, frame, "north", scope={"account_id": "south"})
    for not_an_id in ("", "North", "../up", None):
        with pytest.raises(ValueError, match="account id"):
            write_volume(engine, frame, not_an_id)
    write_volume(engine, frame.assign(account_id="north"), "north")  # a frame may name its own account
    assert len(volume_of(engine, "north")) == 2 and volume_of(engine, "south").empty


def test_importing_one_accounts_configuration_never_deactivates_another_accounts_keys(engine):
    upsert_configuration(engine, "wfm_agent", agents([f"s{i}" for i in range(30)]), key_columns=["agent_id"],
                         seen_at=T0, account_id="south")
    upsert_configuration(engine, "wfm_agent", agents(["n1", "n2"]), key_columns=["agent_id"], seen_at=T0,
                         account_id="north")

    seen_by_guard = []
    result = upsert_configuration(engine, "wfm_agent", agents(["n2", "n3"]), key_columns=["agent_id"],
                                  seen_at=T0 + HOUR, account_id="north",
                                  deactivation_guard=lambda stored, listed: seen_by_guard.append((stored, listed)))
    assert seen_by_guard == [(2, 1)]  # north's own active agents, not south's 30
    assert (result.inserted, result.updated, result.deactivated) == (1, 1, 1)
    south = read_table(engine, "wfm_agent", account_id="south")
    assert len(south) == 30 and south["active"].all() and (south["last_seen_at"] == pd.Timestamp(T0)).all()
    north = read_table(engine, "wfm_agent", account_id="north").set_index("agent_id")["active"].to_dict()
    assert north == {"n1": False, "n2": True, "n3": True}

    # The shrink guard compares an account with itself: south's 30 agents do not make north's import look small,
    # and north's listing of nobody is refused on north's own two.
    guard = guards.deactivation_guard(guards.ShrinkGuard(0.5, 1), "the wfm_agent rows")
    with pytest.raises(guards.ShrinkRefusedError, match="lists 0 of the 2 active ones"):
        upsert_configuration(engine, "wfm_agent", agents([]), key_columns=["agent_id"], seen_at=T0 + 2 * HOUR,
                             account_id="north", deactivation_guard=guard)
    upsert_configuration(engine, "wfm_agent", agents(["s1"]), key_columns=["account_id", "agent_id"],
                         seen_at=T0 + 2 * HOUR, account_id="south", deactivate_missing=False, deactivation_guard=guard)
    assert read_table(engine, "wfm_agent", account_id="north")["active"].sum() == 2


def test_one_accounts_snapshots_never_make_another_accounts_states_stale(engine):
    south = pd.DataFrame({"agent_id": ["a1", "a2"], "state": ["available", "away"]})
    append_agent_state_snapshot(engine, south, snapshot_at=T0, stale_after=3, account_id="south")
    for minute in range(1, 6):  # north collects more often (and on south's clock once)
        north = pd.DataFrame({"agent_id": ["a1"], "state": ["on_call" if minute % 2 else "available"]})
        result = append_agent_state_snapshot(engine, north, snapshot_at=T0 + timedelta(minutes=minute % 5),
                                             stale_after=3, account_id="north")
        assert result.unconfirmed == 0
    current = read_table(engine, "wfm_agent_state_current", account_id="south")
    assert current["stale"].tolist() == [False, False] and current["state"].tolist() == ["available", "away"]
    # North's snapshot at T0 (minute 5 % 5) replaced north's, not south's.
    assert len(read_table(engine, "wfm_agent_state_snapshot", account_id="south")) == 2
    assert len(read_table(engine, "wfm_agent_state_snapshot", account_id="north")) == 5
    with engine.connect() as connection:
        realtime = connection.execute(sa.text(
            "SELECT account_id, agent_id, agent_status FROM community_realtime ORDER BY account_id, agent_id")).all()
    assert [tuple(r) for r in realtime] == [("north", "a1", "available"), ("south", "a1", "available"),
                                            ("south", "a2", "away")]

    # South's own collections decide when a south agent that is gone becomes stale: after three of them (north's
    # five later ones do not count), not at the first.
    for minute, a2_stale in ((6, False), (10, False), (11, True)):
        append_agent_state_snapshot(engine, south.head(1), snapshot_at=T0 + timedelta(minutes=minute),
                                    stale_after=3, account_id="south")
        stale = read_table(engine, "wfm_agent_state_current", account_id="south")["stale"].tolist()
        assert stale == [False, a2_stale], minute
    assert not read_table(engine, "wfm_agent_state_current", account_id="north")["stale"].any()


def test_malformed_entries_are_kept_per_account(engine):
    row = {"report_type": "calls", "owner_at": pd.Timestamp(T0), "reason": "missing start_at", "entry": '{"x":1}',
           "entry_hash": "h1", "collected_at": pd.Timestamp(T0)}
    for account in ("north", "south"):  # the same entry, owning time and hash: one row per account
        replace_window(engine, "talkdesk_malformed_entry", pd.DataFrame([row]), window_start=T0,
                       window_end=T0 + HOUR, time_column="owner_at", scope={"report_type": "calls"},
                       account_id=account)
    replace_window(engine, "talkdesk_malformed_entry", pd.DataFrame([row]).iloc[:0], window_start=T0,
                   window_end=T0 + HOUR, time_column="owner_at", scope={"report_type": "calls"}, account_id="north")
    assert read_table(engine, "talkdesk_malformed_entry", account_id="north").empty
    assert read_table(engine, "talkdesk_malformed_entry", account_id="south")["entry_hash"].tolist() == ["h1"]


def test_report_behaviour_is_remembered_per_account(engine):
    report_behaviour.remember_window_field(engine, "user_status", "start", "north's evidence", T0, account_id="north")
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id="south") is None
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id=DEFAULT_ACCOUNT_ID) is None
    report_behaviour.remember_window_field(engine, "user_status", "end", "south's evidence", T0, account_id="south")
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id="north") == "start"
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id="south") == "end"


def test_the_shrink_guard_of_a_window_compares_an_account_with_itself(engine):
    big = volume_frame(quarters(T0, 4), ["q1", "q2"], seed=1).assign(entered_count=50, handled_count=50)
    write_volume(engine, big, "north")
    guard = guards.group_sum_guard(guards.ShrinkGuard(0.5, 20), "the test window", group="queue_id",
                                   measure="entered_count", label="contacts entered")
    small = big.assign(entered_count=1, handled_count=1, abandoned_count=0, answered_in_sl_count=0)
    write_volume(engine, small, "south", guard=guard)  # south never had more: nothing to compare with
    with pytest.raises(guards.ShrinkRefusedError, match="contacts entered in all: 8 where 400 are stored"):
        write_volume(engine, small, "north", guard=guard)
    assert volume_of(engine, "north")["entered_count"].sum() == 400
    write_volume(engine, big, "south", guard=guard)
    write_volume(engine, big.assign(entered_count=40), "south", guard=guard)  # a usual change passes


def test_check_queries_count_one_accounts_rows(engine):
    write_volume(engine, volume_frame(quarters(T0, 4), ["q1", "q2"], seed=1), "north")
    write_volume(engine, volume_frame(quarters(T0, 2), ["q1"], seed=1).assign(handled_count=999), "south")
    counts = {account: queries.interval_counts(engine, VOLUME, "interval_start", window_start=T0,
                                               window_end=T0 + HOUR, account_id=account).tolist()
              for account in ("north", "south", DEFAULT_ACCOUNT_ID)}
    assert counts == {"north": [2, 2, 2, 2], "south": [1, 1], DEFAULT_ACCOUNT_ID: []}
    for account, offending in (("north", 0), ("south", 2)):
        count, rows = queries.offending_rows(
            engine, VOLUME, lambda t: t.c.handled_count > t.c.entered_count, window_start=T0, window_end=T0 + HOUR,
            time_column="interval_start", columns=["queue_id", "interval_start"], account_id=account)
        assert (count, len(rows)) == (offending, offending)


def test_two_accounts_writers_never_wait_for_each_other(postgres_url):
    """PostgreSQL: the writers' lock is per table and account (SQLite has one write lock for the database)."""
    engine = get_engine(postgres_url)
    def writer_thread(account_id: str) -> tuple[threading.Thread, threading.Event]:
        done = threading.Event()
        thread = threading.Thread(target=lambda: (
            write_volume(engine, volume_frame(quarters(T0, 2), ["q1"]), account_id), done.set()), daemon=True)
        thread.start()
        return thread, done

    with write_connection(engine) as holder, holder.begin():
        lock_writers(holder, wfm_contact_volume_interval, {"account_id": "north"})  # a north writer, mid-write
        south, south_done = writer_thread("south")
        assert south_done.wait(30)  # did not wait for north
        north, north_done = writer_thread("north")
        assert not north_done.wait(1.0)  # another north writer does wait
    north.join(30)
    assert north_done.is_set()
    assert len(volume_of(engine, "north")) == len(volume_of(engine, "south")) == 2


@pytest.mark.parametrize("account_id", ["north\n", "", "North", "9north", "n" * 33, None])
def test_an_id_that_is_not_an_account_id_writes_nowhere(account_id):
    # "north\n" passed a `^...$` match: `$` also matches before a final newline.
    with pytest.raises(ValueError, match="does not match"):
        check_account_id(account_id)
