"""Every endpoint's responses, success and error, validated against Talkdesk's OpenAPI subset."""

from __future__ import annotations

import base64

import pytest
import requests



def test_token_success_and_errors(talkdesk):
    ok = talkdesk.validate(talkdesk.fetch_token())
    body = ok.json()
    assert ok.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert "data-reports:write" in body["scope"].split()  # no scope asked -> every granted scope

    url = f"{talkdesk.url}/oauth/token"
    bad_secret = talkdesk.validate(requests.post(url, auth=("wfm-demo-client", "nope"),
                                                 data={"grant_type": "client_credentials"}))
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "unauthorized"
    missing_grant = talkdesk.validate(requests.post(url, auth=("wfm-demo-client", "wfm-demo-secret")))
    assert missing_grant.status_code == 400
    assert missing_grant.json() == {"error": "invalid_request", "error_description": "Missing grant type"}
    unsupported = talkdesk.validate(requests.post(url, auth=("wfm-demo-client", "wfm-demo-secret"),
                                                  data={"grant_type": "password"}))
    assert unsupported.status_code == 400
    unknown_scope = talkdesk.validate(requests.post(url, auth=("wfm-demo-client", "wfm-demo-secret"),
                                                    data={"grant_type": "client_credentials", "scope": "users:write"}))
    assert unknown_scope.status_code == 401 and unknown_scope.json()["error"] == "unauthorized"


def test_token_accepts_grant_and_scope_in_query_string(emulator):
    # Airbyte's variant: no body, grant_type in the URL, explicit Basic header.
    basic = base64.b64encode(b"wfm-demo-client:wfm-demo-secret").decode()
    response = requests.post(f"{emulator.url}/oauth/token?grant_type=client_credentials&scope=users:read",
                             headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200 and response.json()["scope"] == "users:read"


def test_users_listing_paging_filters_and_errors(talkdesk):
    first = talkdesk.get("/users", params={"per_page": 7}).json()
    assert first["count"] == 7 and first["total"] == 30 and first["total_pages"] == 5
    assert first["_links"]["next"]["href"].startswith(talkdesk.url)
    seen, href = [], f"{talkdesk.url}/users?per_page=7"
    while href:
        page = talkdesk.get(href.removeprefix(talkdesk.url)).json()
        seen += [u["id"] for u in page["_embedded"]["users"]]
        href = (page["_links"].get("next") or {}).get("href")
    assert len(seen) == len(set(seen)) == 30
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in seen)
    inactive = talkdesk.get("/users", params={"active": "false", "per_page": 200}).json()
    active = talkdesk.get("/users", params={"active": "true", "per_page": 200}).json()
    assert inactive["total"] + active["total"] == 30 and all(not u["active"] for u in inactive["_embedded"]["users"])
    email = first["_embedded"]["users"][0]["email"]
    assert talkdesk.get("/users", params={"email": email}).json()["total"] == 1

    out_of_bounds = talkdesk.get("/users", params={"per_page": 201})
    assert out_of_bounds.status_code == 400 and out_of_bounds.json()["code"] == "0040021"
    bad_type = talkdesk.get("/users", params={"page": "x"})
    assert bad_type.status_code == 400 and bad_type.json()["code"] == "0040001"


def test_user_by_id_and_account(talkdesk):
    user_id = talkdesk.get("/users").json()["_embedded"]["users"][0]["id"]
    user = talkdesk.get(f"/users/{user_id}")
    assert user.status_code == 200 and user.json()["id"] == user_id
    missing = talkdesk.get("/users/000000000000000000000000")
    assert missing.status_code == 404 and missing.json() == {"code": "0040000", "message": "User not found"}
    account = talkdesk.get("/account").json()
    assert account["timezone"] == "UTC"


def test_ring_groups_and_members(talkdesk):
    listing = talkdesk.get("/ring-groups").json()
    groups = listing["_embedded"]["ring_groups"]
    assert listing["per_page"] == 50 and listing["total"] == 5 == len(groups)
    assert len({g["wait_time_threshold"] for g in groups}) == 5
    assert all(10 <= g["wait_time_threshold"] <= 60 and 3 <= g["short_abandoned_threshold"] <= 10 for g in groups)
    names = [g["name"] for g in talkdesk.get("/ring-groups", params={"order_by": "name:desc"}).json()["_embedded"]["ring_groups"]]
    assert names == sorted(names, reverse=True)
    paged = talkdesk.get("/ring-groups", params={"per_page": 2, "page": 2}).json()
    assert paged["count"] == 2 and "next" in paged["_links"] and "previous" in paged["_links"]
    assert talkdesk.get("/ring-groups", params={"name": names[0][1:4].upper()}).json()["total"] >= 1
    bad_order = talkdesk.get("/ring-groups", params={"order_by": "size"})
    assert bad_order.status_code == 400 and bad_order.json()["code"] == "0300011"

    members = talkdesk.get(f"/ring-groups/{names[0]}/users").json()
    assert members["ring_group"] == names[0] and members["total"] >= 1
    every_member = set()
    for name in names:
        every_member |= {u["id"] for u in talkdesk.get(f"/ring-groups/{name}/users", params={"per_page": 100})
                         .json()["_embedded"]["users"]}
    assert len(every_member) == 30  # each agent belongs to 1-3 queues
    missing = talkdesk.get("/ring-groups/nope/users")
    assert missing.status_code == 404 and missing.json()["code"] == "0300007"


