"""Real Dagster runs (`materialize`) of the product's assets against the emulator and a real database."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pandas as pd
import pytest

from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.defs.partitions import partition_key_for, range_tags
from wfm_pipelines_tests.defs.support import (
    agent_state_snapshots,
    raw_entries_of,
    agent_state_transactions,
    agents,
    contact_volume,
    expected_volume,
    fetch_report,
    queue_memberships,
    queues,
    resources_for,
)
from wfm_pipelines_tests.reference_day import clock_on_the_reference_day, reference_window

CONFIGURATION = [agents, queues, queue_memberships]


def materialize_range(assets, resources, start, end, instance=None, raise_on_error=True):
    tags = range_tags(partition_key_for(start), partition_key_for(end - timedelta(minutes=15)))
    return dg.materialize(assets, resources=resources, tags=tags, instance=instance, raise_on_error=raise_on_error)


def volume_rows(database_url, start, end) -> pd.DataFrame:
    return queries.read_window(get_engine(database_url), "wfm_contact_volume_interval", window_start=start,
                               window_end=end, time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID)


@pytest.fixture
def resources(emulator, database_url):
    return resources_for(emulator.url, database_url)


def test_configuration_then_a_day_of_volume_matches_the_emulator_aggregated_independently(emulator, database_url, resources):
    assert dg.materialize(CONFIGURATION, resources=resources).success
    start, end = reference_window(24)
    result = materialize_range([contact_volume], resources, start, end)
    assert result.success
    rows = volume_rows(database_url, start, end)
    queue_count = len(queries.read_table(get_engine(database_url), "wfm_queue", account_id=DEFAULT_ACCOUNT_ID))
    intervals = 96
    assert len(rows[rows["queue_id"] != "_unassigned"]) == queue_count * intervals  # zeros included
    assert not rows.duplicated(["queue_id", "interval_start"]).any()

    entries = fetch_report(emulator.url, "calls", start, end + timedelta(hours=4))
    expected = expected_volume(entries, start, end)
    got = {(r.queue_id, r.interval_start.to_pydatetime()): r for r in rows.itertuples()}
    assert sum(v["entered"] for v in expected.values()) == 2864
    for key, totals in expected.items():
        row = got[key]
        assert (row.entered_count, row.handled_count, row.abandoned_count) == (
            totals["entered"], totals["handled"], totals["abandoned"]), key
        assert row.sum_handle_time_s == pytest.approx(totals["handle"]), key
    nonzero = rows[rows["entered_count"] > 0]
    assert len(nonzero) == sum(1 for v in expected.values() if v["entered"] > 0)

    # metadata: counts, totals and a preview on the materialization; the checks passed
    materialization = result.asset_materializations_for_node("contact_volume")[0]
    assert materialization.metadata["entered_total"].value == sum(v["entered"] for v in expected.values())
    # a first 6-hour report measures the entry rate, the rest of the day takes one or two more, and one
    # report of the longest contact's length past the day brings the contacts still running at midnight:
    # a handful, never one per 15 minutes
    assert 3 <= materialization.metadata["talkdesk_reports"].value <= 4
    assert "preview" in materialization.metadata
    checks = result.get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {"counts_non_negative", "handled_not_above_entered",
                                              "reconciles_with_raw_entries"}
    assert all(c.passed for c in checks)


def test_rerunning_a_range_replaces_it_without_duplicates(emulator, database_url, resources):
    start, end = reference_window(3)
    assert materialize_range([contact_volume, agent_state_transactions], resources, start, end).success
    first_volume = volume_rows(database_url, start, end).drop(columns=["collected_at"])
    engine = get_engine(database_url)
    first_states = queries.read_table(engine, "wfm_agent_state_transaction",
                                      account_id=DEFAULT_ACCOUNT_ID).drop(columns=["collected_at"])
    raw_count = raw_entries_of(database_url, "calls").num_rows + raw_entries_of(database_url, "user_status").num_rows
    assert materialize_range([contact_volume, agent_state_transactions], resources, start, end).success
    pd.testing.assert_frame_equal(volume_rows(database_url, start, end).drop(columns=["collected_at"]), first_volume)
    pd.testing.assert_frame_equal(
        queries.read_table(engine, "wfm_agent_state_transaction",
                           account_id=DEFAULT_ACCOUNT_ID).drop(columns=["collected_at"]), first_states)
    assert raw_entries_of(database_url, "calls").num_rows + raw_entries_of(database_url, "user_status").num_rows == (
        raw_count)
    assert raw_count == 314
    assert len(first_states) == 231


def test_a_failed_report_fails_the_run_loudly_and_a_rerun_heals_it(emulator, sqlite_url):
    resources = resources_for(emulator.url, sqlite_url)
    start, end = reference_window(2)
    assert materialize_range([contact_volume], resources, start, end).success
    good = volume_rows(sqlite_url, start, end).drop(columns=["collected_at"])

    emulator.set_faults(report_failure=True)
    failed = materialize_range([contact_volume], resources, start, end, raise_on_error=False)
    assert not failed.success
    failure = failed.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "ReportFailedError: Talkdesk report 'calls'" in failure and start.strftime("%Y-%m-%d") in failure
    # the previous rows are untouched by the failed attempt
    pd.testing.assert_frame_equal(volume_rows(sqlite_url, start, end).drop(columns=["collected_at"]), good)

    emulator.set_faults(report_failure=False)
    assert materialize_range([contact_volume], resources, start, end).success
    pd.testing.assert_frame_equal(volume_rows(sqlite_url, start, end).drop(columns=["collected_at"]), good)


@pytest.mark.parametrize("window_field", ["end", "start"])
def test_every_status_record_lands_whichever_timestamp_the_report_filters_on(emulator, sqlite_url, window_field):
    """The partition that contains a record's end owns it, and none is lost either way, also when a run
    splits its range into several reports (small reports forced here) and records span their seams."""
    resources = resources_for(emulator.url, sqlite_url, WFM_REPORT_TARGET_ENTRIES="150")
    start, end = reference_window(12)
    emulator.set_faults(report_window_field=window_field)
    result = materialize_range([agent_state_transactions], resources, start, end)
    assert result.success
    assert result.asset_materializations_for_node("agent_state_transactions")[0].metadata["talkdesk_reports"].value == {"end": 7, "start": 34}[window_field]
    stored = queries.read_table(get_engine(sqlite_url), "wfm_agent_state_transaction", account_id=DEFAULT_ACCOUNT_ID)
    emulator.set_faults(report_window_field="end")
    truth = [e for e in fetch_report(emulator.url, "user_status", start, end) if e.get("status_end_at")]
    assert len(stored) == len(truth) == 2971
    assert sorted(zip(stored["agent_id"], stored["state_start"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))) == sorted(
        (e["user_id"], e["status_start_at"]) for e in truth)


def test_agent_state_snapshots_append_and_move_current_state_forward(emulator, sqlite_url):
    resources = resources_for(emulator.url, sqlite_url)
    assert dg.materialize([agents], resources=resources).success
    assert dg.materialize([agent_state_snapshots], resources=resources).success
    assert dg.materialize([agent_state_snapshots], resources=resources).success
    engine = get_engine(sqlite_url)
    snapshots = queries.read_table(engine, "wfm_agent_state_snapshot", account_id=DEFAULT_ACCOUNT_ID)
    current = queries.read_table(engine, "wfm_agent_state_current", account_id=DEFAULT_ACCOUNT_ID)
    active_agents = queries.read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID).query("active")
    assert len(current) == len(active_agents)
    assert len(snapshots) == 2 * len(active_agents)
    assert snapshots["snapshot_at"].nunique() == 2
    assert (current["since"] <= current["snapshot_at"]).all()


def test_agent_state_snapshots_fall_back_to_user_status_without_ccaas(emulator, sqlite_url):
    resources = resources_for(emulator.url, sqlite_url)
    emulator.set_faults(ccaas_enabled=False)
    # The fallback reads the newest records of the last hour: how many agents have one depends on the hour.
    with clock_on_the_reference_day(14):
        result = dg.materialize([agents, agent_state_snapshots], resources=resources)
    assert result.success
    meta = result.asset_materializations_for_node("agent_state_snapshots")[0].metadata
    assert meta["source"].value == "user_status_report"
    assert len(queries.read_table(get_engine(sqlite_url), "wfm_agent_state_current",
                                  account_id=DEFAULT_ACCOUNT_ID)) == 17


@pytest.mark.parametrize("faults", [
    {"timestamp_format": "legacy"},
    {"timestamp_format": "offset"},
    {"calls_payload": "legacy"},
    {"job_body": "flat"},
    {"report_window_field": "start"},
])
def test_every_documented_payload_shape_gives_the_same_interval_rows(emulator, sqlite_url, tmp_path, faults):
    start, end = reference_window(3)
    assert materialize_range([contact_volume], resources_for(emulator.url, sqlite_url), start, end).success
    baseline = volume_rows(sqlite_url, start, end).drop(columns=["collected_at"])
    shaped_url = f"sqlite:///{tmp_path / 'shaped.db'}"
    emulator.set_faults(**faults)
    assert materialize_range([contact_volume], resources_for(emulator.url, shaped_url), start, end).success
    shaped = volume_rows(shaped_url, start, end).drop(columns=["collected_at"])
    pd.testing.assert_frame_equal(shaped, baseline)
    assert baseline["entered_count"].sum() == 76


def test_malformed_entries_are_counted_kept_with_their_reason_and_the_rest_still_lands(emulator, sqlite_url):
    start, end = reference_window(3)
    emulator.set_faults(malformed_rate=0.05)
    result = materialize_range([contact_volume], resources_for(emulator.url, sqlite_url), start, end)
    assert result.success
    metadata = result.asset_materializations_for_node("contact_volume")[0].metadata
    kept = queries.read_table(get_engine(sqlite_url), "talkdesk_malformed_entry", account_id=DEFAULT_ACCOUNT_ID)
    assert metadata["malformed_entries"].value == len(kept) == 5
    assert set(kept["reason"]) and kept["entry"].str.startswith("{").all()
    assert sum(metadata["malformed_reasons"].value.values()) == len(kept)
    assert volume_rows(sqlite_url, start, end)["entered_count"].sum() == 71
    assert all(check.passed for check in result.get_asset_check_evaluations())


@pytest.mark.parametrize("window_field", ["end", "start"])
def test_contacts_spanning_report_seams_land_once_in_their_start_interval(emulator, sqlite_url, tmp_path,
                                                                          window_field):
    """Small reports forced: the rows equal those of one big report, whichever timestamp the account filters on."""
    start, end = reference_window(12)
    emulator.set_faults(report_window_field=window_field)
    assert materialize_range([contact_volume], resources_for(emulator.url, sqlite_url), start, end).success
    one_report = volume_rows(sqlite_url, start, end).drop(columns=["collected_at"])
    small_url = f"sqlite:///{tmp_path / 'small.db'}"
    result = materialize_range([contact_volume], resources_for(emulator.url, small_url, WFM_REPORT_TARGET_ENTRIES="100"),
                               start, end)
    assert result.success
    assert result.asset_materializations_for_node("contact_volume")[0].metadata["talkdesk_reports"].value == 8
    pd.testing.assert_frame_equal(volume_rows(small_url, start, end).drop(columns=["collected_at"]), one_report)
    assert raw_entries_of(small_url, "calls").num_rows == raw_entries_of(sqlite_url, "calls").num_rows
