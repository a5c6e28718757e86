"""The Explore report life cycle against the emulator: jobs, polling, redirects, downloads, quota, failures."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
import requests
from wfm_pipelines_tests.talkdesk.client_support import FAST_EXPLORE, make_client, set_faults
from wfm_pipelines_tests.reference_day import REFERENCE_DAY, reference_window

from talkdesk_emulator.server import EmulatorConfig, EmulatorServer
from wfm_pipelines.talkdesk import ExploreSettings, ReportFailedError, ReportTimeoutError
from wfm_pipelines.talkdesk.explore import split_window


def _call_ids(entries):
    return sorted(entry.get("call_id") or entry.get("interaction_id") for entry in entries)


@pytest.fixture
def client(emulator):
    with make_client(emulator.url) as talkdesk:
        yield talkdesk


def test_a_calls_report_returns_its_entries_and_job(client, caplog):
    caplog.set_level(logging.INFO, logger="wfm_pipelines.talkdesk")
    start, end = reference_window(1, from_hour=10)
    result = client.run_report("calls", start, end)
    assert len(result.jobs) == 1 and result.windows == [(start, end)]
    assert len(result.entries) == 184
    assert all(isinstance(entry, dict) and entry.get("call_id") for entry in result.entries)
    assert any(result.jobs[0] in r.getMessage() and "entries downloaded" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("job_body", ["wrapped", "flat"])
def test_wrapped_and_flat_job_bodies_give_the_same_entries(emulator, client, job_body):
    start, end = reference_window(1, from_hour=10)
    expected = _call_ids(client.run_report("calls", start, end).entries)
    set_faults(emulator.url, job_body=job_body)
    assert _call_ids(client.run_report("calls", start, end).entries) == expected


@pytest.mark.parametrize("window_field", ["start", "end"])
def test_reports_return_records_whichever_timestamp_the_window_filters_on(emulator, client, window_field):
    set_faults(emulator.url, report_window_field=window_field)
    start, end = reference_window(1, from_hour=10)
    calls = client.run_report("calls", start, end).entries
    statuses = client.run_report("user_status", start, end).entries
    assert calls and statuses
    field = "start_at" if window_field == "start" else "end_at"
    stamps = [datetime.fromisoformat(entry[field]) for entry in calls]
    assert all(start <= stamp < end for stamp in stamps), f"calls not filtered on {field}"


def test_a_csv_report_is_parsed_into_the_same_records(client):
    start, end = reference_window(1, from_hour=10)
    as_json = client.run_report("calls", start, end).entries
    as_csv = client.run_report("calls", start, end, report_format="csv").entries
    assert _call_ids(as_csv) == _call_ids(as_json)
    assert set(as_csv[0]) >= {"call_id", "type", "start_at", "end_at"}


def test_the_download_redirect_target_never_receives_the_bearer_token(emulator, client):
    # The emulator's object-store path answers 400 to an Authorization header, like a presigned URL:
    # a client that forwarded the token could not download at all.
    start, end = reference_window(1, from_hour=10)
    job = client.run_report("calls", start, end).jobs[0]
    files = client.http.request("GET", f"/data/reports/calls/files/{job}", ok_redirect=True)
    assert files.is_redirect
    target = requests.compat.urljoin(files.url, files.headers["Location"])
    with_token = requests.get(target, headers={"Authorization": "Bearer x"}, timeout=5)
    assert with_token.status_code == 400
    assert requests.get(target, timeout=5).status_code == 200


def test_a_failed_job_raises_naming_the_report_and_window(emulator, client):
    set_faults(emulator.url, report_failure=True)
    start, end = reference_window(1, from_hour=10)
    with pytest.raises(ReportFailedError) as raised:
        client.run_report("user_status", start, end)
    message = str(raised.value)
    assert "'user_status'" in message and start.isoformat() in message and end.isoformat() in message
    assert "failed" in message and raised.value.job_id in message


def test_a_job_that_never_finishes_times_out_naming_the_report_and_window(emulator):
    set_faults(emulator.url, report_processing_seconds=30)
    settings = ExploreSettings(poll_initial_s=0.05, poll_max_s=0.1, poll_timeout_s=0.5)
    start, end = reference_window(1, from_hour=10)
    with make_client(emulator.url, explore=settings) as talkdesk:
        with pytest.raises(ReportTimeoutError) as raised:
            talkdesk.run_report("calls", start, end)
    assert "'calls'" in str(raised.value) and start.isoformat() in str(raised.value)


def test_a_full_quota_is_waited_out_and_the_report_succeeds(emulator, client, caplog):
    caplog.set_level(logging.INFO, logger="wfm_pipelines.talkdesk")
    set_faults(emulator.url, report_processing_seconds=1.5)
    start, end = reference_window(1, from_hour=10)
    token = client.http.tokens.token()
    body = {"format": "json", "timezone": "UTC",
            "timespan": {"from": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": end.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    for _ in range(15):  # another integration filling the account's 15 report slots
        taken = requests.post(f"{emulator.url}/data/reports/calls/jobs", json=body,
                              headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert taken.status_code in (200, 202), taken.text
    result = client.run_report("calls", start, end)
    assert result.entries
    assert any("quota of simultaneous reports is full" in r.getMessage() for r in caplog.records)


def test_an_end_in_the_future_is_clamped_and_logged(client, caplog):
    caplog.set_level(logging.INFO, logger="wfm_pipelines.talkdesk")
    now = datetime.now(timezone.utc)  # the wall clock is the subject: a window reaching past it is clamped
    result = client.run_report("user_status", now - timedelta(minutes=30), now + timedelta(hours=1))
    (window_start, window_end), = result.windows
    assert window_end <= now - timedelta(seconds=FAST_EXPLORE.future_margin_s) + timedelta(seconds=1)
    assert any("clamped" in r.getMessage() for r in caplog.records)


def test_naive_datetimes_are_refused(client):
    with pytest.raises(ValueError, match="timezone-aware"):
        client.run_report("calls", datetime(2025, 1, 1), datetime(2025, 1, 2))


def test_split_window_covers_the_range_in_31_day_pieces():
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    pieces = split_window(start, start + timedelta(days=70))
    assert [(b - a).days for a, b in pieces] == [31, 31, 8]
    assert pieces[0][0] == start and pieces[-1][1] == start + timedelta(days=70)
    assert all(a_end == b_start for (_, a_end), (b_start, _) in zip(pieces, pieces[1:]))


def test_a_window_over_31_days_runs_as_several_jobs():
    # A sparse account keeps 40 days of data small.
    server = EmulatorServer(EmulatorConfig(seed=3, queues=2, agents=3, contacts_per_day=20,
                                           report_processing_seconds=0.05), port=0)
    server.start()
    try:
        end = REFERENCE_DAY
        start = end - timedelta(days=40)
        with make_client(server.url) as talkdesk:
            result = talkdesk.run_report("calls", start, end)
        assert len(result.jobs) == 2 and len(set(result.jobs)) == 2
        assert result.windows == [(start, start + timedelta(days=31)), (start + timedelta(days=31), end)]
        assert len(result.entries) == 675
        assert len(set(_call_ids(result.entries))) == len(result.entries)
    finally:
        server.stop()
