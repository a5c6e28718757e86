"""Entries and names Talkdesk may send that used to block or miscount a range (issue 9, items 3, 8, 9, 16),
through real Dagster runs against the emulator."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import dagster as dg
import pandas as pd
import pytest

from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.defs.partitions import partition_key_for, range_tags
from talkdesk_emulator.server import EmulatorConfig, EmulatorServer
from talkdesk_emulator.traffic import ABANDONED, INBOUND, MISSED, VOICEMAIL
from wfm_pipelines_tests.defs.support import (
    agent_state_transactions,
    agents,
    contact_volume,
    expected_volume,
    fetch_report,
    queue_memberships,
    queues,
    raw_entries_of,
    resources_for,
)
from wfm_pipelines_tests.reference_day import reference_window
from wfm_pipelines.talkdesk.report_table import BROKEN_COLUMN

CONFIGURATION = [agents, queues, queue_memberships]


def materialize_range(assets, resources, start, end, **tags):
    tags = {**range_tags(partition_key_for(start), partition_key_for(end - timedelta(minutes=15))), **tags}
    return dg.materialize(assets, resources=resources, tags=tags, raise_on_error=False)


def volume_rows(database_url, start, end) -> pd.DataFrame:
    return queries.read_window(get_engine(database_url), "wfm_contact_volume_interval", window_start=start,
                               window_end=end, time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID)


def is_poisoned_where_used(entry: dict) -> bool:
    """The emulator's poisons 1-4 (a broken character or NUL in ring_groups, an absurd duration, a time in
    1971); poison 0 (a broken character in user_name, which nothing reads) leaves the contact good."""
    groups = entry.get("ring_groups") or ""
    broken = "\x00" in groups or any("\ud800" <= char <= "\udfff" for char in groups)
    return broken or float(entry.get("talk_time") or 0) > 1e9 or str(entry.get("start_at", "")).startswith("1971")


@pytest.mark.parametrize("report_format", ["csv", "json"])
def test_poison_entries_are_kept_aside_and_the_rest_of_the_range_lands(emulator, database_url, report_format):
    """Bug: one entry with a NUL or a lone surrogate failed the whole write (PostgreSQL), an absurd duration
    failed validation, a 1971 timestamp vanished without a count. A CSV report cannot carry a lone surrogate: the
    emulator makes those poisons NULs there."""
    resources = resources_for(emulator.url, database_url, WFM_REPORT_FORMAT=report_format)
    assert dg.materialize(CONFIGURATION, resources=resources).success
    start, end = reference_window(3, from_hour=9)
    emulator.set_faults(poison_rate=0.2)
    result = materialize_range([contact_volume, agent_state_transactions], resources, start, end)
    assert result.success, [e.step_failure_data.error.to_string() for e in result.get_step_failure_events()]
    volume_meta = result.asset_materializations_for_node("contact_volume")[0].metadata
    reasons = volume_meta["malformed_reasons"].value
    assert {"NUL or broken character in ring_groups", "absurd duration (over 32 days)",
            "timestamp far outside the report window"} <= set(reasons)
    status_reasons = result.asset_materializations_for_node("agent_state_transactions")[0].metadata[
        "malformed_reasons"].value
    assert {"NUL or broken character in status_label", "absurd duration (over 32 days)",
            "timestamp far outside the report window"} <= set(status_reasons)
    assert all(check.passed for check in result.get_asset_check_evaluations())

    engine = get_engine(database_url)
    malformed = queries.read_table(engine, "talkdesk_malformed_entry", account_id=DEFAULT_ACCOUNT_ID)
    assert not malformed.duplicated(["report_type", "owner_at", "entry_hash"]).any()
    assert (malformed["owner_at"] >= pd.Timestamp(start)).all()  # a 1971 entry stays with its report's window
    if report_format == "json":
        # A broken character where nothing reads it: the contact counts; its text is kept with U+FFFD and the
        # field named as broken.
        raw = raw_entries_of(database_url, "calls")
        broken = [fields for fields in raw.column(BROKEN_COLUMN).to_pylist() if fields]
        assert broken and set(broken) == {"user_name"}

    entries = [e for e in fetch_report(emulator.url, "calls", start, end + timedelta(hours=4), report_format)
               if not is_poisoned_where_used(e)]
    expected = expected_volume(entries, start, end)
    rows = volume_rows(database_url, start, end)
    got = {(r.queue_id, r.interval_start.to_pydatetime()): (r.entered_count, r.handled_count, r.abandoned_count)
           for r in rows.itertuples()}
    assert sum(v["entered"] for v in expected.values()) == {"csv": 441, "json": 465}[report_format]
    for key, totals in expected.items():
        assert got[key] == (totals["entered"], totals["handled"], totals["abandoned"]), key


@pytest.fixture
def oddly_named_emulator():
    server = EmulatorServer(EmulatorConfig(seed=7, queues=5, agents=30, contacts_per_day=3000,
                                           report_processing_seconds=0.2,
                                           queue_names=("Sales, EMEA", "'VIP'", "..", "%2F")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_queue_names_are_read_as_talkdesk_spells_them(oddly_named_emulator, sqlite_url):
    """Bug: `Sales, EMEA` was split into two unknown queues, `'VIP'` lost its quotes, and the members of `..`
    were asked for at /ring-groups/../users, which is /users."""
    emulator = oddly_named_emulator
    resources = resources_for(emulator.url, sqlite_url)
    assert dg.materialize(CONFIGURATION, resources=resources).success
    engine = get_engine(sqlite_url)
    names = {q.name for q in emulator.app.directory.queues}
    assert set(queries.read_table(engine, "wfm_queue", account_id=DEFAULT_ACCOUNT_ID)["queue_id"]) == names
    members = queries.read_table(engine, "wfm_queue_agent",
                                 account_id=DEFAULT_ACCOUNT_ID).groupby("queue_id")["agent_id"].apply(set).to_dict()
    for index, queue in enumerate(emulator.app.directory.queues):
        assert members[queue.name] == {a.id for a in emulator.app.directory.queue_members(index)}, queue.name

    start, end = reference_window(3, from_hour=9)
    result = materialize_range([contact_volume], resources, start, end)
    assert result.success
    assert "unmatched_queue_names" not in result.asset_materializations_for_node("contact_volume")[0].metadata
    # The truth, from the emulator's own contacts (queue indexes, not text): contacts entered per queue.
    ended_by = int((end + timedelta(days=1)).timestamp())  # long after the window: every contact in it has ended
    contacts = emulator.app.generator.contacts_in_window(int(start.timestamp()), int(end.timestamp()), "start",
                                                         ended_by)
    truth: Counter = Counter()
    for kind, first, second in zip(contacts.kind, contacts.queue1, contacts.queue2):
        if kind in (INBOUND, ABANDONED, MISSED, VOICEMAIL):
            named = [emulator.app.directory.queues[queue].name for queue in (first, second) if queue >= 0]
            for name in named or ["_unassigned"]:
                truth[name] += 1
    stored = volume_rows(sqlite_url, start, end).groupby("queue_id")["entered_count"].sum()
    assert (truth["Sales, EMEA"], truth["'VIP'"]) == (125, 117)
    assert {name: int(count) for name, count in stored.items() if count} == dict(truth)


def test_names_that_match_no_queue_are_counted(emulator, sqlite_url):
    resources = resources_for(emulator.url, sqlite_url)
    assert dg.materialize(CONFIGURATION, resources=resources).success
    engine = get_engine(sqlite_url)
    with engine.begin() as connection:  # a ring group renamed in Talkdesk since the last import
        connection.exec_driver_sql("UPDATE wfm_queue SET queue_id = 'support-old', name = 'support-old' "
                                   "WHERE queue_id = 'support'")
    start, end = reference_window(2, from_hour=9)
    result = materialize_range([contact_volume], resources, start, end)
    assert result.success
    unmatched = result.asset_materializations_for_node("contact_volume")[0].metadata["unmatched_queue_names"].value
    assert unmatched == {"support": 84}


@pytest.mark.parametrize("listing, asset, table", [("empty", agents, "wfm_agent"), ("few", agents, "wfm_agent"),
                                                   ("empty", queues, "wfm_queue")])
def test_a_listing_that_suddenly_holds_almost_nobody_does_not_deactivate_everyone(emulator, sqlite_url, listing,
                                                                                  asset, table):
    """Bug: one empty Users page marked every agent inactive, and the import succeeded."""
    resources = resources_for(emulator.url, sqlite_url)
    assert dg.materialize(CONFIGURATION, resources=resources).success
    engine = get_engine(sqlite_url)
    before = queries.read_table(engine, table, account_id=DEFAULT_ACCOUNT_ID)
    emulator.set_faults(directory_listing=listing)
    refused = dg.materialize([asset], resources=resources, raise_on_error=False)
    assert not refused.success
    failure = refused.get_step_failure_events()[0].step_failure_data
    assert "Refused to replace" in failure.user_failure_data.description
    assert "wfm/accept_shrink=true" in failure.user_failure_data.description
    pd.testing.assert_frame_equal(queries.read_table(engine, table, account_id=DEFAULT_ACCOUNT_ID), before)

    accepted = dg.materialize([asset], resources=resources, tags={"wfm/accept_shrink": "true"})
    assert accepted.success
    after = queries.read_table(engine, table, account_id=DEFAULT_ACCOUNT_ID)
    assert after["active"].sum() <= 2 and len(after) == len(before)  # deactivated on purpose, none deleted


@pytest.mark.parametrize("report_type", ["calls", "contacts"])
def test_waits_of_unanswered_contacts_come_from_the_field_that_measures_them(emulator, sqlite_url, tmp_path,
                                                                           report_type):
    """Bug: where Talkdesk leaves wait_time at 0 and fills abandon_time (or time_to_missed, ...), the abandon
    wait was counted as 0. Both readings must give the same rows."""
    start, end = reference_window(3, from_hour=9)
    assert materialize_range([contact_volume], resources_for(emulator.url, sqlite_url, WFM_VOLUME_REPORT=report_type),
                             start, end).success
    in_wait_time = volume_rows(sqlite_url, start, end).drop(columns=["collected_at"])
    emulator.set_faults(wait_fields="specific_only")
    specific_url = f"sqlite:///{tmp_path / 'specific.db'}"
    result = materialize_range([contact_volume], resources_for(emulator.url, specific_url,
                                                               WFM_VOLUME_REPORT=report_type), start, end)
    assert result.success and all(check.passed for check in result.get_asset_check_evaluations())
    only_specific = volume_rows(specific_url, start, end).drop(columns=["collected_at"])
    assert in_wait_time["sum_abandon_wait_s"].sum() > 0
    pd.testing.assert_frame_equal(only_specific, in_wait_time)
