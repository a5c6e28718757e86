"""Agent state transactions (ownership by end, duplicates, month splits) and current agent states."""

from __future__ import annotations

import pandas as pd
import pytest

from wfm_pipelines.talkdesk.parsing import parse_user_status_report
from wfm_pipelines.transforms.agent_states import (
    CURRENT_STATE_COLUMNS,
    TRANSACTION_COLUMNS,
    agent_state_transactions,
    current_states_from_status_calls,
    current_states_from_user_status,
)

COLLECTED = "2026-04-23T10:40:00Z"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def status(user_id, label, start, end, seconds=None) -> dict:
    return {"user_id": user_id, "status_label": label, "status_start_at": start, "status_end_at": end,
            "status_time": seconds}


RECORDS = parse_user_status_report([
    status("u1", "Away", "2026-04-23 10:10:00", "2026-04-23T10:14:59.999Z", 299.999),
    status("u1", "Available", "2026-04-23T10:14:59.999Z", "2026-04-23 10:15:00", 0.001),
    status("u2", "On a Call", "2026-04-23 09:50:00", "2026-04-23 10:00:00", 600),
    status("u2", "Available", "2026-04-23 10:00:00", None),
    status("u3", "Offline", "2026-04-23 08:00:00", "2026-04-23 09:59:59", 7199),
]).records


def window(start: str, end: str) -> dict:
    return {"window_start": f"2026-04-23T{start}:00Z", "window_end": f"2026-04-23T{end}:00Z", "collected_at": COLLECTED}


def test_the_partition_containing_the_end_owns_the_record():
    first = agent_state_transactions(RECORDS, **window("10:00", "10:15"))
    second = agent_state_transactions(RECORDS, **window("10:15", "10:30"))
    assert list(first.columns) == TRANSACTION_COLUMNS
    assert list(zip(first["agent_id"], first["state"], first["state_end"])) == [
        ("u1", "Away", utc("2026-04-23 10:14:59.999")),
        ("u2", "On a Call", utc("2026-04-23 10:00:00")),
    ]
    assert list(zip(second["agent_id"], second["state"], second["state_start"], second["duration_s"])) == [
        ("u1", "Available", utc("2026-04-23 10:14:59.999"), 0.001)]
    assert (first["collected_at"] == utc("2026-04-23 10:40:00")).all()
    assert str(first["state_start"].dtype) == str(first["collected_at"].dtype) == "datetime64[ns, UTC]"


def test_open_records_are_not_transactions():
    whole_day = agent_state_transactions(RECORDS, window_start="2026-04-23", window_end="2026-04-24",
                                         collected_at=COLLECTED)
    assert list(zip(whole_day["agent_id"], whole_day["state"])) == [
        ("u1", "Away"), ("u1", "Available"), ("u2", "On a Call"), ("u3", "Offline")]


def test_month_split_records_stay_two_rows_owned_by_their_own_ends():
    records = parse_user_status_report([
        status("u9", "Away", "2026-04-30 23:50:00", "2026-05-01 00:00:00", 600),
        status("u9", "Away", "2026-05-01 00:00:00", "2026-05-01 00:10:00", 600),
    ]).records
    april = agent_state_transactions(records, window_start="2026-04-30T23:45:00Z",
                                     window_end="2026-05-01T00:00:00Z", collected_at=COLLECTED)
    may = agent_state_transactions(records, window_start="2026-05-01T00:00:00Z",
                                   window_end="2026-05-01T00:15:00Z", collected_at=COLLECTED)
    assert april.empty
    assert list(zip(may["state_start"], may["state_end"])) == [
        (utc("2026-04-30 23:50:00"), utc("2026-05-01 00:00:00")),
        (utc("2026-05-01 00:00:00"), utc("2026-05-01 00:10:00")),
    ]


def test_duplicates_of_agent_and_start_keep_the_latest_end_in_every_partition():
    earlier_report = parse_user_status_report([status("u5", "Away", "2026-04-23 10:02:00", "2026-04-23 10:08:00", 360),
                                               status("u4", "Away", "2026-04-23 10:01:00", "2026-04-23 10:05:00", 240),
                                               status("u4", "Break", "2026-04-23 10:01:00", "2026-04-23 10:12:00", 660)])
    later_report = parse_user_status_report([status("u5", "Away", "2026-04-23 10:02:00", "2026-04-23 10:20:00", 1080)])
    records = pd.concat([earlier_report.records, later_report.records], ignore_index=True)
    first = agent_state_transactions(records, **window("10:00", "10:15"))
    second = agent_state_transactions(records, **window("10:15", "10:30"))
    assert list(zip(first["agent_id"], first["state"], first["state_end"])) == [
        ("u4", "Break", utc("2026-04-23 10:12:00"))]
    # u5's shorter rendering (end 10:08) is not written to 10:00: its longer one belongs to 10:15.
    assert list(zip(second["agent_id"], second["state_end"], second["duration_s"])) == [
        ("u5", utc("2026-04-23 10:20:00"), 1080.0)]


def test_reversed_window_is_refused_and_an_empty_one_gives_no_rows():
    with pytest.raises(ValueError):
        agent_state_transactions(RECORDS, **window("10:15", "10:00"))
    empty = agent_state_transactions(RECORDS, **window("10:15", "10:15"))
    assert empty.empty and list(empty.columns) == TRANSACTION_COLUMNS


def test_current_states_from_status_calls():
    states = current_states_from_status_calls(
        [{"id": "b", "status": "busy_lunch"}, {"id": "a", "status": "available"}, {"id": "a", "status": "away"},
         {"status": "offline"}, {"id": "c", "status": None}],
        snapshot_at="2026-04-23T10:40:30Z")
    assert list(states.columns) == CURRENT_STATE_COLUMNS
    assert list(zip(states["agent_id"], states["state"])) == [("a", "away"), ("b", "busy_lunch"), ("c", "unknown")]
    assert states["since"].isna().all()
    assert (states["snapshot_at"] == utc("2026-04-23 10:40:30")).all()


def test_current_states_from_user_status_take_the_newest_record_per_agent():
    records = pd.concat([RECORDS, parse_user_status_report([
        status("u3", "Available", "2026-04-23 10:41:00", None),  # after the snapshot: ignored
        status("u6", "Away", "2026-04-23 10:30:00", "2026-04-23 10:35:00", 300),
        status("u6", "Lunch", "2026-04-23 10:30:00", None),  # same start, still open: wins
    ]).records], ignore_index=True)
    states = current_states_from_user_status(records, snapshot_at="2026-04-23T10:40:30Z")
    assert list(states.columns) == CURRENT_STATE_COLUMNS
    assert list(zip(states["agent_id"], states["state"], states["since"])) == [
        ("u1", "Available", utc("2026-04-23 10:14:59.999")),
        ("u2", "Available", utc("2026-04-23 10:00:00")),
        ("u3", "Offline", utc("2026-04-23 08:00:00")),
        ("u6", "Lunch", utc("2026-04-23 10:30:00")),
    ]
    assert str(states["since"].dtype) == "datetime64[ns, UTC]"
