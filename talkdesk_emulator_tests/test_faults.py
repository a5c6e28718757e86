"""Each fault switch, through the HTTP operator endpoints and the Python API."""

from __future__ import annotations

import re
import time

import pytest
import requests

WINDOW = ("2025-06-02T10:00:00Z", "2025-06-02T11:00:00Z")


def test_operator_endpoints(talkdesk):
    url = f"{talkdesk.url}/_emulator/faults"
    defaults = requests.get(url).json()
    assert defaults["rate_limit_every"] == 0 and defaults["job_body"] == "wrapped"
    updated = requests.post(url, json={"error_status": 502, "timestamp_format": "legacy"}).json()
    assert updated["error_status"] == 502 and updated["timestamp_format"] == "legacy"
    assert requests.post(url, json={"no_such_fault": 1}).status_code == 400
    assert requests.post(url, json={"error_rate": 2}).status_code == 400
    talkdesk.create_job("calls", *WINDOW)
    reset = requests.post(f"{talkdesk.url}/_emulator/reset", headers={"Content-Type": "application/json"})
    assert reset.json() == defaults  # an empty body with the JSON media type
    assert talkdesk.get("/data/reports/calls/jobs").json()["total"] == 0
    with pytest.raises(ValueError):
        talkdesk.server.set_faults(report_window_field="middle")


@pytest.mark.parametrize("retry_after, header", [(7, "7"), (None, None)])
def test_rate_limit_every_nth_api_request(talkdesk, retry_after, header):
    talkdesk.fetch_token()
    talkdesk.server.set_faults(rate_limit_every=3, rate_limit_retry_after=retry_after)
    statuses, headers = [], []
    for index in range(6):
        if index == 1:
            talkdesk.fetch_token()  # the token endpoint is not an API request: it does not count
        response = talkdesk.get("/users", validate=False)
        statuses.append(response.status_code)
        headers.append(response.headers.get("Retry-After"))
    assert statuses == [200, 200, 429, 200, 200, 429]
    assert headers[2] == headers[5] == header
    limited = talkdesk.get("/users", validate=False)  # the 7th, not limited
    assert limited.status_code == 200


def test_error_rate_is_a_deterministic_sequence(talkdesk):
    talkdesk.fetch_token()
    talkdesk.server.set_faults(error_rate=0.25, error_status=502)
    statuses = [talkdesk.get("/account", validate=False).status_code for _ in range(8)]
    assert statuses == [200, 200, 200, 502, 200, 200, 200, 502]
    talkdesk.server.set_faults(error_rate=1.0, error_status=503)
    explore = talkdesk.get("/data/reports/calls/jobs")  # 503 is documented for Explore: validated
    assert explore.status_code == 503 and explore.json()["code"] == "1020019"


def test_slow_and_failed_jobs(talkdesk):
    talkdesk.server.set_faults(report_processing_seconds=1.0)
    job_id = talkdesk.create_job("calls", *WINDOW).json()["job"]["id"]
    time.sleep(0.4)  # past the configured 0.2 s, still inside the override
    assert talkdesk.get(f"/data/reports/calls/jobs/{job_id}").json()["job"]["status"] == "processing"
    talkdesk.server.set_faults(report_processing_seconds=0.1, report_failure=True)
    failed_id = talkdesk.create_job("calls", *WINDOW).json()["job"]["id"]
    failed = talkdesk.wait_done("calls", failed_id)
    assert failed.status_code == 200 and failed.json()["job"]["status"] == "failed"
    assert talkdesk.get(f"/data/reports/calls/files/{failed_id}").status_code == 404


def test_failure_can_be_limited_to_jobs_whose_window_begins_in_a_range(talkdesk):
    start, end = WINDOW
    talkdesk.server.set_faults(report_processing_seconds=0.1,
                               report_failure_starts=[start, "2025-06-02T10:01:00Z"])
    failing = talkdesk.create_job("calls", *WINDOW).json()["job"]["id"]
    assert talkdesk.wait_done("calls", failing).json()["job"]["status"] == "failed"
    passing = talkdesk.create_job("calls", "2025-06-02T10:01:00Z", end).json()["job"]["id"]
    assert talkdesk.wait_done("calls", passing).status_code == 303
    bad = requests.post(f"{talkdesk.url}/_emulator/faults", json={"report_failure_starts": ["yesterday", end]})
    assert bad.status_code == 400


def test_token_expiry_override(talkdesk):
    token = talkdesk.fetch_token()
    assert token.json()["expires_in"] == 600
    talkdesk.server.set_faults(token_expiry_seconds=0.5)
    assert talkdesk.get("/account").status_code == 200
    time.sleep(0.6)
    expired = talkdesk.get("/account")
    assert expired.status_code == 401 and expired.json()["code"] == "0060001"
    talkdesk.fetch_token()
    assert talkdesk.get("/account").status_code == 200


