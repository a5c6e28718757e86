"""Explore job life cycle, validation, quota, files and downloads, all validated against the spec."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
import requests

MONDAY = "2025-06-02"
WINDOW = (f"{MONDAY}T10:00:00Z", f"{MONDAY}T12:00:00Z")


def parse_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def test_job_life_cycle(talkdesk):
    created = talkdesk.create_job("calls", *WINDOW)
    assert created.status_code == 202
    job = created.json()["job"]
    assert job["status"] == "created" and job["format"] == "json" and job["timezone"] == "UTC"
    assert created.json()["_links"]["files"]["href"] == f"{talkdesk.url}/data/reports/calls/files/{job['id']}"

    running = talkdesk.get(f"/data/reports/calls/jobs/{job['id']}")
    assert running.status_code == 200 and running.json()["job"]["status"] == "processing"
    not_yet = talkdesk.get(f"/data/reports/calls/files/{job['id']}")
    assert not_yet.status_code == 404 and not_yet.json()["code"] == "1020008"

    done = talkdesk.wait_done("calls", job["id"])
    assert done.status_code == 303 and done.json()["job"]["status"] == "done"
    assert done.headers["Location"] == f"/data/reports/calls/files/{job['id']}"
    located = talkdesk.get(done.headers["Location"])
    assert located.status_code == 302 and "/_downloads/" in located.headers["Location"]

    file = requests.get(located.headers["Location"])
    body = file.json()
    assert file.status_code == 200 and body["type"] == "calls" and body["version"] == "v1"
    assert body["total"] == len(body["entries"]) > 50
    for entry in body["entries"]:
        assert parse_utc(WINDOW[0]) <= parse_utc(entry["end_at"]) < parse_utc(WINDOW[1])

    missing = talkdesk.get("/data/reports/calls/jobs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "1020011"
    wrong_type = talkdesk.get(f"/data/reports/contacts/jobs/{job['id']}")
    assert wrong_type.status_code == 404


def test_download_rejects_authorization_and_bad_signatures(talkdesk):
    job_id = talkdesk.create_job("calls", *WINDOW).json()["job"]["id"]
    talkdesk.wait_done("calls", job_id)
    location = talkdesk.get(f"/data/reports/calls/files/{job_id}").headers["Location"]
    with_token = requests.get(location, headers=talkdesk.headers())
    assert with_token.status_code == 400 and b"InvalidArgument" in with_token.content
    tampered = requests.get(location[:-4] + "0000")
    assert tampered.status_code == 403
    assert requests.get(location).status_code == 200


def test_csv_is_the_default_format_and_matches_json(talkdesk):
    created = talkdesk.post("/data/reports/contacts/jobs", json={"timespan": {"from": WINDOW[0], "to": WINDOW[1]}})
    job = created.json()["job"]
    assert job["format"] == "csv"
    talkdesk.wait_done("contacts", job["id"])
    text = talkdesk.download("contacts", job["id"]).text
    rows = list(csv.DictReader(io.StringIO(text)))
    as_json = talkdesk.report("contacts", *WINDOW)
    assert len(rows) == as_json["total"] > 0
    assert [r["interaction_id"] for r in rows] == [e["interaction_id"] for e in as_json["entries"]]
    assert rows[0]["talk_time"] == str(as_json["entries"][0]["talk_time"])


@pytest.mark.parametrize("body, status, code, field", [
    ({"timespan": {"from": "2025-06-02T10:00:00Z", "to": "2999-01-01T00:00:00Z"}}, 400, "1020001", "timespan[to]"),
    ({"timespan": {"from": "2025-06-02T12:00:00Z", "to": "2025-06-02T10:00:00Z"}}, 400, "1020005", None),
    ({"timespan": {"from": "2025-05-01T00:00:00Z", "to": "2025-06-02T00:00:00Z"}}, 400, "1020013", None),
    ({"timespan": {"from": "2025-06-02T10:00:00Z", "to": "2025-06-02T11:00:00Z"}, "timezone": "Mars/Olympus"},
     400, "1020016", None),
    ({"timespan": {"from": "yesterday", "to": "2025-06-02T11:00:00Z"}}, 400, "1020001", "timespan[from]"),
    ({"timespan": {"from": "2025-06-02T10:00:00Z", "to": "2025-06-02T11:00:00Z"}, "format": "xml"},
     400, "1020001", "format"),
])
def test_create_validation(talkdesk, body, status, code, field):
    response = talkdesk.post("/data/reports/calls/jobs", json=body)
    assert response.status_code == status and response.json()["code"] == code
    if field:
        assert response.json()["fields"][0]["name"] == field


def test_unknown_report_type_and_undocumented_types(talkdesk):
    unknown = talkdesk.post("/data/reports/bogus/jobs", json={"timespan": {"from": WINDOW[0], "to": WINDOW[1]}},
                            validate=False)  # the path enum makes the spec reject the request itself
    assert unknown.status_code == 400
    assert unknown.json()["fields"] == [{"name": "report_type", "description": "report_type does not have a valid value"}]
    # A documented type without emulated data answers an empty report.
    empty = talkdesk.report("feedback", *WINDOW)
    assert empty == {"type": "feedback", "version": "v1", "total": 0, "entries": []}


def test_window_span_of_exactly_31_days_is_accepted(talkdesk):
    response = talkdesk.create_job("calls", "2025-05-02T00:00:00Z", "2025-06-02T00:00:00Z")
    assert response.status_code == 202


def test_quota_of_15_simultaneous_reports(talkdesk):
    talkdesk.server.set_faults(report_processing_seconds=30)
    for _ in range(15):
        assert talkdesk.create_job("calls", *WINDOW).status_code == 202
    refused = talkdesk.create_job("user_status", *WINDOW)
    assert refused.status_code == 429
    assert refused.json()["code"] == "1020017"
    # Finished jobs free the quota.
    talkdesk.server.set_faults(report_processing_seconds=0)
    for job in talkdesk.server.app.jobs.of_type("calls"):
        job.processing_seconds = 0
    assert talkdesk.create_job("calls", *WINDOW).status_code == 202


def test_jobs_listing_pages(talkdesk):
    ids = [talkdesk.create_job("user_status", *WINDOW).json()["job"]["id"] for _ in range(3)]
    first = talkdesk.get("/data/reports/user_status/jobs", params={"per_page": 2}).json()
    assert first["total"] == 3 and first["count"] == 2 and first["_links"]["next"] is not None
    assert first["_links"]["prev"] is None
    second = talkdesk.get(first["_links"]["next"]["href"].removeprefix(talkdesk.url)).json()
    assert second["count"] == 1 and second["_links"]["next"] is None
    listed = [j["id"] for j in first["_embedded"]["jobs"] + second["_embedded"]["jobs"]]
    assert sorted(listed) == sorted(ids)
    assert talkdesk.get("/data/reports/calls/jobs").json()["total"] == 0


def test_request_timezone_applies_to_naive_bounds(talkdesk):
    # 06:00-08:00 in New York (EDT, UTC-4) is 10:00-12:00 UTC; entries come back in UTC.
    body = talkdesk.report("calls", f"{MONDAY}T06:00:00", f"{MONDAY}T08:00:00", timezone="America/New_York")
    utc = talkdesk.report("calls", *WINDOW)
    assert body["total"] == utc["total"] > 0
    assert [e["call_id"] for e in body["entries"]] == [e["call_id"] for e in utc["entries"]]
    assert all(e["end_at"].endswith("Z") for e in body["entries"])


def test_records_not_yet_ended_are_not_reported(talkdesk):
    now = datetime.now(timezone.utc).replace(microsecond=0)  # the subject: what has not ended by now
    start = now - timedelta(hours=6)
    body = talkdesk.report("user_status", start.strftime("%Y-%m-%dT%H:%M:%SZ"), now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    latest = max((parse_utc(e["status_end_at"]) for e in body["entries"]), default=start)
    assert latest <= now - timedelta(seconds=120)


def test_delete_file(talkdesk):
    job_id = talkdesk.create_job("calls", *WINDOW).json()["job"]["id"]
    early = talkdesk.http.delete(f"{talkdesk.url}/data/reports/calls/files/{job_id}", headers=talkdesk.headers())
    assert early.status_code == 409 and early.json()["code"] == "1020007"
    talkdesk.wait_done("calls", job_id)
    deleted = talkdesk.http.delete(f"{talkdesk.url}/data/reports/calls/files/{job_id}", headers=talkdesk.headers())
    assert deleted.status_code == 204
    assert talkdesk.get(f"/data/reports/calls/jobs/{job_id}").json()["job"]["status"] == "deleted"
