"""The operator endpoints take only JSON-typed bodies, so a cross-origin page cannot switch the emulator."""

from __future__ import annotations

import pytest
import requests

WINDOW = ("2025-06-02T10:00:00Z", "2025-06-02T10:30:00Z")


@pytest.mark.parametrize("endpoint", ["faults", "reset"])
@pytest.mark.parametrize("how", ["form", "text/plain", "no content type"])
def test_operator_posts_not_declared_json_get_415_and_change_nothing(talkdesk, endpoint, how):
    url = f"{talkdesk.url}/_emulator/{endpoint}"
    talkdesk.server.set_faults(error_status=502)
    assert talkdesk.create_job("calls", *WINDOW).status_code == 202
    before = requests.get(f"{talkdesk.url}/_emulator/faults").json()
    body = '{"error_rate": 1.0, "error_status": 503}'
    if how == "form":  # what an HTML form on another site posts
        response = requests.post(url, data={"error_rate": "1.0", "error_status": "503"})
    elif how == "text/plain":  # what fetch() may send cross-origin without a preflight
        response = requests.post(url, data=body, headers={"Content-Type": "text/plain"})
    else:
        response = requests.post(url, data=body.encode())
        assert "Content-Type" not in response.request.headers
    assert response.status_code == 415
    assert response.headers["Content-Type"] == "application/json"
    assert "Content-Type: application/json" in response.json()["error"]
    assert requests.get(f"{talkdesk.url}/_emulator/faults").json() == before
    assert before["error_status"] == 502 and before["error_rate"] == 0.0
    assert talkdesk.get("/data/reports/calls/jobs").json()["total"] == 1  # reset did not clear the job


def test_operator_posts_declared_json_work_with_parameters_and_empty_bodies(talkdesk):
    url = f"{talkdesk.url}/_emulator/faults"
    with_charset = requests.post(url, data='{"error_status": 504}',
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    assert with_charset.status_code == 200 and with_charset.json()["error_status"] == 504
    empty = requests.post(url, headers={"Content-Type": "application/json"})
    assert empty.status_code == 200 and empty.json()["error_status"] == 504
    assert talkdesk.create_job("calls", *WINDOW).status_code == 202
    reset = requests.post(f"{talkdesk.url}/_emulator/reset", headers={"Content-Type": "application/json"})
    assert reset.status_code == 200 and reset.json()["error_status"] == 503
    assert talkdesk.get("/data/reports/calls/jobs").json()["total"] == 0


@pytest.mark.parametrize("path", ["/_emulator/faults", "/_emulator/reset", "/users"])
def test_no_cors_preflight_is_ever_granted(talkdesk, path):
    preflight = requests.options(f"{talkdesk.url}{path}", headers={
        "Origin": "https://attacker.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 405
    assert not [name for name in preflight.headers if name.lower().startswith("access-control-")]
    read = requests.get(f"{talkdesk.url}/_emulator/faults", headers={"Origin": "https://attacker.example"})
    assert read.status_code == 200 and "Access-Control-Allow-Origin" not in read.headers
