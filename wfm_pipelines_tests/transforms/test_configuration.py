"""Configuration frames shaped for wfm_agent, wfm_queue and wfm_queue_agent."""

from __future__ import annotations

import math

import pandas as pd

from wfm_pipelines.talkdesk.parsing import parse_queues, parse_users
from wfm_pipelines.transforms.configuration import agents_frame, memberships_frame, queues_frame


def test_agents_frame_keeps_every_user_with_talkdesks_active_flag():
    users = parse_users([{"id": "u2", "name": "Bea", "email": "bea@example.com", "active": False, "extension": 1002},
                         {"id": "u1", "name": "Al", "created_at": "2018-06-28 14:05:00+00:00"}])
    agents = agents_frame(users)
    assert list(agents.columns) == ["agent_id", "name", "email", "extension", "active", "source_created_at"]
    assert list(agents["agent_id"]) == ["u1", "u2"]
    assert list(agents["active"]) == [True, False]  # no flag means active; Talkdesk's false is kept
    assert list(agents["extension"]) == [None, "1002"]
    assert agents["source_created_at"].iloc[0] == pd.Timestamp("2018-06-28 14:05:00", tz="UTC")
    assert pd.isna(agents["source_created_at"].iloc[1])


def test_queues_frame_columns_and_order():
    queues = queues_frame(parse_queues([{"name": "support"}, {"name": "agents", "wait_time_threshold": 20,
                                                              "short_abandoned_threshold": 5}], "ring_group"))
    assert list(queues.columns) == ["queue_id", "name", "source_kind", "service_level_threshold_s",
                                    "short_abandon_threshold_s", "active"]
    assert queues["active"].all()
    assert list(queues["queue_id"]) == ["agents", "support"]
    assert queues["service_level_threshold_s"].iloc[0] == 20.0
    assert math.isnan(queues["short_abandon_threshold_s"].iloc[1])


def test_memberships_frame_deduplicates_and_sorts():
    members = memberships_frame([("sales", "u2"), ("agents", "u1"), ("sales", "u2"), ("sales", "u1")])
    assert list(members.itertuples(index=False, name=None)) == [("agents", "u1"), ("sales", "u1"), ("sales", "u2")]
    assert list(memberships_frame([]).columns) == ["queue_id", "agent_id"]