def test_ccaas_queues_and_members(talkdesk):
    # GET /ccaas/queues is not in Talkdesk's subset (only POST is): its queue objects are checked
    # against the documented queue schema of the POST 201 response by hand.
    listing = talkdesk.get("/ccaas/queues", validate=False)
    assert listing.status_code == 200
    body = listing.json()
    assert body["total"] == 5 and body["per_page"] == 20
    for queue in body["_embedded"]["queues"]:
        assert {"id", "name", "description", "created_at"} <= queue.keys() and queue["name"] == queue["name"].lower()
    ring_group_names = {g["name"] for g in talkdesk.get("/ring-groups").json()["_embedded"]["ring_groups"]}
    assert {q["name"] for q in body["_embedded"]["queues"]} == ring_group_names
    queue = body["_embedded"]["queues"][0]
    assert talkdesk.get("/ccaas/queues", params={"id": queue["id"]}, validate=False).json()["total"] == 1
    members = talkdesk.get(f"/ccaas/queues/{queue['id']}/users", params={"per_page": 100}, validate=False).json()
    via_ring_group = talkdesk.get(f"/ring-groups/{queue['name']}/users", params={"per_page": 100}).json()
    assert {u["id"] for u in members["_embedded"]["users"]} == {u["id"] for u in via_ring_group["_embedded"]["users"]}
    assert talkdesk.get("/ccaas/queues", params={"per_page": 101}, validate=False).status_code == 400


def test_users_status(talkdesk):
    users = talkdesk.get("/users", params={"per_page": 20}).json()["_embedded"]["users"]
    ids = [u["id"] for u in users]
    statuses = talkdesk.post("/ccaas/users/status", json={"user_ids": ids}).json()
    assert [s["id"] for s in statuses] == ids
    vocabulary = {"available", "busy", "after_call_work", "away", "offline", "away_break", "away_lunch"}
    assert {s["status"] for s in statuses} <= vocabulary
    inactive = {u["id"] for u in users if not u["active"]}
    assert all(s["status"] == "offline" for s in statuses if s["id"] in inactive)
    too_many = talkdesk.post("/ccaas/users/status", json={"user_ids": ids + ids[:1]})
    assert too_many.status_code == 400 and too_many.json()["code"] == "1580008"


@pytest.mark.parametrize("method, path, code401, code403", [
    ("get", "/users", "0040002", "0040003"),
    ("get", "/account", "0060001", "0060002"),
    ("get", "/ring-groups", "0300001", "0300002"),
    ("get", "/ring-groups/support/users", "0300001", "0300002"),
    ("post", "/ccaas/users/status", "1580004", "1580005"),
    ("get", "/data/reports/calls/jobs", "1020018", "1020004"),
    ("post", "/data/reports/calls/jobs", "1020018", "1020004"),
    ("get", "/data/reports/calls/jobs/x", "1020018", "1020004"),
    ("get", "/data/reports/calls/files/x", "1020018", "1020004"),
])
def test_unauthorized_and_forbidden_per_api(limited_emulator, openapi, session_for, method, path, code401, code403):
    call = getattr(requests, method)
    url = f"{limited_emulator.url}{path}"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        response = call(url, headers=headers, allow_redirects=False)
        assert response.status_code == 401 and response.json()["code"] == code401
        session_for(limited_emulator).validate(response)
    limited = session_for(limited_emulator, client_id="queues-only", client_secret="queues-secret")
    token = limited.fetch_token()
    assert token.status_code == 200 and token.json()["scope"] == "queues:read"
    forbidden = call(url, headers=limited.headers(), allow_redirects=False)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == code403
    limited.validate(forbidden)
    asking_more = session_for(limited_emulator, client_id="queues-only", client_secret="queues-secret",
                              scope="queues:read users:read").fetch_token()
    assert asking_more.status_code == 401 and asking_more.json()["error"] == "unauthorized"


def test_unknown_route_answers_json_404(talkdesk):
    response = talkdesk.get("/no/such/thing", validate=False)
    assert response.status_code == 404 and response.json()["code"]
