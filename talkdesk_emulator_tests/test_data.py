"""Synthetic data: determinism across processes, month splits, cross-report agreement, shape and speed."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone

import numpy as np

from talkdesk_emulator.config import EmulatorConfig
from talkdesk_emulator.directory import Directory
from talkdesk_emulator.generator import DataGenerator
from talkdesk_emulator.shifts import DAY
from talkdesk_emulator.traffic import CALL_TYPES

DAY_WINDOW = ("2025-06-02T00:00:00Z", "2025-06-03T00:00:00Z")  # a Monday

SUBPROCESS_SCRIPT = """
import hashlib, json, sys
from talkdesk_emulator.server import EmulatorConfig, EmulatorServer
import requests
server = EmulatorServer(EmulatorConfig(seed=7, queues=5, agents=30, contacts_per_day=3000,
                                       report_processing_seconds=0.05)).start()
token = requests.post(server.url + "/oauth/token", auth=("wfm-demo-client", "wfm-demo-secret"),
                      data={"grant_type": "client_credentials"}).json()["access_token"]
headers = {"Authorization": "Bearer " + token}
digests = {}
for report_type in ("calls", "user_status"):
    job = requests.post(server.url + "/data/reports/%s/jobs" % report_type, headers=headers, json={
        "format": "json", "timespan": {"from": "2025-06-02T06:00:00Z", "to": "2025-06-02T09:00:00Z"}}).json()["job"]
    while True:
        status = requests.get(server.url + "/data/reports/%s/jobs/%s" % (report_type, job["id"]), headers=headers,
                              allow_redirects=False)
        if status.status_code == 303:
            break
    location = requests.get(server.url + status.headers["Location"], headers=headers,
                            allow_redirects=False).headers["Location"]
    entries = requests.get(location).json()["entries"]
    digests[report_type] = hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
