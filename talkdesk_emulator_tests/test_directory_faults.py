"""Queue names as Talkdesk spells them (any text, one encoded path segment) and the directory faults."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from talkdesk_emulator.cli import build_config, build_parser
from talkdesk_emulator.config import EmulatorConfig
from talkdesk_emulator.server import EmulatorServer

ODD_NAMES = ("Sales, EMEA", "'VIP'", "..", "%2F", "Support/Tier 2", "100% Care")
WINDOW = ("2025-06-02T08:00:00Z", "2025-06-02T12:00:00Z")


@pytest.fixture
def odd_names(session_for) -> Iterator:
    server = EmulatorServer(EmulatorConfig(seed=7, queues=3, agents=24, contacts_per_day=2000,
                                           report_processing_seconds=0, queue_names=ODD_NAMES)).start()
    try:
        yield session_for(server)
    finally:
        server.stop()


def raw_get(session, raw_path: str) -> tuple[int, dict]:
    """A GET whose path goes on the wire exactly as written (requests would decode %2E to a dot)."""
    connection = http.client.HTTPConnection(session.server.host, session.server.port, timeout=5)
    try:
        connection.request("GET", raw_path, headers=session.headers())
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_queue_names_are_listed_as_configured(odd_names):
    assert odd_names.server.config.queues == len(ODD_NAMES)  # grown from 3 to fit the names
    listing = odd_names.get("/ring-groups").json()
    assert [g["name"] for g in listing["_embedded"]["ring_groups"]] == list(ODD_NAMES)
    queues = odd_names.get("/ccaas/queues", params={"order_by": "name"}, validate=False).json()
    assert [q["name"] for q in queues["_embedded"]["queues"]] == sorted(ODD_NAMES)
    assert odd_names.get("/ring-groups", params={"name": "emea"}).json()["total"] == 1


def test_members_are_served_for_a_name_encoded_as_one_segment(odd_names):
    queues = odd_names.get("/ccaas/queues", params={"per_page": 100}, validate=False).json()["_embedded"]["queues"]
    members_by_id = {q["name"]: {u["id"] for u in odd_names.get(f"/ccaas/queues/{q['id']}/users",
                                                                  params={"per_page": 100}, validate=False)
                                 .json()["_embedded"]["users"]} for q in queues}
    encoded = {"Sales, EMEA": "Sales%2C%20EMEA", "'VIP'": "%27VIP%27", "..": "%2E%2E", "%2F": "%252F",
               "Support/Tier 2": "Support%2FTier%202", "100% Care": "100%25%20Care"}
    for name, segment in encoded.items():
        status, body = raw_get(odd_names, f"/ring-groups/{segment}/users?per_page=100")
        assert status == 200 and body["ring_group"] == name
        assert {u["id"] for u in body["_embedded"]["users"]} == members_by_id[name] != set()
    status, body = raw_get(odd_names, "/ring-groups/Sales%2C%20EMEA%2Fx/users")
    assert (status, body["code"]) == (404, "0300007")
    status, body = raw_get(odd_names, "/ring-groups/%2E/users")
    assert (status, body["code"]) == (404, "0300007")


def test_member_pages_link_to_the_encoded_name(odd_names):
    for name in ODD_NAMES:
        # requests leaves a literal ".." segment alone only when it arrives percent-encoded.
        segment = quote(name, safe="").replace("..", "%2E%2E")
        first = odd_names.get(f"/ring-groups/{segment}/users", params={"per_page": 1}, validate=False)
        assert first.status_code == 200 and first.json()["ring_group"] == name
        assert f"/ring-groups/{segment}/users?" in first.json()["_links"]["self"]["href"]
        pages, href = [], (first.json()["_links"].get("next") or {}).get("href")
        while href:
            page = odd_names.get(href.removeprefix(odd_names.url), validate=False).json()
            assert page["ring_group"] == name
            pages.append(page)
            href = (page["_links"].get("next") or {}).get("href")
        assert len(pages) + 1 == first.json()["total"]


def test_reports_carry_the_names(odd_names):
    calls = odd_names.report("calls", *WINDOW)["entries"]
    texts = {c["ring_groups"] for c in calls}
    for name in ODD_NAMES:
        assert any(text == name or text.startswith(name + ",") or text.endswith("," + name) for text in texts), name
    assert any(text.count(",") >= 2 for text in texts if "Sales, EMEA" in text)  # ambiguous by design
    statuses = odd_names.report("user_status", *WINDOW)["entries"]
    listed = set().union(*(json.loads(s["ring_groups"]) for s in statuses))
    assert listed == set(ODD_NAMES)


def test_cli_queue_names():
    args = build_parser().parse_args(["--queues", "2", "--queue-name", "Sales, EMEA", "--queue-name", ".."])
    config = build_config(args)
    assert config.queue_names == ("Sales, EMEA", "..") and config.queues == 2
    assert build_config(build_parser().parse_args([])).queue_names == ()
    grown = build_config(build_parser().parse_args(["--queues", "1", "--queue-name", "a", "--queue-name", "b"]))
    assert grown.queues == 2
    with pytest.raises(ValueError):
        EmulatorConfig(queue_names=("same", "same"))


def test_generated_names_never_repeat_a_configured_one():
    from talkdesk_emulator.directory import Directory

    names = [q.name for q in Directory(EmulatorConfig(queues=3, agents=5, queue_names=("sales",))).queues]
    assert names == ["sales", "sales #2", "billing"]


# -- directory_listing and poison_user_names ---------------------------------------------------------
def test_directory_listing_empty(talkdesk):
    talkdesk.server.set_faults(directory_listing="empty")
    users = talkdesk.get("/users").json()
    assert (users["total"], users["count"], users["_embedded"]["users"]) == (0, 0, [])
    assert "next" not in users["_links"]
    groups = talkdesk.get("/ring-groups").json()
    assert (groups["total"], groups["count"], groups["_embedded"]["ring_groups"]) == (0, 0, [])
    assert "next" not in groups["_links"]
    queues = talkdesk.get("/ccaas/queues", validate=False).json()
    assert (queues["total"], queues["count"], queues["_embedded"]["queues"]) == (0, 0, [])
    assert "next" not in queues["_links"]
    members = talkdesk.get("/ring-groups/support/users").json()  # member listings are unaffected
    assert members["total"] >= 1
    assert talkdesk.report("calls", "2025-06-02T10:00:00Z", "2025-06-02T10:30:00Z")["total"] > 0


def test_directory_listing_few(talkdesk):
    full_users = talkdesk.get("/users", params={"per_page": 200}).json()["_embedded"]["users"]
    full_groups = talkdesk.get("/ring-groups").json()["_embedded"]["ring_groups"]
    talkdesk.server.set_faults(directory_listing="few")
    users = talkdesk.get("/users", params={"per_page": 1}).json()
    assert users["total"] == 2 and users["total_pages"] == 2 and "next" in users["_links"]
    assert [u["id"] for u in talkdesk.get("/users").json()["_embedded"]["users"]] == [u["id"] for u in full_users[:2]]
    groups = talkdesk.get("/ring-groups").json()
    assert groups["total"] == groups["count"] == 2 and groups["_embedded"]["ring_groups"] == full_groups[:2]
    queues = talkdesk.get("/ccaas/queues", validate=False).json()
    assert queues["total"] == 2
    assert {q["name"] for q in queues["_embedded"]["queues"]} == {g["name"] for g in full_groups[:2]}
    third = full_groups[2]["name"]
    assert talkdesk.get(f"/ring-groups/{third}/users").json()["total"] >= 1  # members still listed


def test_poison_user_names(talkdesk):
    clean = talkdesk.get("/users").json()["_embedded"]["users"]
    assert not any("\x00" in u["name"] for u in clean)
    talkdesk.server.set_faults(poison_user_names=True)
    listing = talkdesk.get("/users")
    assert b"\\u0000" in listing.content and b"\\ud800" in listing.content
    users = listing.json()["_embedded"]["users"]
    assert users[0]["name"] == clean[0]["name"] + "\x00"
    assert users[1]["name"] == clean[1]["name"] + "\ud800"
    assert users[2:] == clean[2:]
    assert talkdesk.get(f"/users/{clean[0]['id']}").json()["name"] == clean[0]["name"] + "\x00"
    assert talkdesk.get(f"/users/{clean[1]['id']}").json()["name"] == clean[1]["name"] + "\ud800"
    assert talkdesk.get(f"/users/{clean[2]['id']}").json()["name"] == clean[2]["name"]
