"""The collectors of two accounts over one WFM database and raw store (issue 12): each keeps its raw and
malformed entries and remembers its report behaviour under its own account, so one account's collection never
replaces, reads or decides for the other's."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from wfm_pipelines.collection import agent_states, contact_volume
from wfm_pipelines.collection.options import CollectionOptions
from wfm_pipelines.db import queries, report_behaviour
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines_tests.collection.test_collectors import (
    DAY,
    NOW,
    ScriptedExplore,
    collect_states,
    engine,  # noqa: F401 - fixtures
    iso,
    raw_store,  # noqa: F401
    statuses,
)

START = DAY + timedelta(hours=10)
QUEUES = pd.DataFrame({"queue_id": ["support"], "active": [True]})


def contacts(count: int, talk_time: int) -> list[dict]:
    """`count` calls ten minutes apart, the same ids in every account, and one of an unknown type."""
    good = [{"call_id": f"c{i}", "type": "inbound", "start_at": iso(START + timedelta(minutes=10 * i)),
             "end_at": iso(START + timedelta(minutes=10 * i + 3)), "ring_groups": "support", "talk_time": talk_time,
             "wait_time": 5, "hold_time": 0} for i in range(count)]
    bad = {"call_id": "bad", "type": "teleported", "start_at": iso(START + timedelta(minutes=5)),
           "end_at": iso(START + timedelta(minutes=8)), "ring_groups": "support"}
    return good + [bad]


def collect_volume(runner, engine, raw_store, account_id):  # noqa: F811 - the fixtures' names
    return contact_volume.collect_contact_volume(
        runner, engine, raw_store, report_type="calls", queues=QUEUES, range_start=START,
        range_end=START + timedelta(hours=1), available_until=NOW, account_id=account_id,
        options=CollectionOptions(chunk=timedelta(hours=1), max_contact=timedelta(hours=1)))


def test_two_accounts_collections_keep_their_own_raw_and_malformed_entries(engine, raw_store):  # noqa: F811
    north = collect_volume(ScriptedExplore(contacts(6, 100), "start_at", "end_at"), engine, raw_store, "north")
    south = collect_volume(ScriptedExplore(contacts(4, 300), "start_at", "end_at"), engine, raw_store, "south")
    assert (north.frame["entered_count"].sum(), south.frame["entered_count"].sum()) == (6, 4)
    assert (north.malformed, south.malformed) == (1, 1)

    window = (START, START + timedelta(hours=1))
    for account, count, talk_time in (("north", 6, "100"), ("south", 4, "300")):
        raw = raw_store.read_window(engine, "calls", *window, account_id=account)
        assert raw.num_rows == count
        assert set(raw.column("talk_time").to_pylist()) == {talk_time}
        malformed = queries.read_table(engine, "talkdesk_malformed_entry", account_id=account)
        assert malformed["reason"].tolist() == ["unknown type"]

    # North collected again, now with nothing: south's entries stay where they were.
    collect_volume(ScriptedExplore([], "start_at", "end_at"), engine, raw_store, "north")
    assert raw_store.read_window(engine, "calls", *window, account_id="north").num_rows == 0
    assert queries.read_table(engine, "talkdesk_malformed_entry", account_id="north").empty
    assert raw_store.read_window(engine, "calls", *window, account_id="south").num_rows == 4
    assert len(queries.read_table(engine, "talkdesk_malformed_entry", account_id="south")) == 1
    assert raw_store.read_window(engine, "calls", *window,
                                 account_id=DEFAULT_ACCOUNT_ID).num_rows == 0  # nothing landed in `default`


def test_what_one_account_was_seen_to_filter_on_decides_nothing_for_another(engine, raw_store):  # noqa: F811
    busy = ScriptedExplore(statuses(DAY + timedelta(hours=9), DAY + timedelta(hours=12), timedelta(minutes=20)),
                           "status_start_at", "status_end_at", window_field="end")
    agent_states.collect_agent_state_transactions(
        busy, engine, raw_store, range_start=START, range_end=START + timedelta(minutes=15), available_until=NOW,
        account_id="north")
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id="north") == "end"

    # South was never seen: its quiet tick still looks back, as a new account must.
    quiet = ScriptedExplore([], "status_start_at", "status_end_at", window_field="end")
    result = agent_states.collect_agent_state_transactions(
        quiet, engine, raw_store, range_start=START, range_end=START + timedelta(minutes=15), available_until=NOW,
        account_id="south")
    assert len(quiet.requests) > 1 and quiet.requests[1][1] < DAY
    assert result.report_window_field == "unknown"
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id="south") is None
    assert raw_store.catalogued(engine, "user_status", account_id="north") != []
    # The default account (no accounts file) collects as before, on its own.
    collect_states(busy, engine, raw_store, START, START + timedelta(minutes=15))
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id=DEFAULT_ACCOUNT_ID) == "end"
