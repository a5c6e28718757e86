"""`user_status` entries -> status records, raw (closed records only) and malformed frames."""

from __future__ import annotations

import json

import pandas as pd

from wfm_pipelines_tests.raw_tables import raw_entries, raw_keys, raw_owners

from wfm_pipelines.talkdesk.parsing import STATUS_COLUMNS, parse_user_status_report


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def status(user_id, label, start, end, seconds) -> dict:
    return {"user_name": "Robert Sur", "user_email": "robert@talkdesk.com", "user_id": user_id,
            "status_label": label, "status_start_at": start, "status_end_at": end, "status_time": seconds,
            "is_user_active": True, "team_id": None, "team_name": None, "ring_groups": '["rg1", "rg2"]'}


def test_documented_example_and_open_record():
    parsed = parse_user_status_report([
        status("13da-3ccd-3423", "Away", "2016-01-29 10:30:00", "2016-01-29 10:30:14", 14),
        status("13da-3ccd-3423", "Available", "2016-01-29 10:30:14", None, None),
    ])
    assert list(parsed.records.columns) == STATUS_COLUMNS
    away, available = parsed.records.to_dict("records")
    assert (away["agent_id"], away["state"]) == ("13da-3ccd-3423", "Away")
    assert (away["state_start"], away["state_end"], away["duration_s"]) == (
        utc("2016-01-29 10:30:00"), utc("2016-01-29 10:30:14"), 14.0)
    assert available["state_end"] is pd.NaT and pd.isna(available["duration_s"])
    # The open record has no owner yet: it is a record but neither raw nor malformed.
    assert raw_keys(parsed.raw) == [away["entry_key"]]
    assert raw_owners(parsed.raw) == [utc("2016-01-29 10:30:14")]
    assert raw_entries(parsed.raw)[0]["status_label"] == "Away"
    assert parsed.malformed.empty


def test_duration_falls_back_to_end_minus_start_and_csv_strings_parse():
    parsed = parse_user_status_report([
        {"user_id": "u1", "status_label": "On a Call", "status_start_at": "2026-04-23T10:00:00Z",
         "status_end_at": "2026-04-23T10:02:30.500Z", "status_time": ""},
        {"user_id": "u1", "status_label": "After Call Work", "status_start_at": "2026-04-23 10:02:30",
         "status_end_at": "2026-04-23 10:03:00", "status_time": "30"},
    ])
    assert list(parsed.records["duration_s"]) == [150.5, 30.0]


def test_entry_key_is_the_same_for_every_timestamp_shape_and_differs_per_label():
    a = parse_user_status_report([status("u1", "Away", "2026-04-23 10:00:00", "2026-04-23 10:05:00", 300)])
    b = parse_user_status_report([status("u1", "Away", "2026-04-23T11:00:00+01:00", "2026-04-23T10:05:00Z", 300)])
    c = parse_user_status_report([status("u1", "Break", "2026-04-23 10:00:00", "2026-04-23 10:05:00", 300)])
    assert a.records["entry_key"].iloc[0] == b.records["entry_key"].iloc[0]
    assert a.records["entry_key"].iloc[0] != c.records["entry_key"].iloc[0]


def test_malformed_status_entries_have_reasons():
    parsed = parse_user_status_report([
        status("u1", "Away", "2026-04-23 10:00:00", "2026-04-23 10:05:00", 300),
        status("", "Away", "2026-04-23 10:00:00", "2026-04-23 10:05:00", 300),
        status("u2", "Away", None, "2026-04-23 10:05:00", 300),
        status("u3", "Away", "soon", "2026-04-23 10:05:00", 300),
        status("u4", "Away", "2026-04-23 10:00:00", "later", 300),
        status("u5", "", "2026-04-23 10:00:00", "2026-04-23 10:05:00", 300),
        status("u6", "Away", "2026-04-23 10:00:00", "2026-04-23 10:05:00", -1),
        status("u7", "Away", "2026-04-23 10:05:00", "2026-04-23 10:00:00", None),
    ])
    assert list(parsed.records["agent_id"]) == ["u1"]
    assert list(parsed.malformed["reason"]) == [
        "missing user_id", "missing status_start_at", "unparseable status_start_at", "unparseable status_end_at",
        "missing status_label", "negative status_time", "status_end_at before status_start_at"]
    # owner_at of a malformed status is its end where that can be read.
    assert list(parsed.malformed["owner_at"]) == [utc("2026-04-23 10:05:00")] * 3 + [pd.NaT] + [
        utc("2026-04-23 10:05:00")] * 2 + [utc("2026-04-23 10:00:00")]


def test_duplicates_keep_the_last_entry():
    parsed = parse_user_status_report([
        status("u1", "Away", "2026-04-23 10:00:00", "2026-04-23 10:05:00", 300),
        status("u1", "Away", "2026-04-23T10:00:00Z", "2026-04-23 10:07:00", 420),
    ])
    assert list(parsed.records["duration_s"]) == [420.0]
    assert raw_owners(parsed.raw) == [utc("2026-04-23 10:07:00")]


def test_empty_report():
    parsed = parse_user_status_report([])
    assert parsed.records.empty and parsed.raw.num_rows == 0 and parsed.malformed.empty
    assert str(parsed.records["state_start"].dtype) == "datetime64[ns, UTC]"
