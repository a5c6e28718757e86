"""Configuration upserts keep history; agent-state snapshots move the current state forward."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.db.validation import FrameValidationError
from wfm_pipelines.db.agent_state_writer import append_agent_state_snapshot
from wfm_pipelines.db.configuration_upsert import upsert_configuration
from wfm_pipelines.db.queries import read_table

from wfm_pipelines_tests.db.db_frames import T0

T1, T2, T3 = T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=3)


def agents(*rows):
    return pd.DataFrame([{"agent_id": a, "name": n, "email": f"{a}@example.com", "extension": None,
                          "source_created_at": T0 - timedelta(days=30)} for a, n in rows])


def by_id(frame, key="agent_id"):
    return frame.set_index(key).to_dict("index")


def test_upsert_keeps_history_and_never_deletes(engine):
    first = upsert_configuration(engine, "wfm_agent", agents(("a1", "Ann"), ("a2", "Bob")),
                                 key_columns=["agent_id"], seen_at=T1, account_id=DEFAULT_ACCOUNT_ID)
    assert first == type(first)(inserted=2, updated=0, deactivated=0, reactivated=0)

    # a1 renamed, a2 vanished, a3 new.
    second = upsert_configuration(engine, "wfm_agent", agents(("a1", "Ann B."), ("a3", "Cy")),
                                  key_columns=["agent_id"], seen_at=T2, account_id=DEFAULT_ACCOUNT_ID)
    assert (second.inserted, second.updated, second.deactivated, second.reactivated) == (1, 1, 1, 0)
    rows = by_id(read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID))
    assert set(rows) == {"a1", "a2", "a3"}
    assert rows["a1"]["name"] == "Ann B."
    assert rows["a1"]["first_seen_at"] == pd.Timestamp(T1) and rows["a1"]["last_seen_at"] == pd.Timestamp(T2)
    assert rows["a2"]["active"] is False or rows["a2"]["active"] == False  # noqa: E712
    assert rows["a2"]["last_seen_at"] == pd.Timestamp(T1)
    assert rows["a3"]["first_seen_at"] == pd.Timestamp(T2) and rows["a3"]["active"]
    assert rows["a1"]["source_created_at"] == pd.Timestamp(T0 - timedelta(days=30))

    # a2 reappears.
    third = upsert_configuration(engine, "wfm_agent", agents(("a1", "Ann B."), ("a2", "Bob"), ("a3", "Cy")),
                                 key_columns=["agent_id"], seen_at=T3, account_id=DEFAULT_ACCOUNT_ID)
    assert (third.inserted, third.updated, third.deactivated, third.reactivated) == (0, 3, 0, 1)
    rows = by_id(read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID))
    assert all(row["active"] for row in rows.values())
    assert rows["a2"]["first_seen_at"] == pd.Timestamp(T1) and rows["a2"]["last_seen_at"] == pd.Timestamp(T3)


def test_deactivate_missing_can_be_switched_off(engine):
    upsert_configuration(engine, "wfm_agent", agents(("a1", "Ann"), ("a2", "Bob")), key_columns=["agent_id"], seen_at=T1,
                         account_id=DEFAULT_ACCOUNT_ID)
    result = upsert_configuration(engine, "wfm_agent", agents(("a1", "Ann")), key_columns=["agent_id"],
                                  seen_at=T2, deactivate_missing=False, account_id=DEFAULT_ACCOUNT_ID)
    assert result.deactivated == 0
    assert read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID)["active"].all()


def test_the_sources_own_active_flag_is_kept(engine):
    upsert_configuration(engine, "wfm_agent", agents(("a1", "Ann"), ("a2", "Bob")).assign(active=[True, False]),
                         key_columns=["agent_id"], seen_at=T1, account_id=DEFAULT_ACCOUNT_ID)
    rows = by_id(read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID))
    assert rows["a1"]["active"] and not rows["a2"]["active"]
    result = upsert_configuration(engine, "wfm_agent", agents(("a1", "Ann"), ("a2", "Bob")).assign(active=[False, None]),
                                  key_columns=["agent_id"], seen_at=T2, account_id=DEFAULT_ACCOUNT_ID)
    assert (result.updated, result.reactivated, result.deactivated) == (2, 1, 0)  # NULL counts as active
    rows = by_id(read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID))
    assert not rows["a1"]["active"] and rows["a2"]["active"]
    assert rows["a1"]["last_seen_at"] == pd.Timestamp(T2)  # seen, though inactive at the source


def test_memberships_have_no_active_flag_and_keep_their_rows(engine):
    def memberships(*pairs):
        return pd.DataFrame(pairs, columns=["queue_id", "agent_id"])

    upsert_configuration(engine, "wfm_queue_agent", memberships(("q1", "a1"), ("q1", "a2")),
                         key_columns=["queue_id", "agent_id"], seen_at=T1, account_id=DEFAULT_ACCOUNT_ID)
    result = upsert_configuration(engine, "wfm_queue_agent", memberships(("q1", "a1"), ("q2", "a1")),
                                  key_columns=["queue_id", "agent_id"], seen_at=T2, account_id=DEFAULT_ACCOUNT_ID)
    assert (result.inserted, result.updated, result.deactivated) == (1, 1, 0)
    rows = read_table(engine, "wfm_queue_agent", account_id=DEFAULT_ACCOUNT_ID).set_index(["queue_id", "agent_id"])
    assert len(rows) == 3
    assert rows.loc[("q1", "a2"), "last_seen_at"] == pd.Timestamp(T1)
    assert rows.loc[("q1", "a1"), "last_seen_at"] == pd.Timestamp(T2)
    assert rows.loc[("q1", "a1"), "first_seen_at"] == pd.Timestamp(T1)


def test_queue_upsert_and_its_check_constraint(engine):
    queues = pd.DataFrame({"queue_id": ["q1"], "name": ["Sales"], "source_kind": ["ring_group"],
                           "service_level_threshold_s": [20], "short_abandon_threshold_s": [None]})
    upsert_configuration(engine, "wfm_queue", queues, key_columns=["queue_id"], seen_at=T1,
                         account_id=DEFAULT_ACCOUNT_ID)
    stored = read_table(engine, "wfm_queue", account_id=DEFAULT_ACCOUNT_ID)
    assert stored.loc[0, "service_level_threshold_s"] == 20.0 and pd.isna(stored.loc[0, "short_abandon_threshold_s"])
    with pytest.raises(sa.exc.IntegrityError):
        upsert_configuration(engine, "wfm_queue", queues.assign(queue_id="q2", source_kind="team"),
                             key_columns=["queue_id"], seen_at=T2, account_id=DEFAULT_ACCOUNT_ID)
    assert list(read_table(engine, "wfm_queue",
                           account_id=DEFAULT_ACCOUNT_ID)["queue_id"]) == ["q1"]  # rolled back: q1 not deactivated


@pytest.mark.parametrize(
    "frame, column, problem",
    [
        (agents(("a1", "Ann")).assign(first_seen_at=T0), "first_seen_at", "maintained by the writer"),
        (agents(("a1", "Ann")).assign(active="yes"), "active", "expected booleans"),
        (pd.concat([agents(("a1", "Ann")), agents(("a1", "Ann"))]), "agent_id", "key repeated"),
        (agents(("a1", "Ann")).drop(columns=["agent_id"]), "agent_id", "missing"),
        (agents(("a1", "Ann")).assign(source_created_at=datetime(2025, 1, 1)), "source_created_at", "timezone"),
    ],
)
def test_upsert_validation_errors(engine, frame, column, problem):
    upsert_configuration(engine, "wfm_agent", agents(("a9", "Kept")), key_columns=["agent_id"], seen_at=T0,
                         account_id=DEFAULT_ACCOUNT_ID)
    with pytest.raises(FrameValidationError, match=f"table wfm_agent, column {column}: .*{problem}"):
        upsert_configuration(engine, "wfm_agent", frame, key_columns=["agent_id"], seen_at=T1,
                             account_id=DEFAULT_ACCOUNT_ID)
    assert by_id(read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID))["a9"]["active"]


def current(engine):
    return by_id(read_table(engine, "wfm_agent_state_current", account_id=DEFAULT_ACCOUNT_ID))


def test_snapshots_move_the_current_state_forward(engine):
    first = append_agent_state_snapshot(engine, pd.DataFrame({"agent_id": ["a1", "a2"], "state": ["available", "away"]}),
                                        snapshot_at=T1, account_id=DEFAULT_ACCOUNT_ID)
    assert (first.appended, first.new_agents, first.changed, first.unchanged) == (2, 2, 0, 0)
    talkdesk_start = T1 + timedelta(minutes=50)
    second = append_agent_state_snapshot(
        engine,
        pd.DataFrame({"agent_id": ["a1", "a2", "a3"], "state": ["available", "on_call", "available"],
                      "since": [pd.NaT, talkdesk_start, pd.NaT]}),
        snapshot_at=T2, account_id=DEFAULT_ACCOUNT_ID,
    )
    assert (second.appended, second.new_agents, second.changed, second.unchanged) == (3, 1, 1, 1)
    now = current(engine)
    assert now["a1"] == {"state": "available", "since": pd.Timestamp(T1), "snapshot_at": pd.Timestamp(T2),
                         "stale": False}
    assert now["a2"] == {"state": "on_call", "since": pd.Timestamp(talkdesk_start), "snapshot_at": pd.Timestamp(T2),
                         "stale": False}
    assert now["a3"] == {"state": "available", "since": pd.Timestamp(T2), "snapshot_at": pd.Timestamp(T2),
                         "stale": False}

    # a1 absent from the next snapshot: its current row is left as it was.
    append_agent_state_snapshot(engine, pd.DataFrame({"agent_id": ["a2"], "state": ["on_call"]}), snapshot_at=T3,
                                account_id=DEFAULT_ACCOUNT_ID)
    now = current(engine)
    assert now["a1"]["snapshot_at"] == pd.Timestamp(T2)
    assert now["a2"]["since"] == pd.Timestamp(talkdesk_start) and now["a2"]["snapshot_at"] == pd.Timestamp(T3)
    snapshots = read_table(engine, "wfm_agent_state_snapshot", account_id=DEFAULT_ACCOUNT_ID)
    assert len(snapshots) == 6


def test_older_snapshot_does_not_move_current_backwards_and_rewrite_is_idempotent(engine):
    frame = pd.DataFrame({"agent_id": ["a1"], "state": ["available"]})
    append_agent_state_snapshot(engine, frame, snapshot_at=T2, account_id=DEFAULT_ACCOUNT_ID)
    late = append_agent_state_snapshot(engine, frame.assign(state="away"), snapshot_at=T1,
                                       account_id=DEFAULT_ACCOUNT_ID)
    assert late.stale == 1
    assert current(engine)["a1"]["state"] == "available"
    append_agent_state_snapshot(engine, frame, snapshot_at=T2, account_id=DEFAULT_ACCOUNT_ID)  # the same snapshot again
    assert len(read_table(engine, "wfm_agent_state_snapshot", account_id=DEFAULT_ACCOUNT_ID)) == 2


def test_an_agent_no_recent_collection_saw_is_marked_stale_and_leaves_the_realtime_view(engine):
    """Bug: an agent missing from every collection since kept showing "On a Call" in community_realtime."""
    def snapshot(at, agents):
        return append_agent_state_snapshot(engine, pd.DataFrame({"agent_id": agents, "state": ["On a Call"] * len(agents)}),
                                           snapshot_at=at, stale_after=2, account_id=DEFAULT_ACCOUNT_ID)

    def realtime() -> dict:
        with engine.connect() as connection:
            return {r.agent_id: r.snapshot_at for r in connection.execute(sa.text("SELECT * FROM community_realtime"))}

    snapshot(T0, ["a1", "a2"])
    snapshot(T1, ["a2"])  # a1 missed one collection: still confirmed by one of the last two
    assert not current(engine)["a1"]["stale"] and set(realtime()) == {"a1", "a2"}
    result = snapshot(T2, ["a2"])  # a1 missed the last two: stale, out of the view, its row kept
    assert result.unconfirmed == 1
    assert current(engine)["a1"]["stale"] and current(engine)["a1"]["state"] == "On a Call"
    assert set(realtime()) == {"a2"}
    snapshot(T3, ["a1", "a2"])  # seen again: current again
    assert not current(engine)["a1"]["stale"] and set(realtime()) == {"a1", "a2"}


def test_snapshot_validation(engine):
    with pytest.raises(FrameValidationError, match="table wfm_agent_state_snapshot, column state"):
        append_agent_state_snapshot(engine, pd.DataFrame({"agent_id": ["a1"], "state": [None]}), snapshot_at=T1,
                                    account_id=DEFAULT_ACCOUNT_ID)
    with pytest.raises(FrameValidationError, match="column agent_id: key repeated"):
        append_agent_state_snapshot(engine, pd.DataFrame({"agent_id": ["a1", "a1"], "state": ["x", "y"]}), snapshot_at=T1,
                                    account_id=DEFAULT_ACCOUNT_ID)
    with pytest.raises(ValueError, match="no timezone"):
        append_agent_state_snapshot(engine, pd.DataFrame({"agent_id": ["a1"], "state": ["x"]}),
                                    snapshot_at=datetime(2025, 1, 1), account_id=DEFAULT_ACCOUNT_ID)
    assert read_table(engine, "wfm_agent_state_snapshot", account_id=DEFAULT_ACCOUNT_ID).empty


def test_views_answer_with_the_community_wfm_column_names(engine):
    from wfm_pipelines_tests.db.db_frames import quarters, volume_frame
    from wfm_pipelines.db.window_writer import replace_window

    frame = volume_frame(quarters(T0, 2), ["q1"])
    replace_window(engine, "wfm_contact_volume_interval", frame, window_start=T0, window_end=T1,
                   time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID)
    append_agent_state_snapshot(engine, pd.DataFrame({"agent_id": ["a1"], "state": ["available"]}), snapshot_at=T1,
                                account_id=DEFAULT_ACCOUNT_ID)
    with engine.connect() as connection:
        historical = connection.execute(sa.text("SELECT * FROM community_historical ORDER BY interval_start"))
        assert list(historical.keys()) == ["account_id", "interval_start", "queue_id", "sumHandleTime", "enteredCount",
                                           "abandonedCount"]
        rows = historical.all()
        realtime = connection.execute(sa.text("SELECT * FROM community_realtime"))
        assert list(realtime.keys()) == ["account_id", "agent_id", "agent_status", "since", "snapshot_at"]
        assert [tuple(r) for r in realtime][0][:3] == ("default", "a1", "available")
    assert [r.enteredCount for r in rows] == list(frame["entered_count"])
    assert [r.sumHandleTime for r in rows] == pytest.approx(list(frame["sum_handle_time_s"]))


def test_an_error_about_a_person_never_shows_the_person(engine):
    """Errors reach Dagster's event log: a bad agent row names the column and row, not the name or e-mail."""
    agents = pd.DataFrame({"agent_id": ["a1"], "name": [{"first": "Jordan", "last": "Smith"}],
                           "email": ["jordan.smith@example.com"], "extension": [None], "active": [True],
                           "source_created_at": [pd.NaT]})
    with pytest.raises(FrameValidationError) as caught:
        upsert_configuration(engine, "wfm_agent", agents, key_columns=["agent_id"], seen_at=T1,
                             account_id=DEFAULT_ACCOUNT_ID)
    assert "column name" in str(caught.value) and "not shown: personal data" in str(caught.value)
    assert "Jordan" not in str(caught.value)
    with pytest.raises(FrameValidationError) as caught:
        upsert_configuration(engine, "wfm_agent", agents.assign(name="Jordan Smith", email=[["jordan.smith@example.com"]]),
                             key_columns=["agent_id"], seen_at=T1, account_id=DEFAULT_ACCOUNT_ID)
    assert "column email" in str(caught.value) and "jordan.smith" not in str(caught.value)