server.stop()
print(json.dumps(digests))
"""


def _digest(entries):
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()


def test_same_seed_gives_identical_entries_in_another_process(talkdesk):
    other = subprocess.run([sys.executable, "-c", SUBPROCESS_SCRIPT], capture_output=True, text=True, timeout=60,
                           check=True)
    theirs = json.loads(other.stdout.strip().splitlines()[-1])
    window = ("2025-06-02T06:00:00Z", "2025-06-02T09:00:00Z")
    ours = {t: _digest(talkdesk.report(t, *window)["entries"]) for t in ("calls", "user_status")}
    assert ours == theirs
    users = talkdesk.get("/users").json()["_embedded"]["users"]
    assert users[0]["id"] == Directory(EmulatorConfig(seed=7, queues=5, agents=30)).agents[0].id


def test_another_seed_gives_other_data():
    config_a, config_b = EmulatorConfig(seed=7, agents=20, queues=3), EmulatorConfig(seed=8, agents=20, queues=3)
    gen_a, gen_b = DataGenerator(config_a, Directory(config_a)), DataGenerator(config_b, Directory(config_b))
    day = 20241
    assert not np.array_equal(gen_a.activity(day).contacts.start[:50], gen_b.activity(day).contacts.start[:50])


def test_status_records_are_split_at_month_changes(talkdesk):
    entries = talkdesk.report("user_status", "2025-05-31T20:00:00Z", "2025-06-01T04:00:00Z")["entries"]
    boundary = "2025-06-01T00:00:00Z"
    ending = {(e["user_id"], e["status_label"]) for e in entries if e["status_end_at"] == boundary}
    assert ending, "agents offline (or on shift) at midnight must have a record ending at the month change"
    talkdesk.server.set_faults(report_window_field="start")  # continuations may end days later
    after = talkdesk.report("user_status", boundary, "2025-06-01T00:00:01Z")["entries"]
    talkdesk.server.reset()
    starting = {(e["user_id"], e["status_label"]) for e in after}
    assert ending == starting  # the continuation starts exactly at the boundary with the same status
    assert not [e for e in entries if e["status_start_at"] < boundary < e["status_end_at"]]
    # No split at an ordinary day change.
    day_change = talkdesk.report("user_status", "2025-06-01T20:00:00Z", "2025-06-02T04:00:00Z")["entries"]
    assert [e for e in day_change if e["status_start_at"] < "2025-06-02T00:00:00Z" < e["status_end_at"]]


def test_answered_calls_agree_with_user_status_and_contacts(talkdesk):
    calls = talkdesk.report("calls", *DAY_WINDOW)["entries"]
    contacts = {c["interaction_id"]: c for c in talkdesk.report("contacts", *DAY_WINDOW)["entries"]}
    # Status records of a wider window so every call's On a Call / ACW records are present.
    statuses = talkdesk.report("user_status", "2025-06-01T20:00:00Z", "2025-06-03T04:00:00Z")["entries"]
    by_agent = defaultdict(dict)
    for record in statuses:
        by_agent[record["user_id"]][(record["status_start_at"], record["status_label"])] = record
    contact_types = {"inbound": "Answered", "abandoned": "Abandoned", "short_abandoned": "Short Abandoned",
                     "missed": "Missed", "voicemail": "Voicemail", "outbound": "Connected",
                     "outbound_missed": "Not Connected"}
    assert {c["call_id"] for c in calls} == set(contacts)
    answered = 0
    for call in calls:
        contact = contacts[call["call_id"]]
        assert contact["contact_type"] == contact_types[call["type"]]
        assert (contact["started_at"], contact["finished_at"]) == (call["start_at"], call["end_at"])
        assert (contact["talk_time"], contact["hold_time"], contact["wait_time"]) == \
            (call["talk_time"], call["hold_time"], call["wait_time"])
        assert contact["ring_groups"] == call["ring_groups"] and contact["user_id"] == call["user_id"]
        if call["type"] != "inbound":
            continue
        answered += 1
        start = datetime.strptime(call["start_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        answered_at = datetime.fromtimestamp(start.timestamp() + call["wait_time"], timezone.utc)
        assert contact["answered_at"] == answered_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        on_call = by_agent[call["user_id"]].get((contact["answered_at"], "On a Call"))
        assert on_call is not None and on_call["status_end_at"] == call["end_at"]
        assert on_call["status_time"] == call["talk_time"] + call["hold_time"]
        if contact["after_call_work_time"]:
            acw = by_agent[call["user_id"]][(call["end_at"], "After Call Work")]
            assert acw["status_time"] == contact["after_call_work_time"]
    assert answered > 1000


def test_traffic_shape(talkdesk):
    calls = talkdesk.report("calls", *DAY_WINDOW)["entries"]
    assert 0.8 * 3000 < len(calls) < 1.3 * 3000 * 1.05
    types = Counter(c["type"] for c in calls)
    assert set(types) == set(CALL_TYPES)
    assert types["inbound"] > 0.7 * len(calls)
    hours = Counter(int(c["start_at"][11:13]) for c in calls)
    assert min(hours[h] for h in range(10, 16)) > 4 * max(hours[h] for h in range(0, 4))
    inbound = [c for c in calls if c["type"] not in ("outbound", "outbound_missed")]
    assert any("," in c["ring_groups"] for c in inbound)
    assert any(c["ring_groups"] == "" for c in inbound)
    assert all(c["ring_groups"] == "" and c["wait_time"] == 0 for c in calls if c["type"] == "outbound")
    thresholds = {g["name"]: g["short_abandoned_threshold"]
                  for g in talkdesk.get("/ring-groups").json()["_embedded"]["ring_groups"]}
    for call in calls:
        if call["type"] == "short_abandoned" and call["ring_groups"]:
            assert call["wait_time"] < thresholds[call["ring_groups"].split(",")[0]]
        assert 0 < call["total_time"] < 4 * 3600 or call["type"] in ("abandoned", "short_abandoned")
        assert call["total_time"] >= 0
    answered_waits = sorted(c["wait_time"] for c in calls if c["type"] == "inbound")
    abandon_waits = sorted(c["wait_time"] for c in calls if c["type"] == "abandoned")
    assert np.median(abandon_waits) > np.median(answered_waits)


def test_weekends_are_quieter():
    config = EmulatorConfig(seed=7, queues=5, agents=30, contacts_per_day=3000)
    generator = DataGenerator(config, Directory(config))
    monday = datetime(2025, 6, 2, tzinfo=timezone.utc).timestamp() // DAY
    weekday = [len(generator.activity(int(monday + d)).contacts) for d in range(5)]
    weekend = [len(generator.activity(int(monday + d)).contacts) for d in (5, 6)]
    assert 0.85 * 3000 < np.mean(weekday) < 1.2 * 3000
    assert max(weekend) < 0.7 * min(weekday)


def test_a_large_day_generates_in_seconds():
    config = EmulatorConfig(seed=7, queues=20, agents=3000, contacts_per_day=250_000)
    generator = DataGenerator(config, Directory(config))
    started = time.perf_counter()
    contacts = generator.activity(20241).contacts
    elapsed = time.perf_counter() - started
    assert 0.8 * 250_000 < len(contacts) < 1.3 * 250_000
    assert elapsed < 10, f"one day of 250k contacts took {elapsed:.1f}s"
