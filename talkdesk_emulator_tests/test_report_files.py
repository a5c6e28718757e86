"""Report-file faults (a download host answering badly), empty CSV headers, wait fields and lost job answers."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from talkdesk_emulator.render import CALLS_COLUMNS, CALLS_LEGACY_COLUMNS, CONTACTS_COLUMNS, USER_STATUS_COLUMNS

WINDOW = ("2025-06-02T10:00:00Z", "2025-06-02T10:30:00Z")
LONG_WINDOW = ("2025-06-02T10:00:00Z", "2025-06-02T12:00:00Z")
GATEWAY_PAGE = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                "<body><h1>502 Bad Gateway</h1></body></html>")


@pytest.fixture
def fast(talkdesk):
    """Jobs finish at once: these tests are about the file, not the life cycle."""
    talkdesk.server.set_faults(report_processing_seconds=0)
    return talkdesk


def job_file(talkdesk, report_type: str, report_format: str = "json", window=WINDOW) -> requests.Response:
    created = talkdesk.create_job(report_type, *window, format=report_format)
    assert created.status_code == 202, created.text
    job_id = created.json()["job"]["id"]
    assert talkdesk.wait_done(report_type, job_id).status_code == 303
    return talkdesk.download(report_type, job_id)


def faults(talkdesk) -> dict:
    return requests.get(f"{talkdesk.url}/_emulator/faults").json()


def set_faults(talkdesk, **changes) -> requests.Response:
    response = requests.post(f"{talkdesk.url}/_emulator/faults", json=changes)
    assert response.status_code == 200, response.text
    return response


# -- report_file_fault -------------------------------------------------------------------------------
def test_json_file_faults(fast):
    clean = job_file(fast, "calls")
    real = clean.json()
    assert real["total"] == len(real["entries"]) > 5

    def spoiled(fault: str) -> requests.Response:
        set_faults(fast, report_file_fault=fault)
        response = job_file(fast, "calls")
        assert response.status_code == 200
        return response

    html = spoiled("html")
    assert html.headers["Content-Type"] == "text/html; charset=utf-8" and html.text == GATEWAY_PAGE
    xml = spoiled("xml")
    assert xml.headers["Content-Type"] == "application/xml"
    assert "<Error><Code>InternalError</Code>" in xml.text and xml.text.startswith("<?xml")
    empty = spoiled("empty_body")
    assert empty.content == b"" and empty.headers["Content-Type"] == "application/json"
    assert spoiled("no_entries").json() == {"type": "calls", "version": "v1", "total": real["total"]}
    assert spoiled("bare_list").json() == real["entries"]
    assert spoiled("total_mismatch").json() == {**real, "total": real["total"] + 7}
    assert spoiled("empty_report").json() == {"type": "calls", "version": "v1", "total": 0, "entries": []}
    assert spoiled("csv_no_header").content == clean.content  # a CSV fault: JSON files are unaffected
    truncated = spoiled("truncated")
    assert truncated.content == clean.content[: len(clean.content) // 2]
    with pytest.raises(ValueError):
        json.loads(truncated.content)


def test_csv_file_faults(fast):
    clean = job_file(fast, "contacts", "csv")
    lines = clean.text.splitlines()
    assert lines[0] == ",".join(CONTACTS_COLUMNS) and len(lines) > 5

    def spoiled(fault: str) -> requests.Response:
        set_faults(fast, report_file_fault=fault)
        response = job_file(fast, "contacts", "csv")
        assert response.status_code == 200
        return response

    no_header = spoiled("csv_no_header")
    assert no_header.text.splitlines() == lines[1:]
    assert spoiled("empty_report").text == lines[0] + "\r\n"
    empty = spoiled("empty_body")
    assert empty.content == b"" and empty.headers["Content-Type"].startswith("text/csv")
    assert spoiled("truncated").content == clean.content[: len(clean.content) // 2]
    assert spoiled("html").text == GATEWAY_PAGE
    for json_only in ("no_entries", "bare_list", "total_mismatch"):  # envelope faults: CSV files are unaffected
        assert spoiled(json_only).content == clean.content


def test_file_fault_is_captured_when_the_job_is_created(fast):
    set_faults(fast, report_file_fault="html")
    job_id = fast.create_job("calls", *WINDOW).json()["job"]["id"]
    set_faults(fast, report_file_fault=None)
    fast.wait_done("calls", job_id)
    assert fast.download("calls", job_id).text == GATEWAY_PAGE
    assert "entries" in job_file(fast, "calls").json()


def test_file_fault_limited_to_the_next_job_then_clears(fast):
    set_faults(fast, report_file_fault="xml", report_file_fault_jobs=1)
    refused = fast.create_job("calls", WINDOW[1], WINDOW[0])  # a refused request is not a job: it does not count
    assert refused.status_code == 400
    assert faults(fast)["report_file_fault"] == "xml"
    first = job_file(fast, "calls")
    assert "<Code>InternalError</Code>" in first.text
    state = faults(fast)
    assert state["report_file_fault"] is None and state["report_file_fault_jobs"] == 1
    second = job_file(fast, "calls")
    assert second.json()["total"] == len(second.json()["entries"])
    # Setting the fault again starts a new count of one.
    set_faults(fast, report_file_fault="empty_body")
    assert job_file(fast, "calls").content == b""
    assert faults(fast)["report_file_fault"] is None


def test_file_fault_limited_to_report_types(fast):
    set_faults(fast, report_file_fault="bare_list", report_file_fault_jobs=2, report_file_fault_types=["user_status"])
    calls = job_file(fast, "calls").json()  # another type: no fault, and it does not count
    assert calls["type"] == "calls" and calls["total"] == len(calls["entries"])
    assert faults(fast)["report_file_fault"] == "bare_list"
    for _ in range(2):
        statuses = job_file(fast, "user_status").json()
        assert isinstance(statuses, list) and statuses and "status_label" in statuses[0]
    assert faults(fast)["report_file_fault"] is None
    assert isinstance(job_file(fast, "user_status").json(), dict)


@pytest.mark.parametrize("changes", [
    {"report_file_fault": "pdf"}, {"report_file_fault_jobs": 0}, {"report_file_fault_jobs": True},
    {"report_file_fault_types": ["calls", "nope"]}, {"report_file_fault_types": "calls"},
    {"wait_fields": "both"}, {"job_create_delay_seconds": -1}, {"poison_rate": 1.5},
    {"directory_listing": "some"}, {"poison_user_names": 1},
])
def test_new_fault_values_are_validated(talkdesk, changes):
    response = requests.post(f"{talkdesk.url}/_emulator/faults", json=changes)
    assert response.status_code == 400 and next(iter(changes)) in response.json()["error"]


# -- empty CSV reports -------------------------------------------------------------------------------
@pytest.mark.parametrize("report_type, payload, columns", [
    ("calls", "current", CALLS_COLUMNS), ("calls", "legacy", CALLS_LEGACY_COLUMNS),
    ("contacts", "current", CONTACTS_COLUMNS), ("user_status", "current", USER_STATUS_COLUMNS),
])
def test_an_empty_csv_report_keeps_its_header(fast, report_type, payload, columns):
    now = datetime.now(timezone.utc).replace(microsecond=0)  # an hour that has not ended yet, whatever the day
    window = tuple(t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (now - timedelta(hours=1), now))
    set_faults(fast, data_delay_seconds=3 * 3600, calls_payload=payload)  # nothing in the window has ended yet
    empty = job_file(fast, report_type, "csv", window)
    assert empty.text == ",".join(columns) + "\r\n"
    assert job_file(fast, report_type, "json", window).json()["total"] == 0
    full = job_file(fast, report_type, "csv", WINDOW)
    assert full.text.splitlines()[0] == ",".join(columns) and len(full.text.splitlines()) > 2


# -- wait_fields -------------------------------------------------------------------------------------
def test_wait_fields_specific_only_in_contacts(fast):
    specific_fields = {"Abandoned": "abandon_time", "Short Abandoned": "short_abandon_time",
                       "Missed": "time_to_missed", "Voicemail": "time_to_voicemail"}
    usual = {e["interaction_id"]: e for e in job_file(fast, "contacts", window=LONG_WINDOW).json()["entries"]}
    set_faults(fast, wait_fields="specific_only")
    specific = job_file(fast, "contacts", window=LONG_WINDOW).json()["entries"]
    assert set(usual) == {e["interaction_id"] for e in specific}
    seen = set()
    for entry in specific:
        before = usual[entry["interaction_id"]]
        field = specific_fields.get(entry["contact_type"])
        if field is None:  # answered (and outbound) contacts are unchanged
            assert entry == before
            continue
        assert entry["wait_time"] == 0 and entry[field] == before["wait_time"] == before[field]
        assert entry == {**before, "wait_time": 0}
        seen.add(entry["contact_type"])
    assert seen == set(specific_fields)

    def total_wait(entries, pick):
        return sum(e["wait_time"] if e["wait_time"] > 0 else e.get(pick(e), 0) for e in entries)

    pick = lambda e: specific_fields.get(e["contact_type"], "wait_time")  # noqa: E731
    assert total_wait(specific, pick) == total_wait(usual.values(), pick) > 0
    assert sum(e["wait_time"] for e in specific) < sum(e["wait_time"] for e in usual.values())


def test_wait_fields_specific_only_in_calls(fast):
    usual = {e["call_id"]: e for e in job_file(fast, "calls", window=LONG_WINDOW).json()["entries"]}
    set_faults(fast, wait_fields="specific_only")
    specific = job_file(fast, "calls", window=LONG_WINDOW).json()["entries"]
    types = set()
    for entry in specific:
        before = usual[entry["call_id"]]
        if entry["type"] in ("abandoned", "short_abandoned"):
            assert entry == {**before, "wait_time": 0} and entry["abandon_time"] == before["wait_time"]
            types.add(entry["type"])
        else:  # answered, missed and voicemail keep wait_time (no other field measures them here)
            assert entry == before
    assert types == {"abandoned", "short_abandoned"}
    assert any(e["type"] in ("missed", "voicemail") and e["wait_time"] > 0 for e in specific)
    def total(entries):
        return sum(e["wait_time"] if e["wait_time"] > 0 else e["abandon_time"] for e in entries)

    assert total(specific) == total(usual.values()) > 0
    # The legacy shape has no specific field: unchanged.
    set_faults(fast, calls_payload="legacy")
    legacy_specific = job_file(fast, "calls").json()
    set_faults(fast, wait_fields="wait_time")
    assert job_file(fast, "calls").json() == legacy_specific


# -- job_create_delay_seconds ------------------------------------------------------------------------
def test_delayed_job_creation_answer_is_lost_but_the_job_exists(fast):
    set_faults(fast, job_create_delay_seconds=1.0)
    body = {"format": "json", "timespan": {"from": WINDOW[0], "to": WINDOW[1]}}
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(f"{fast.url}/data/reports/calls/jobs", json=body, headers=fast.headers(), timeout=(2, 0.3))
    assert time.monotonic() - started < 0.9
    listed = fast.get("/data/reports/calls/jobs").json()
    assert listed["total"] == 1 and listed["_embedded"]["jobs"][0]["timespan"]["from"] == "2025-06-02 10:00:00+00:00"
    fast.server.set_faults(job_create_delay_seconds=0)
    assert fast.create_job("calls", *WINDOW).status_code == 202
    assert fast.get("/data/reports/calls/jobs").json()["total"] == 2


# -- poison_rate -------------------------------------------------------------------------------------
def _key_of_contact(entry: dict, id_field: str) -> int:
    return int(entry[id_field][:16], 16)  # the report key is the id's high 64 bits


@pytest.mark.parametrize("report_type, shape, id_field, name_field, used_field, start_field", [
    ("calls", "current", "call_id", "user_name", "ring_groups", "start_at"),
    ("contacts", "current", "interaction_id", "user_name", "ring_groups", "started_at"),
    ("calls", "legacy", "interaction_id", "agent_name", "tags", "start_time"),
])
def test_poisons_in_contact_reports(fast, report_type, shape, id_field, name_field, used_field, start_field):
    set_faults(fast, calls_payload=shape)
    clean = job_file(fast, report_type, window=LONG_WINDOW).json()["entries"]
    set_faults(fast, poison_rate=1.0)
    response = job_file(fast, report_type, window=LONG_WINDOW)
    assert b"\\ud83d" in response.content and b"\\udc00" in response.content and b"\\u0000" in response.content
    poisoned = response.json()["entries"]
    assert len(poisoned) == len(clean)
    separator = "+" if shape == "legacy" else ","
    kinds = set()
    for before, after in zip(clean, poisoned):
        kind = _key_of_contact(before, id_field) % 5
        kinds.add(kind)
        first, found, rest = before[used_field].partition(separator)
        tail = found + rest
        expected = {
            0: {name_field: (before[name_field] or "") + "\ud83d"},
            1: {used_field: first + "\udc00" + tail},
            2: {used_field: first + "\x00" + tail},
            3: {"talk_time": 1e300},
            4: {start_field: "1971-01-01T00:00:00Z"},
        }[kind]
        assert after == {**before, **expected}
    assert kinds == {0, 1, 2, 3, 4}


def test_poisons_in_user_status(fast):
    users = fast.get("/users", params={"per_page": 200}).json()["_embedded"]["users"]
    agent_index = {u["id"]: i for i, u in enumerate(users)}
    clean = job_file(fast, "user_status").json()["entries"]
    set_faults(fast, poison_rate=1.0)
    poisoned = job_file(fast, "user_status").json()["entries"]
    assert len(poisoned) == len(clean) > 20
    kinds = set()
    for before, after in zip(clean, poisoned):
        start = int(datetime.strptime(before["status_start_at"], "%Y-%m-%dT%H:%M:%SZ")
                    .replace(tzinfo=timezone.utc).timestamp())
        kind = ((start * 7919 + agent_index[before["user_id"]]) % 2**64) % 5
        kinds.add(kind)
        expected = {
            0: {"user_name": before["user_name"] + "\ud83d"},
            1: {"status_label": before["status_label"] + "\udc00"},
            2: {"status_label": before["status_label"] + "\x00"},
            3: {"status_time": 1e300},
            4: {"status_start_at": "1971-01-01T00:00:00Z", "status_end_at": "1971-01-01T00:10:00Z"},
        }[kind]
        assert after == {**before, **expected}
    assert kinds == {0, 1, 2, 3, 4}


def test_poisons_in_csv_use_nul_instead_of_surrogates(fast):
    clean = list(csv.DictReader(io.StringIO(job_file(fast, "calls", "csv").text)))
    set_faults(fast, poison_rate=1.0)
    raw = job_file(fast, "calls", "csv").content
    poisoned = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))  # strict UTF-8: no lone surrogate
    assert len(poisoned) == len(clean) > 5
    kinds = set()
    for before, after in zip(clean, poisoned):
        kind = _key_of_contact(before, "call_id") % 5
        kinds.add(kind)
        first, _, rest = before["ring_groups"].partition(",")
        nul = {"ring_groups": first + "\x00" + ("," + rest if rest else "")}
        expected = {0: nul, 1: nul, 2: nul, 3: {"talk_time": "1e+300"}, 4: {"start_at": "1971-01-01T00:00:00Z"}}[kind]
        assert after == {**before, **expected}
    assert kinds == {0, 1, 2, 3, 4}


def test_poison_rate_picks_other_entries_than_malformed_rate(fast):
    clean = job_file(fast, "calls", window=LONG_WINDOW).json()["entries"]
    set_faults(fast, poison_rate=0.3)
    poisoned = job_file(fast, "calls", window=LONG_WINDOW).json()["entries"]
    chosen = {b["call_id"] for b, a in zip(clean, poisoned) if a != b}
    assert 0.15 * len(clean) < len(chosen) < 0.45 * len(clean)
    set_faults(fast, poison_rate=0.0, malformed_rate=0.3)
    malformed = job_file(fast, "calls", window=LONG_WINDOW).json()["entries"]
    corrupted = {b["call_id"] for b, a in zip(clean, malformed) if a != b}
    assert len(chosen & corrupted) < 0.5 * min(len(chosen), len(corrupted))
    set_faults(fast, poison_rate=0.3, malformed_rate=0.0)
    assert job_file(fast, "calls", window=LONG_WINDOW).json()["entries"] == poisoned  # deterministic
