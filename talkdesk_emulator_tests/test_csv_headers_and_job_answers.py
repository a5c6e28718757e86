"""The two readings of Talkdesk that public clients suggest beside the documented one (issue 21): a CSV header of
display names (`Call Id`, `Start At`) instead of the JSON keys, and 204 / 302 answers while a job is polled
instead of 200 / 303. Both are switches, off by default: per account (`csv_header` in the accounts file, or
`EmulatorConfig`) and at run time (`POST /_emulator/faults`)."""

from __future__ import annotations

import csv
import io
import time

import pytest
import requests

from talkdesk_emulator.accounts_file import AccountsFileError, parse_accounts
from talkdesk_emulator.config import EmulatorConfig
from talkdesk_emulator.render import (CALLS_COLUMNS, CALLS_LEGACY_COLUMNS, CONTACTS_COLUMNS, USER_STATUS_COLUMNS,
                                      display_name)
from talkdesk_emulator.server import EmulatorServer

WINDOW = ("2025-06-02T10:00:00Z", "2025-06-02T10:30:00Z")


def set_faults(url: str, **changes) -> requests.Response:
    return requests.post(f"{url}/_emulator/faults", json=changes, timeout=5)


def csv_rows(talkdesk, report_type: str) -> tuple[list[str], list[list[str]]]:
    created = talkdesk.create_job(report_type, *WINDOW, format="csv")
    job_id = created.json()["job"]["id"]
    assert talkdesk.wait_done(report_type, job_id).status_code == 303
    rows = list(csv.reader(io.StringIO(talkdesk.download(report_type, job_id).text)))
    return rows[0], rows[1:]


def test_by_default_a_csv_header_is_the_json_keys_and_polling_answers_200_then_303(talkdesk):
    defaults = requests.get(f"{talkdesk.url}/_emulator/faults", timeout=5).json()
    assert (defaults["csv_header"], defaults["job_pending_status"], defaults["job_done_status"]) == (
        "snake_case", 200, 303)
    header, _ = csv_rows(talkdesk, "calls")
    assert tuple(header) == CALLS_COLUMNS


def test_display_names_capitalize_each_word_and_take_the_data_dictionarys_spellings():
    assert display_name("calls", "call_id") == "Call Id"
    assert display_name("calls", "start_at") == "Start At"
    assert display_name("calls", "ring_groups") == "Ring Groups"
    assert display_name("calls_legacy", "in_business_hours?") == "In Business Hours?"
    assert display_name("contacts", "contact_id") == "Contact ID"
    assert display_name("contacts", "started_at") == "Contact Started At"
    assert display_name("user_status", "status_start_at") == "Status Start At"


@pytest.mark.parametrize("report_type, columns, shape", [
    ("calls", CALLS_COLUMNS, "calls"), ("contacts", CONTACTS_COLUMNS, "contacts"),
    ("user_status", USER_STATUS_COLUMNS, "user_status"), ("explore_calls", CALLS_LEGACY_COLUMNS, "calls_legacy"),
])
def test_the_display_name_header_names_the_same_columns_and_the_rows_are_unchanged(talkdesk, report_type, columns,
                                                                                  shape):
    header, rows = csv_rows(talkdesk, report_type)
    assert set_faults(talkdesk.url, csv_header="display_names").status_code == 200
    display_header, display_rows = csv_rows(talkdesk, report_type)
    assert display_header == [display_name(shape, name) for name in columns] != header
    assert display_rows == rows and len(rows) > 3
    # JSON is not touched: its keys stay the documented ones.
    entries = talkdesk.report(report_type, *WINDOW)["entries"]
    assert list(entries[0]) == list(columns)


def test_an_empty_csv_report_keeps_its_display_name_header(talkdesk):
    set_faults(talkdesk.url, csv_header="display_names", report_file_fault="empty_report")
    header, rows = csv_rows(talkdesk, "user_status")
    assert header[:3] == ["User Name", "User Email", "User Id"] and rows == []


def test_a_job_polled_answers_204_while_it_runs_and_302_once_done(talkdesk):
    assert set_faults(talkdesk.url, job_pending_status=204, job_done_status=302,
                      report_processing_seconds=0.5).status_code == 200
    created = talkdesk.create_job("calls", *WINDOW)
    job_id = created.json()["job"]["id"]
    pending = talkdesk.get(f"/data/reports/calls/jobs/{job_id}", validate=False)
    assert pending.status_code == 204 and pending.content == b""
    time.sleep(0.6)
    done = talkdesk.get(f"/data/reports/calls/jobs/{job_id}", validate=False)
    assert done.status_code == 302
    assert done.headers["Location"] == f"/data/reports/calls/files/{job_id}"
    assert done.json()["job"]["status"] == "done"
    assert talkdesk.download("calls", job_id).json()["total"] > 0


def test_a_failed_job_is_still_said_with_its_body_under_204(talkdesk):
    set_faults(talkdesk.url, job_pending_status=204, report_processing_seconds=0, report_failure=True)
    job_id = talkdesk.create_job("calls", *WINDOW).json()["job"]["id"]
    failed = talkdesk.get(f"/data/reports/calls/jobs/{job_id}", validate=False)
    assert failed.status_code == 200 and failed.json()["job"]["status"] == "failed"


@pytest.mark.parametrize("changes, problem", [
    ({"csv_header": "title_case"}, "csv_header must be"),
    ({"job_pending_status": 202}, "job_pending_status must be 200 or 204"),
    ({"job_done_status": 301}, "job_done_status must be 303 or 302"),
])
def test_other_values_are_refused(talkdesk, changes, problem):
    refused = set_faults(talkdesk.url, **changes)
    assert refused.status_code == 400 and problem in refused.text


def test_an_account_can_name_its_csv_columns_by_display_names_from_the_start_and_after_a_reset():
    accounts = parse_accounts({"accounts": [
        {"id": "north", "client_id": "north-client", "client_secret": "n", "csv_header": "display_names"},
        {"id": "south", "client_id": "south-client", "client_secret": "s"}]}, "accounts.yaml")
    assert accounts["north"].csv_header == "display_names" and accounts["south"].csv_header == "snake_case"
    with pytest.raises(AccountsFileError, match="csv_header"):
        parse_accounts({"accounts": [{"id": "north", "client_id": "c", "client_secret": "s",
                                      "csv_header": "Title Case"}]}, "accounts.yaml")
    with pytest.raises(ValueError, match="csv_header"):
        EmulatorConfig(csv_header="Title Case")
    with EmulatorServer(accounts=accounts) as server:
        north = server.account_url("north")
        assert requests.get(f"{north}/_emulator/faults", timeout=5).json()["csv_header"] == "display_names"
        set_faults(north, csv_header="snake_case")
        requests.post(f"{north}/_emulator/reset", json={}, timeout=5)
        assert requests.get(f"{north}/_emulator/faults", timeout=5).json()["csv_header"] == "display_names"
        south = server.account_url("south")
        assert requests.get(f"{south}/_emulator/faults", timeout=5).json()["csv_header"] == "snake_case"
