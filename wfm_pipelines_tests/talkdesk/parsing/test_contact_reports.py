"""`calls` (both payload shapes) and `contacts` entries -> normalized contact records, raw and malformed frames."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from wfm_pipelines_tests.raw_tables import as_text, raw_entries, raw_keys, raw_owners

from wfm_pipelines.talkdesk.parsing import RECORD_COLUMNS, parse_contact_report


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def call(call_id: str, call_type: str, start_at: str, **fields) -> dict:
    entry = {"call_id": call_id, "callsid": "CA" + call_id, "type": call_type, "start_at": start_at,
             "end_at": None, "talk_time": 0, "wait_time": 0, "hold_time": 0, "ring_groups": "agents",
             "user_id": None}
    entry.update(fields)
    return entry


def by_key(records: pd.DataFrame) -> dict[str, dict]:
    return {row["entry_key"]: row for row in records.to_dict("records")}


def test_calls_every_type_maps_to_its_outcome():
    types = ["inbound", "abandoned", "short_abandoned", "missed", "voicemail", "outbound", "outbound_missed"]
    parsed = parse_contact_report("calls", [call(f"c{i}", t, "2026-04-23T10:22:26Z") for i, t in enumerate(types)])
    assert list(parsed.records.columns) == RECORD_COLUMNS
    assert list(parsed.records["outcome"]) == ["answered", "abandoned", "short_abandoned", "missed", "voicemail",
                                               "outbound", "outbound"]
    assert parsed.malformed.empty


def test_calls_current_shape_values():
    entry = call("17378a31cf7546d3acb9621f29a4e883", "inbound", "2026-04-23T10:22:26Z", end_at="2026-04-23T10:22:50Z",
                 talk_time=20, wait_time=3, hold_time=1, ring_groups="sales, support", user_id="67b3696b5b004334e155e996")
    parsed = parse_contact_report("calls", [entry])
    row = parsed.records.iloc[0]
    assert row["entry_key"] == "17378a31cf7546d3acb9621f29a4e883"
    assert row["started_at"] == utc("2026-04-23 10:22:26")
    assert row["ended_at"] == utc("2026-04-23 10:22:50")
    assert row["queue_ids"] == ("sales", "support")
    assert (row["wait_s"], row["talk_s"], row["hold_s"]) == (3.0, 20.0, 1.0)
    assert math.isnan(row["acw_s"]) and math.isnan(row["handle_s"])  # calls has no ACW / handle fields
    assert row["user_id"] == "67b3696b5b004334e155e996"
    assert raw_keys(parsed.raw) == ["17378a31cf7546d3acb9621f29a4e883"]
    assert raw_owners(parsed.raw) == [utc("2026-04-23 10:22:26")]
    assert raw_entries(parsed.raw) == [as_text(entry)]  # every field kept, as the text CSV would give


def test_calls_explore_ui_shape_gives_the_same_values_as_the_current_shape():
    current = call("x", "inbound", "2026-04-23T10:00:05Z", end_at="2026-04-23T10:02:05Z",
                   talk_time=100, wait_time=12, hold_time=10, ring_groups="sales,support", user_id="u1")
    explore_ui = {"interaction_id": "x", "call_type": "inbound", "start_time": "2026-04-23 10:00:05",
                  "end_time": "2026-04-23 10:02:05", "customer_phone_number": "+12025550103",
                  "talk_time": 0.0011574074, "waiting_time": 0.000138888889, "holding_time": 0.000115740741,
                  "agent_speed_to_answer": 0.000138888889, "in_business_hours?": "TRUE",
                  "tags": "sales+support", "team": "Sales Team A", "user_id": "u1"}
    a = parse_contact_report("calls", [current]).records
    b = parse_contact_report("calls", [explore_ui]).records
    pd.testing.assert_frame_equal(a, b)
    assert (b["wait_s"].iloc[0], b["talk_s"].iloc[0], b["hold_s"].iloc[0]) == (12.0, 100.0, 10.0)


def test_calls_documented_fraction_of_a_day_example_is_six_seconds_and_both_shapes_mix():
    entries = [
        {"interaction_id": "legacy-1", "call_type": "abandoned", "start_time": "2016-01-29 10:22:02",
         "end_time": "2016-01-29 10:22:08", "talk_time": 0.000069444446, "waiting_time": 0.000069444446,
         "holding_time": 0, "tags": "agents+rg1"},
        call("new-1", "missed", "2016-01-29T10:25:00Z", wait_time=30, ring_groups='["rg1"]'),
        {"callsid": "CA-legacy-2", "call_type": "voicemail", "start_time": "2016-01-29 10:30:00",
         "waiting_time": "0.000347222222", "talk_time": "", "holding_time": "", "tags": ""},
    ]
    records = parse_contact_report("calls", entries).records
    assert list(records["entry_key"]) == ["legacy-1", "new-1", "CA-legacy-2"]  # report order is kept
    assert list(records["outcome"]) == ["abandoned", "missed", "voicemail"]
    assert list(records["queue_ids"]) == [("agents", "rg1"), ("rg1",), ()]
    assert list(records["talk_s"]) == [6.0, 0.0, 0.0]
    assert list(records["wait_s"]) == [6.0, 30.0, 30.0]


def test_calls_csv_style_string_entries():
    entry = {"call_id": "c9", "callsid": "", "type": "inbound", "start_at": "2026-04-23 10:20:00", "end_at": "",
             "talk_time": "30", "wait_time": "", "hold_time": "4", "ring_groups": "", "user_id": ""}
    row = parse_contact_report("calls", [entry]).records.iloc[0]
    assert row["started_at"] == utc("2026-04-23 10:20:00")
    assert row["ended_at"] is pd.NaT
    assert (row["wait_s"], row["talk_s"], row["hold_s"]) == (0.0, 30.0, 4.0)
    assert row["queue_ids"] == ()
    assert row["user_id"] is None


def contact(contact_id: str, contact_type: str, direction: str = "IN", **fields) -> dict:
    entry = {"interaction_id": "i-" + contact_id, "contact_id": contact_id, "direction": direction,
             "contact_type": contact_type, "started_at": "2022-01-19 09:59:42", "finished_at": "2022-01-19 10:03:00",
             "wait_time": 5, "talk_time": 60, "hold_time": 7, "after_call_work_time": 20, "handle_time": 87,
             "ring_groups": "billing", "user_id": "u7"}
    entry.update(fields)
    return entry


def test_contacts_every_contact_type_ignoring_case_spaces_and_underscores():
    entries = [contact("a", "Answered"), contact("b", "ABANDONED"), contact("c", "Short Abandoned"),
               contact("d", "short_abandoned"), contact("e", "Missed"), contact("f", "voice mail"),
               contact("g", "Voicemail"), contact("h", "Connected", direction="OUT"),
               contact("i", "Not Connected", direction="out"), contact("j", "Answered", direction="OUT")]
    parsed = parse_contact_report("contacts", entries)
    assert parsed.malformed.empty
    assert list(parsed.records["outcome"]) == ["answered", "abandoned", "short_abandoned", "short_abandoned", "missed",
                                               "voicemail", "voicemail", "outbound", "outbound", "outbound"]


def test_contacts_values_and_csv_strings():
    parsed = parse_contact_report("contacts", [
        contact("a", "Answered"),
        {"interaction_id": "i-b", "contact_id": "b", "direction": "IN", "contact_type": "Answered",
         "started_at": "2022-01-19T10:00:00Z", "finished_at": "", "wait_time": "9", "talk_time": "50",
         "hold_time": "", "after_call_work_time": "", "handle_time": "", "ring_groups": "billing, sales", "user_id": ""},
    ])
    a, b = parsed.records.to_dict("records")
    assert a["started_at"] == utc("2022-01-19 09:59:42") and a["ended_at"] == utc("2022-01-19 10:03:00")
    assert (a["wait_s"], a["talk_s"], a["hold_s"], a["acw_s"], a["handle_s"]) == (5.0, 60.0, 7.0, 20.0, 87.0)
    assert a["queue_ids"] == ("billing",) and a["user_id"] == "u7"
    # The contacts report has ACW and handle fields: a blank value there means none (0), not "no such field".
    assert (b["wait_s"], b["talk_s"], b["hold_s"], b["acw_s"], b["handle_s"]) == (9.0, 50.0, 0.0, 0.0, 0.0)
    assert b["queue_ids"] == ("billing", "sales") and b["user_id"] is None


def test_malformed_entries_are_counted_with_reasons_and_good_ones_survive():
    entries = [
        call("good-1", "inbound", "2026-04-23T10:00:00Z"),
        call("no-start", "inbound", ""),
        call("bad-start", "inbound", "yesterday at ten"),
        call("bad-end", "inbound", "2026-04-23T10:01:00Z", end_at="not a time"),
        call("no-type", "", "2026-04-23T10:02:00Z"),
        call("odd-type", "transferred", "2026-04-23T10:03:00Z"),
        call("negative", "inbound", "2026-04-23T10:04:00Z", talk_time=-5),
        call("bad-number", "inbound", "2026-04-23T10:05:00Z", wait_time="abc"),
        call("good-2", "abandoned", "2026-04-23T10:06:00Z"),
    ]
    parsed = parse_contact_report("calls", entries)
    assert list(parsed.records["entry_key"]) == ["good-1", "good-2"]
    assert raw_keys(parsed.raw) == ["good-1", "good-2"]
    assert list(parsed.malformed["reason"]) == ["missing start_at", "unparseable start_at", "unparseable end_at",
                                                "missing type", "unknown type", "negative duration",
                                                "unparseable duration"]
    assert [json.loads(text)["call_id"] for text in parsed.malformed["entry"]] == [
        "no-start", "bad-start", "bad-end", "no-type", "odd-type", "negative", "bad-number"]
    assert list(parsed.malformed["owner_at"]) == [pd.NaT, pd.NaT, utc("2026-04-23 10:01:00"), utc("2026-04-23 10:02:00"),
                                                  utc("2026-04-23 10:03:00"), utc("2026-04-23 10:04:00"),
                                                  utc("2026-04-23 10:05:00")]
    assert str(parsed.malformed["owner_at"].dtype) == "datetime64[ns, UTC]"


def test_contacts_malformed_unknown_type_and_direction():
    parsed = parse_contact_report("contacts", [contact("a", "Transferred"), contact("b", "Answered", direction="SIDEWAYS"),
                                               contact("c", "", direction="IN"), contact("d", "Answered", direction="")])
    assert list(parsed.malformed["reason"]) == ["unknown contact_type", "unknown contact_type", "missing contact_type"]
    assert list(parsed.records["entry_key"]) == ["d"]  # no direction but an inbound type: inbound


def test_duplicate_entry_keys_keep_the_last_entry_once():
    first = call("dup", "inbound", "2026-04-23T10:00:00Z", talk_time=10)
    last = call("dup", "inbound", "2026-04-23T10:00:00Z", talk_time=50)
    malformed_duplicate = call("dup", "inbound", "")
    parsed = parse_contact_report("calls", [first, call("other", "missed", "2026-04-23T10:01:00Z"), last,
                                            malformed_duplicate])
    assert list(parsed.records["entry_key"]) == ["other", "dup"]
    assert parsed.records.set_index("entry_key").loc["dup", "talk_s"] == 50.0
    assert dict(zip(raw_keys(parsed.raw), raw_entries(parsed.raw)))["dup"]["talk_time"] == "50"
    assert list(parsed.malformed["reason"]) == ["missing start_at"]


def test_entries_without_an_id_get_a_stable_hash_key():
    entry = {"type": "inbound", "start_at": "2026-04-23T10:00:00Z", "talk_time": 3, "ring_groups": "agents"}
    same_keys_other_order = {"ring_groups": "agents", "talk_time": 3, "start_at": "2026-04-23T10:00:00Z", "type": "inbound"}
    other = dict(entry, talk_time=4)
    parsed = parse_contact_report("calls", [entry, other])
    again = parse_contact_report("calls", [same_keys_other_order])
    keys = list(parsed.records["entry_key"])
    assert len(set(keys)) == 2 and all(key.startswith("sha:") for key in keys)
    assert again.records["entry_key"].iloc[0] == keys[0]
    assert len(parse_contact_report("calls", [entry, entry]).records) == 1


def test_empty_report_and_unknown_report_type():
    parsed = parse_contact_report("calls", [])
    assert parsed.records.empty and parsed.raw.num_rows == 0 and parsed.malformed.empty
    assert list(parsed.records.columns) == RECORD_COLUMNS
    with pytest.raises(ValueError):
        parse_contact_report("user_status", [])
