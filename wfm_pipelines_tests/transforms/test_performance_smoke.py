"""Performance smoke: parse and aggregate a fifth of a large center's day and print the seconds (no timed assert)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from wfm_pipelines.talkdesk.parsing import parse_contact_report, parse_queues, parse_user_status_report
from wfm_pipelines.transforms.agent_states import agent_state_transactions
from wfm_pipelines.transforms.contact_volume import aggregate_contact_volume

# A fifth of a large center's day (its whole day, through the pipeline, is measured by `make bench`).
CALLS, STATUSES = 50_000, 150_000
TYPES = ["inbound"] * 6 + ["abandoned", "short_abandoned", "missed", "voicemail", "outbound", "outbound_missed"]
RING_GROUPS = ["agents", "sales, support", "support", ""]


def day_of_calls(count: int) -> list[dict]:
    rng = np.random.default_rng(7)
    seconds = np.sort(rng.integers(0, 86400, count))
    types, groups = rng.integers(0, len(TYPES), count), rng.integers(0, len(RING_GROUPS), count)
    waits, talks = rng.integers(0, 90, count), rng.integers(0, 900, count)
    return [{"call_id": f"call-{i}", "callsid": f"CA{i}", "type": TYPES[types[i]],
             "start_at": f"2026-04-23T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}Z", "end_at": None,
             "talkdesk_phone_number": "+12025550102", "user_id": f"user-{i % 800}", "total_time": int(talks[i]),
             "talk_time": int(talks[i]), "wait_time": int(waits[i]), "hold_time": 0, "abandon_time": 0,
             "ring_groups": RING_GROUPS[groups[i]], "is_in_business_hours": True, "team_name": "Sales Team A"}
            for i, s in enumerate(seconds.tolist())]


def day_of_statuses(count: int) -> list[dict]:
    rng = np.random.default_rng(8)
    starts, lengths = rng.integers(0, 86000, count), rng.integers(1, 400, count)
    labels = ["Available", "On a Call", "After Call Work", "Away"]
    return [{"user_id": f"user-{i % 3000}", "status_label": labels[i % 4],
             "status_start_at": f"2026-04-23 {s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}",
             "status_end_at": f"2026-04-23 {(s + n) // 3600:02d}:{(s + n) % 3600 // 60:02d}:{(s + n) % 60:02d}",
             "status_time": int(n), "is_user_active": True, "team_name": "The A-Team", "ring_groups": '["agents"]'}
            for i, (s, n) in enumerate(zip(starts.tolist(), lengths.tolist()))]


@pytest.mark.slow
def test_a_large_day_parses_and_aggregates_in_seconds(capsys):
    calls, statuses = day_of_calls(CALLS), day_of_statuses(STATUSES)
    queues = parse_queues([{"name": "agents"}, {"name": "sales", "wait_time_threshold": 30}, {"name": "support"}],
                          "ring_group")
    day = {"window_start": "2026-04-23T00:00:00Z", "window_end": "2026-04-24T00:00:00Z",
           "collected_at": "2026-04-24T00:10:00Z"}
    t0 = time.perf_counter()
    parsed = parse_contact_report("calls", calls)
    t1 = time.perf_counter()
    volume = aggregate_contact_volume(parsed.records, queues, **day)
    t2 = time.perf_counter()
    status = parse_user_status_report(statuses)
    t3 = time.perf_counter()
    transactions = agent_state_transactions(status.records, **day)
    t4 = time.perf_counter()
    assert len(parsed.records) == CALLS and parsed.malformed.empty
    assert volume["entered_count"].sum() > 0 and len(volume) >= 3 * 96
    assert len(transactions) == len(status.raw)
    with capsys.disabled():
        print(f"\n{CALLS:,} calls: parse {t1 - t0:.2f}s, aggregate {t2 - t1:.2f}s; "
              f"{STATUSES:,} user_status: parse {t3 - t2:.2f}s, transactions {t4 - t3:.2f}s")
