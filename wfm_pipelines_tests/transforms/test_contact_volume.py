"""The counting rules of docs/counting-rules.md on hand-built report entries; every expected figure is worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wfm_pipelines.talkdesk.parsing import parse_contact_report, parse_queues
from wfm_pipelines.transforms.contact_volume import VOLUME_COLUMNS, aggregate_contact_volume, reaggregate_raw_entries

WINDOW = {"window_start": "2026-04-23T10:00:00Z", "window_end": "2026-04-23T10:30:00Z",
          "collected_at": "2026-04-23T10:40:00Z"}
COLUMNS_OF_INTEREST = ["entered_count", "handled_count", "abandoned_count", "short_abandoned_count", "missed_count",
                       "voicemail_count", "sum_handle_time_s", "sum_talk_time_s", "sum_hold_time_s",
                       "sum_answer_wait_s", "sum_abandon_wait_s", "answered_in_sl_count"]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def call(call_id, call_type, start_at, ring_groups, wait=0, talk=0, hold=0) -> dict:
    return {"call_id": call_id, "type": call_type, "start_at": start_at, "end_at": None, "ring_groups": ring_groups,
            "wait_time": wait, "talk_time": talk, "hold_time": hold, "user_id": None}


def queues_frame() -> pd.DataFrame:
    queues = parse_queues([{"name": "sales", "wait_time_threshold": 30}, {"name": "support"}, {"name": "quiet"},
                           {"name": "retired", "wait_time_threshold": 10}], "ring_group")
    queues["active"] = [True, True, True, False]
    return queues


CALLS = [
    call("c1", "inbound", "2026-04-23T10:00:00Z", "sales", wait=30, talk=100, hold=10),   # wait == threshold: in SL
    call("c2", "inbound", "2026-04-23 10:05:00", "sales", wait=31, talk=200),             # threshold + 1: not in SL
    call("c3", "inbound", "2026-04-23T11:14:59+01:00", "sales, support", wait=20, talk=50, hold=5),
    call("c4", "inbound", "2026-04-23T10:15:00.000Z", "support", wait=21, talk=40),        # default 20 s + 1
    call("c5", "abandoned", "2026-04-23T10:10:00Z", "support", wait=15),
    call("c6", "short_abandoned", "2026-04-23T10:11:00Z", "support", wait=3),
    call("c7", "missed", "2026-04-23T10:12:00Z", '["sales"]', wait=25),
    call("c8", "voicemail", "2026-04-23T10:20:00Z", "", wait=40),
    call("c9", "outbound", "2026-04-23T10:03:00Z", "sales", talk=300),
    call("c10", "outbound_missed", "2026-04-23T10:04:00Z", ""),
    call("c11", "inbound", "2026-04-23T09:59:59Z", "sales", talk=1),
    call("c12", "inbound", "2026-04-23T10:30:00Z", "sales", talk=1),
    call("c13", "abandoned", "2026-04-23T10:16:00Z", "ghost", wait=7),
    call("c14", "inbound", "2026-04-23T10:17:00Z", "ghost", wait=20, talk=10),
    call("c15", "abandoned", "2026-04-23T10:25:00Z", "retired", wait=9),
]

#               entered handled aband short missed vm handle talk hold answer_wait abandon_wait in_sl
EXPECTED_CALLS = {
    ("_unassigned", "10:15"): (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0),
    ("ghost", "10:15"): (2, 1, 1, 0, 0, 0, 10, 10, 0, 20, 7, 1),
    ("quiet", "10:00"): (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ("quiet", "10:15"): (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ("retired", "10:15"): (1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0),
    ("sales", "10:00"): (4, 3, 0, 0, 1, 0, 365, 350, 15, 81, 0, 2),
    ("sales", "10:15"): (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ("support", "10:00"): (2, 1, 1, 1, 0, 0, 55, 50, 5, 20, 15, 1),
    ("support", "10:15"): (1, 1, 0, 0, 0, 0, 40, 40, 0, 21, 0, 0),
}


def as_table(volume: pd.DataFrame) -> dict:
    return {(row["queue_id"], row["interval_start"].strftime("%H:%M")): tuple(row[c] for c in COLUMNS_OF_INTEREST)
            for row in volume.to_dict("records")}


def test_calls_counting_rules():
    parsed = parse_contact_report("calls", CALLS)
    volume = aggregate_contact_volume(parsed.records, queues_frame(), **WINDOW)
    assert as_table(volume) == EXPECTED_CALLS
    assert list(zip(volume["queue_id"], volume["interval_start"].dt.strftime("%H:%M"))) == list(EXPECTED_CALLS)
    assert volume["sum_acw_time_s"].isna().all()  # calls has no ACW
    assert (volume["interval_minutes"] == 15).all()
    assert (volume["collected_at"] == utc("2026-04-23 10:40:00")).all()


def test_output_columns_and_types():
    volume = aggregate_contact_volume(parse_contact_report("calls", CALLS).records, queues_frame(), **WINDOW)
    assert list(volume.columns) == VOLUME_COLUMNS
    for column in VOLUME_COLUMNS:
        if column.endswith("_count") or column == "interval_minutes":
            assert volume[column].dtype == np.int64, column
        elif column.startswith("sum_"):
            assert volume[column].dtype == np.float64, column
    assert str(volume["interval_start"].dtype) == "datetime64[ns, UTC]"
    assert str(volume["collected_at"].dtype) == "datetime64[ns, UTC]"


EXPLORE_UI_START_TIMES = ["10:00:00", "10:05:00", "10:14:59", "10:15:00", "10:10:00", "10:11:00", "10:12:00",
                          "10:20:00", "10:03:00", "10:04:00", "09:59:59", "10:30:00", "10:16:00", "10:17:00", "10:25:00"]


def test_both_calls_payload_shapes_aggregate_identically():
    explore_ui = [{"interaction_id": c["call_id"], "call_type": c["type"], "start_time": f"2026-04-23 {start}",
                   "end_time": "", "waiting_time": c["wait_time"] / 86400, "talk_time": c["talk_time"] / 86400,
                   "holding_time": c["hold_time"] / 86400, "tags": c["ring_groups"].replace(", ", "+").strip('[]"')}
                  for c, start in zip(CALLS, EXPLORE_UI_START_TIMES)]
    volume = aggregate_contact_volume(parse_contact_report("calls", explore_ui).records, queues_frame(), **WINDOW)
    assert as_table(volume) == EXPECTED_CALLS


def test_csv_style_entries_aggregate_identically():
    csv_rows = [{key: "" if value is None else str(value) for key, value in c.items()} for c in CALLS]
    volume = aggregate_contact_volume(parse_contact_report("calls", csv_rows).records, queues_frame(), **WINDOW)
    assert as_table(volume) == EXPECTED_CALLS


def test_malformed_entries_do_not_stop_the_good_ones_from_aggregating():
    entries = CALLS + [call("bad1", "inbound", "garbage", "sales", talk=999),
                       call("bad2", "teleported", "2026-04-23T10:01:00Z", "sales"),
                       call("bad3", "inbound", "2026-04-23T10:01:00Z", "sales", talk=-3)]
    parsed = parse_contact_report("calls", entries)
    assert len(parsed.malformed) == 3
    assert as_table(aggregate_contact_volume(parsed.records, queues_frame(), **WINDOW)) == EXPECTED_CALLS


def contact(contact_id, contact_type, started_at, ring_groups, direction="IN", **durations) -> dict:
    entry = {"contact_id": contact_id, "direction": direction, "contact_type": contact_type, "started_at": started_at,
             "finished_at": "", "ring_groups": ring_groups, "wait_time": 0, "talk_time": 0, "hold_time": 0,
             "after_call_work_time": 0, "handle_time": 0}
    entry.update(durations)
    return entry


def test_contacts_counting_rules_with_acw_and_handle_formula():
    entries = [
        # handle_time 999 disagrees with talk + hold + ACW on purpose: the formula wins (87).
        contact("k1", "Answered", "2026-04-23 10:01:00", "sales", wait_time=10, talk_time=60, hold_time=7,
                after_call_work_time=20, handle_time=999),
        contact("k2", "answered", "2026-04-23 10:02:00", "sales", wait_time=30, talk_time=40, after_call_work_time=5),
        contact("k3", "Short Abandoned", "2026-04-23 10:03:00", "sales", wait_time=2),
        contact("k4", "ABANDONED", "2026-04-23 10:04:00", "sales", wait_time=12),
        contact("k5", "Missed", "2026-04-23 10:05:00", "sales", wait_time=18),
        contact("k6", "Voicemail", "2026-04-23 10:06:00", "", wait_time=25),
        contact("k7", "Connected", "2026-04-23 10:07:00", "sales", direction="OUT", talk_time=500,
                after_call_work_time=50),
    ]
    parsed = parse_contact_report("contacts", entries)
    assert parsed.malformed.empty
    volume = aggregate_contact_volume(parsed.records, queues_frame(), **WINDOW)
    rows = {(r["queue_id"], r["interval_start"].strftime("%H:%M")): r for r in volume.to_dict("records")}
    sales = rows[("sales", "10:00")]
    assert tuple(sales[c] for c in COLUMNS_OF_INTEREST) == (4, 2, 1, 1, 1, 0, 132, 100, 7, 40, 12, 2)
    assert sales["sum_acw_time_s"] == 25.0
    assert rows[("_unassigned", "10:00")]["voicemail_count"] == 1
    assert rows[("_unassigned", "10:00")]["sum_acw_time_s"] == 0.0
    # A quiet interval of a report that has ACW: 0, not NULL.
    assert rows[("quiet", "10:15")]["sum_acw_time_s"] == 0.0
    assert rows[("sales", "10:15")]["sum_handle_time_s"] == 0.0


def test_report_type_decides_acw_nullness_even_without_records():
    empty = parse_contact_report("contacts", []).records
    contacts_volume = aggregate_contact_volume(empty, queues_frame(), **WINDOW)
    calls_volume = aggregate_contact_volume(empty, queues_frame(), report_type="calls", **WINDOW)
    assert len(contacts_volume) == 6  # sales, support, quiet x 2 intervals; retired is inactive
    assert (contacts_volume["sum_acw_time_s"] == 0.0).all()
    assert calls_volume["sum_acw_time_s"].isna().all()
    assert (contacts_volume["entered_count"] == 0).all()


def test_queue_frame_without_active_column_means_all_active_and_none_means_no_zero_rows():
    records = parse_contact_report("calls", [call("c1", "inbound", "2026-04-23T10:00:00Z", "sales", wait=5)]).records
    queues = parse_queues([{"name": "sales"}, {"name": "support"}], "ring_group")
    volume = aggregate_contact_volume(records, queues, **WINDOW)
    assert list(zip(volume["queue_id"], volume["handled_count"])) == [
        ("sales", 1), ("sales", 0), ("support", 0), ("support", 0)]
    only_contacts = aggregate_contact_volume(records, None, **WINDOW)
    assert list(only_contacts["queue_id"]) == ["sales"]
    assert only_contacts["answered_in_sl_count"].iloc[0] == 1


def test_window_must_be_aligned_and_ordered_and_may_be_empty():
    records = parse_contact_report("calls", CALLS).records
    with pytest.raises(ValueError):
        aggregate_contact_volume(records, None, window_start="2026-04-23T10:05:00Z",
                                 window_end="2026-04-23T10:30:00Z", collected_at="2026-04-23T11:00:00Z")
    with pytest.raises(ValueError):
        aggregate_contact_volume(records, None, window_start="2026-04-23T10:30:00Z",
                                 window_end="2026-04-23T10:15:00Z", collected_at="2026-04-23T11:00:00Z")
    empty = aggregate_contact_volume(records, queues_frame(), window_start="2026-04-23T10:15:00Z",
                                     window_end="2026-04-23T10:15:00Z", collected_at="2026-04-23T11:00:00Z")
    assert empty.empty and list(empty.columns) == VOLUME_COLUMNS
    assert str(empty["interval_start"].dtype) == "datetime64[ns, UTC]"
    assert empty["entered_count"].dtype == np.int64


def test_reaggregating_the_raw_entries_gives_the_same_rows():
    parsed = parse_contact_report("calls", CALLS + [call("bad", "inbound", "", "sales")])
    collected = aggregate_contact_volume(parsed.records, queues_frame(), **WINDOW)
    again = reaggregate_raw_entries("calls", parsed.raw, queues_frame(), **WINDOW)
    pd.testing.assert_frame_equal(collected, again)


def test_interval_boundary_is_exact_to_the_millisecond():
    records = parse_contact_report("calls", [
        call("a", "inbound", "2026-04-23T10:14:59.999Z", "sales"),
        call("b", "inbound", "2026-04-23T10:15:00Z", "sales"),
        call("c", "inbound", "2026-04-23T10:29:59.999Z", "sales"),
    ]).records
    volume = aggregate_contact_volume(records, None, **WINDOW)
    assert list(volume["handled_count"]) == [1, 2]
    assert not math.isnan(volume["sum_handle_time_s"].iloc[0])
