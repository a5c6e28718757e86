"""How a report file is read (issue 21): a CSV header of JSON keys or of display names gives the same entries, a
header naming no documented field is never data, and JSON (decoded by msgspec, built a column at a time) keeps
every type-tolerance rule of the standard library's reading."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from wfm_pipelines.talkdesk.errors import ReportFileError, ReportHeaderUnknownError
from wfm_pipelines.talkdesk.report_columns import (DISPLAY_NAMES, DOCUMENTED_FIELDS, SNAKE_CASE, generic_name,
                                                   read_header)
from wfm_pipelines.talkdesk.report_files import entries_as_dicts, read_report
from wfm_pipelines.talkdesk.report_table import BROKEN_COLUMN, NOT_AN_OBJECT, entries_to_table, value_text
from wfm_pipelines_tests.reference_day import reference_window

START, END = reference_window(1, from_hour=9)
WINDOW = dict(start=START, end=END)


def csv_rows(body: bytes, report_type: str = "calls") -> list[dict]:
    return entries_as_dicts(read_report(body, "text/csv", report_type=report_type, **WINDOW))


@pytest.mark.parametrize("name, generic", [
    ("Call Id", "call_id"), ("call_id", "call_id"), ("In Business Hours?", "in_business_hours"),
    ("in_business_hours?", "in_business_hours"), ("wrap-up_duration", "wrap_up_duration"),
    ("Wrap-Up Duration", "wrap_up_duration"), ("  Contact ID ", "contact_id"), ("Start At (UTC)", "start_at_utc"),
])
def test_the_generic_rule_lowers_case_and_makes_spaces_and_punctuation_one_underscore(name, generic):
    assert generic_name(name) == generic


@pytest.mark.parametrize("report_type, written, expected", [
    ("calls", ["Call Id", "Type", "Start At", "Ring Groups", "Talk Time", "Recording Url"],
     ["call_id", "type", "start_at", "ring_groups", "talk_time", "recording_url"]),
    # Capitals as a data dictionary writes them, or each word capitalized: both are read.
    ("contacts", ["Contact ID", "Contact Started At", "Contact Type", "Direction"],
     ["contact_id", "started_at", "contact_type", "direction"]),
    ("contacts", ["Contact Id", "Started At", "Contact Type", "Direction"],
     ["contact_id", "started_at", "contact_type", "direction"]),
    # The older calls shape keeps its punctuation in its JSON keys.
    ("calls", ["Interaction Id", "Call Type", "Start Time", "In Business Hours?", "Transfer?"],
     ["interaction_id", "call_type", "start_time", "in_business_hours?", "transfer?"]),
    ("user_status", ["User Id", "Status Label", "Status Start At", "Status End At", "Status Time"],
     ["user_id", "status_label", "status_start_at", "status_end_at", "status_time"]),
])
def test_display_names_are_mapped_to_the_documented_fields(report_type, written, expected):
    reading = read_header(report_type, written)
    assert list(reading.names) == expected
    assert reading.style == DISPLAY_NAMES and reading.names_a_documented_field


def test_a_header_of_json_keys_is_taken_as_written_unknown_names_included():
    reading = read_header("calls", ["call_id", "type", "start_at", "Custom Field?"])
    assert reading.names == ("call_id", "type", "start_at", "Custom Field?") and reading.style == SNAKE_CASE


def test_in_a_display_name_header_an_unknown_name_takes_its_generic_form_and_no_name_is_taken_twice():
    reading = read_header("calls", ["Call Id", "Team Custom Tag", "call_id"])
    assert reading.names == ("call_id", "team_custom_tag", "call_id_3") and reading.style == DISPLAY_NAMES


def test_every_documented_field_is_found_again_from_its_capitalized_display_name():
    for report_type, fields in DOCUMENTED_FIELDS.items():
        display = [" ".join(word.capitalize() for word in field.split("_")) for field in fields]
        assert list(read_header(report_type, display).names) == list(fields), report_type


def test_a_display_name_csv_gives_the_entries_a_json_key_csv_gives():
    rows = b"c1,inbound,2026-12-02T09:00:00Z,\"Sales, EMEA\",12\r\nc2,abandoned,2026-12-02T09:01:00Z,,\r\n"
    snake = csv_rows(b"call_id,type,start_at,ring_groups,talk_time\r\n" + rows)
    display = csv_rows(b"Call Id,Type,Start At,Ring Groups,Talk Time\r\n" + rows)
    assert display == snake == [
        {"call_id": "c1", "type": "inbound", "start_at": "2026-12-02T09:00:00Z", "ring_groups": "Sales, EMEA",
         "talk_time": "12"},
        {"call_id": "c2", "type": "abandoned", "start_at": "2026-12-02T09:01:00Z"}]


@pytest.mark.parametrize("header", [b"Identificador,Tipo,Inicio", b"c1,inbound,2026-12-02T09:00:00Z",
                                    b"foo,bar"])
def test_a_header_naming_no_documented_field_is_never_read_as_data_nor_as_no_rows(header):
    with pytest.raises(ReportHeaderUnknownError) as caught:
        read_report(header + b"\r\nc9,inbound,2026-12-02T09:05:00Z\r\n", "text/csv", report_type="calls", **WINDOW)
    message = str(caught.value)
    assert "CSV without a header row naming a documented field" in message
    assert "Talkdesk report 'calls'" in message and START.isoformat() in message
    assert "WFM_REPORT_FORMAT=auto" in message and "Nothing was stored" in message
    assert "c1" not in message and "c9" not in message and "not shown: the first row may be data" in message
    assert isinstance(caught.value, ReportFileError)


def test_a_csv_header_only_file_of_display_names_is_an_empty_report():
    assert csv_rows(b"User Id,Status Label,Status Start At,Status End At\r\n", "user_status") == []


# -- JSON -------------------------------------------------------------------------------------------------
TRICKY_ENTRIES = [
    {"call_id": "c1", "talk_time": 12, "hold_time": "3", "is_transfer": True, "ratio": 1.0, "notes": None,
     "big": 123456789012345678901234567890, "tags": ["a", "b"], "extra": {"k": 1}, "user_name": "Zoë"},
    {"call_id": "c2", "talk_time": "12", "hold_time": 3.5, "is_transfer": "false", "ratio": 1e-05, "notes": "",
     "big": -9223372036854775808, "tags": None, "user_name": "bad\ud83d"},
    {"call_id": "c3", "talk_time": None, "ratio": 6.9444446e-05, "late_field": 0, "is_transfer": False},
    7,
]


def reference_texts(entries: list) -> list[dict]:
    """The standard library's reading, value by value: what every report was read as before msgspec."""
    rows = []
    for entry in entries:
        if not isinstance(entry, dict):
            rows.append({NOT_AN_OBJECT: json.dumps(entry)})
            continue
        row = {}
        for key, value in entry.items():
            text = value_text(value)
            if text is not None:
                row[key] = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
        rows.append(row)
    return rows