def test_malformed_entries(talkdesk):
    clean = talkdesk.report("calls", *WINDOW)
    talkdesk.server.set_faults(malformed_rate=0.3)
    dirty = talkdesk.report("calls", *WINDOW)
    assert dirty["total"] == clean["total"]
    missing_start = [e for e in dirty["entries"] if "start_at" not in e]
    bad_end = [e for e in dirty["entries"] if e.get("end_at") == "31/02/2026 25:61"]
    negative = [e for e in dirty["entries"] if e["talk_time"] < 0]
    broken = len(missing_start) + len(bad_end) + len(negative)
    assert missing_start and bad_end and negative
    assert 0.15 * dirty["total"] < broken < 0.45 * dirty["total"]
    again = talkdesk.report("calls", *WINDOW)
    assert again["entries"] == dirty["entries"]  # deterministic choice
    talkdesk.server.set_faults(malformed_rate=1.0)
    statuses = talkdesk.report("user_status", *WINDOW)["entries"]
    assert all("status_start_at" not in e or e["status_end_at"] == "31/02/2026 25:61" or e["status_time"] < 0
               for e in statuses)


def test_report_window_field(talkdesk):
    def within(text):
        return "2025-06-02T10:00:00Z" <= text < "2025-06-02T11:00:00Z"

    by_end = talkdesk.report("calls", *WINDOW)["entries"]
    assert all(within(e["end_at"]) for e in by_end) and not all(within(e["start_at"]) for e in by_end)
    talkdesk.server.set_faults(report_window_field="start")
    by_start = talkdesk.report("calls", *WINDOW)["entries"]
    assert all(within(e["start_at"]) for e in by_start) and not all(within(e["end_at"]) for e in by_start)
    statuses = talkdesk.report("user_status", *WINDOW)["entries"]
    assert all(within(e["status_start_at"]) for e in statuses)


@pytest.mark.parametrize("style, pattern", [
    ("iso", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
    ("legacy", r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"),
    ("offset", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$"),
])
def test_timestamp_format(talkdesk, style, pattern):
    talkdesk.server.set_faults(timestamp_format=style)
    entries = talkdesk.report("contacts", *WINDOW)["entries"]
    assert entries and all(re.match(pattern, e["started_at"]) and re.match(pattern, e["finished_at"]) for e in entries)


def test_legacy_calls_payload(talkdesk):
    current = talkdesk.report("calls", *WINDOW)["entries"]
    talkdesk.server.set_faults(calls_payload="legacy")
    legacy = talkdesk.report("calls", *WINDOW)["entries"]
    assert len(legacy) == len(current)
    first_current, first_legacy = current[0], legacy[0]
    assert "call_id" not in first_legacy and first_legacy["interaction_id"] == first_current["call_id"]
    assert first_legacy["call_type"] == first_current["type"]
    assert first_legacy["talk_time"] == pytest.approx(first_current["talk_time"] / 86400)
    assert first_legacy["in_business_hours?"] in ("TRUE", "FALSE")
    assert {e["tags"] for e in legacy} >= {e["ring_groups"].replace(",", "+") for e in current}


def test_flat_job_body(talkdesk, raw_openapi):
    talkdesk.server.set_faults(job_body="flat")
    created = talkdesk.create_job("calls", *WINDOW, validate=False)
    talkdesk.openapi = raw_openapi
    talkdesk.validate(created)  # the flat schema as Talkdesk publishes it
    assert created.status_code == 202 and created.json()["status"] == "created" and "job" not in created.json()


def test_ccaas_can_be_switched_off(talkdesk):
    talkdesk.server.set_faults(ccaas_enabled=False)
    assert talkdesk.get("/ccaas/queues", validate=False).status_code == 404
    assert talkdesk.get("/ccaas/queues/x/users", validate=False).status_code == 404
    assert talkdesk.post("/ccaas/users/status", json={"user_ids": []}, validate=False).status_code == 404
    assert talkdesk.get("/ring-groups").status_code == 200


def test_data_delay(talkdesk):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc).replace(microsecond=0)  # the subject: the delay is counted back from now
    window = ((now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"), now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    talkdesk.server.set_faults(data_delay_seconds=3 * 3600 + 60)
    assert talkdesk.report("user_status", *window)["total"] == 0
    talkdesk.server.set_faults(data_delay_seconds=3600)
    entries = talkdesk.report("user_status", *window)["entries"]
    # The emulator counted the delay back from when it took the job: at the latest, now.
    cutoff = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(e["status_end_at"] <= cutoff for e in entries)