def test_json_values_become_the_text_the_standard_library_reading_gave():
    body = json.dumps({"type": "calls", "version": "v1", "total": len(TRICKY_ENTRIES), "entries": TRICKY_ENTRIES})
    table = read_report(body.encode(), "application/json", report_type="calls", **WINDOW)
    rows = entries_as_dicts(table.drop_columns([BROKEN_COLUMN]))
    assert rows == reference_texts(json.loads(body)["entries"])
    assert rows[0]["big"] == "123456789012345678901234567890" and rows[0]["ratio"] == "1.0"
    assert rows[1]["talk_time"] == "12" and rows[0]["talk_time"] == "12" and rows[2]["is_transfer"] == "false"
    assert table.column(BROKEN_COLUMN).to_pylist() == [None, "user_name", None, None]
    assert table.column_names[:3] == ["call_id", "talk_time", "hold_time"]  # first appearance order


def test_a_json_body_msgspec_refuses_is_read_by_the_standard_library():
    body = b'{"total": 2, "entries": [{"call_id": "c1", "talk_time": NaN}, {"call_id": "c2\\udc00"}]}'
    table = read_report(body, "application/json", report_type="calls", **WINDOW)
    assert table.column("talk_time").to_pylist() == ["NaN", None]
    assert table.column("call_id").to_pylist() == ["c1", "c2\ufffd"]
    assert table.column(BROKEN_COLUMN).to_pylist() == [None, "call_id"]
    with pytest.raises(ReportFileError, match="not valid JSON"):
        read_report(body[:-5], "application/json", report_type="calls", **WINDOW)


def test_columns_of_one_type_are_converted_whole_and_match_value_by_value():
    entries = [{"s": f"v{i}", "i": i, "b": i % 2 == 0, "n": None} for i in range(1000)]
    table = entries_to_table(entries)
    assert table.schema == pa.schema([(name, pa.string()) for name in ("s", "i", "b", "n")])
    assert entries_as_dicts(table) == reference_texts(entries)
