"""A bad answer from Talkdesk never replaces good data (issue 9, items 1 and 2), through real Dagster runs.

Collect a window, then collect it again while the report host answers badly: the run fails visibly, the
partitions show as failed, and the stored interval rows and raw entries stay exactly as they were. A
well-formed empty report is refused by the shrink guard unless the run is tagged `wfm/accept_shrink=true`.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest

from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.defs.partitions import partition_key_for, range_tags
from wfm_pipelines.raw_store import RawStore
from talkdesk_emulator.server import EmulatorConfig, EmulatorServer
from wfm_pipelines_tests.defs.support import (
    agent_state_transactions,
    agents,
    contact_volume,
    queue_memberships,
    queues,
    raw_store_for,
    resources_for,
)
from wfm_pipelines_tests.reference_day import reference_window


def busy_hour():
    """10:00-11:00 UTC of the reference day: the emulated account's busy morning, well over 20 contacts."""
    return reference_window(1, from_hour=10)


def run(assets, resources, start, end, instance, **tags):
    tags = {**range_tags(partition_key_for(start), partition_key_for(end - timedelta(minutes=15))), **tags}
    return dg.materialize(assets, resources=resources, tags=tags, instance=instance, raise_on_error=False)


def stored(database_url, table, time_column, start, end, **scope):
    return queries.read_window(get_engine(database_url), table, window_start=start, window_end=end,
                               time_column=time_column, scope=scope or None, account_id=DEFAULT_ACCOUNT_ID)


def raw_calls_of(database_url, start, end) -> pa.Table:
    return RawStore(raw_store_for(database_url)).read_window(get_engine(database_url), "calls", start, end,
                                                             account_id=DEFAULT_ACCOUNT_ID)


def failure_text(result) -> str:
    return "\n".join(event.step_failure_data.error.to_string() + str(event.step_failure_data.user_failure_data)
                     for event in result.get_step_failure_events())


def partition_statuses(instance, asset, start, end) -> set[str]:
    keys = asset.partitions_def.get_partition_keys_in_range(
        dg.PartitionKeyRange(partition_key_for(start), partition_key_for(end - timedelta(minutes=15))))
    statuses = instance.get_status_by_partition(asset.key, keys, asset.partitions_def)
    return {status.value for status in statuses.values()}


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture(scope="module")
def emulator():
    """One emulator for the module (its faults reset before each test): every test starts from the same
    collected hour, copied from one collection instead of collected again."""
    server = EmulatorServer(EmulatorConfig(seed=7, queues=5, agents=30, contacts_per_day=3000,
                                           report_processing_seconds=0.2)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_faults(emulator):
    emulator.reset()


@pytest.fixture(scope="module")
def collected_once(emulator, tmp_path_factory):
    """A busy hour of contact volume and agent states collected well into a template SQLite database."""
    path = tmp_path_factory.mktemp("template") / "wfm.db"
    resources = resources_for(emulator.url, f"sqlite:///{path}")
    with dg.instance_for_test() as first_instance:
        assert dg.materialize([agents, queues, queue_memberships], resources=resources,
                              instance=first_instance).success
        start, end = busy_hour()
        assert run([contact_volume, agent_state_transactions], resources, start, end, first_instance).success
    with get_engine(f"sqlite:///{path}").connect() as connection:  # everything into the file, for copying
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, start, end


@pytest.fixture
def collected(emulator, collected_once, sqlite_url):
    """The collected hour in this test's own database, with its rows and raw entries."""
    template, start, end = collected_once
    shutil.copyfile(template, sqlite_url.removeprefix("sqlite:///"))
    shutil.copytree(raw_store_for(f"sqlite:///{template}"), raw_store_for(sqlite_url))  # the catalogue's files
    resources = resources_for(emulator.url, sqlite_url)
    volume = stored(sqlite_url, "wfm_contact_volume_interval", "interval_start", start, end)
    raw_calls = raw_calls_of(sqlite_url, start, end)
    assert (volume["entered_count"].sum(), raw_calls.num_rows) == (162, 181)
    return resources, start, end, volume, raw_calls


@pytest.mark.parametrize("fault, report_format, message", [
    ("html", "csv", "an HTML or XML page came instead of a report"),
    ("csv_no_header", "csv", "CSV without a header row"),
    ("no_entries", "json", "JSON without an entries list"),
    ("total_mismatch", "json", "says total="),
    ("empty_report", "json", "Refused to replace"),
])
def test_a_bad_answer_fails_the_run_and_leaves_the_stored_interval_exactly_as_it_was(
        emulator, sqlite_url, instance, collected, fault, report_format, message):
    """Bug: each of these answers replaced the interval rows by zeros (or fewer) and the run succeeded."""
    _, start, end, volume, raw_calls = collected
    resources = resources_for(emulator.url, sqlite_url, WFM_REPORT_FORMAT=report_format)
    emulator.set_faults(report_file_fault=fault, report_file_fault_types=["calls"])
    result = run([contact_volume], resources, start, end, instance)
    assert not result.success
    assert message in failure_text(result)
    pd.testing.assert_frame_equal(stored(sqlite_url, "wfm_contact_volume_interval", "interval_start", start, end),
                                  volume)
    assert raw_calls_of(sqlite_url, start, end).equals(raw_calls)
    assert partition_statuses(instance, contact_volume, start, end) == {"FAILED"}


def test_the_shrink_refusal_says_what_it_saw_and_how_to_accept_it(emulator, sqlite_url, instance, collected):
    resources, start, end, volume, raw_calls = collected
    emulator.set_faults(report_file_fault="empty_report")
    result = run([contact_volume], resources, start, end, instance)
    text = failure_text(result)
    assert f"0 entries where {raw_calls.num_rows} are stored" in text
    assert "wfm/accept_shrink=true" in text and "WFM_SHRINK_GUARD=0.5:20" in text


def test_an_empty_report_accepted_on_purpose_replaces_the_interval(emulator, sqlite_url, instance, collected):
    resources, start, end, volume, _ = collected
    emulator.set_faults(report_file_fault="empty_report")
    result = run([contact_volume], resources, start, end, instance, **{"wfm/accept_shrink": "true"})
    assert result.success
    after = stored(sqlite_url, "wfm_contact_volume_interval", "interval_start", start, end)
    queues_before = volume.loc[volume["queue_id"] != "_unassigned", ["queue_id", "interval_start"]]
    # zeros for every queue, on purpose (`_unassigned` has rows only where it has contacts)
    pd.testing.assert_frame_equal(after[["queue_id", "interval_start"]], queues_before.reset_index(drop=True))
    assert after["entered_count"].sum() == 0
    assert raw_calls_of(sqlite_url, start, end).num_rows == 0
    assert partition_statuses(instance, contact_volume, start, end) == {"MATERIALIZED"}


def test_the_shrink_guard_can_be_switched_off(emulator, sqlite_url, instance, collected):
    _, start, end, _, _ = collected
    resources = resources_for(emulator.url, sqlite_url, WFM_SHRINK_GUARD="off")
    emulator.set_faults(report_file_fault="empty_report")
    assert run([contact_volume], resources, start, end, instance).success
    assert stored(sqlite_url, "wfm_contact_volume_interval", "interval_start", start, end)["entered_count"].sum() == 0


def test_an_empty_status_report_keeps_the_stored_transactions(emulator, sqlite_url, instance, collected):
    resources, start, end, _, _ = collected
    before = stored(sqlite_url, "wfm_agent_state_transaction", "state_end", start, end)
    assert len(before) == 433
    emulator.set_faults(report_file_fault="empty_report", report_file_fault_types=["user_status"])
    result = run([agent_state_transactions], resources, start, end, instance)
    assert not result.success and "raw 'user_status' entries" in failure_text(result)
    pd.testing.assert_frame_equal(stored(sqlite_url, "wfm_agent_state_transaction", "state_end", start, end), before)
    assert partition_statuses(instance, agent_state_transactions, start, end) == {"FAILED"}


def test_a_window_never_collected_has_no_guard(emulator, sqlite_url, instance):
    resources = resources_for(emulator.url, sqlite_url)
    start, end = busy_hour()
    emulator.set_faults(report_file_fault="empty_report")
    assert run([contact_volume], resources, start, end, instance).success


def test_a_raw_store_volume_short_of_free_space_fails_the_collection_before_it_replaces_anything(
        emulator, sqlite_url, instance, collected):
    _, start, end, volume, raw_calls = collected
    free = RawStore(raw_store_for(sqlite_url)).free_mb()
    # The volume "past" WFM_MIN_FREE_DISK_MB: the deployment keeps free 10 GiB more than the volume has.
    full = resources_for(emulator.url, sqlite_url, WFM_MIN_FREE_DISK_MB=str(free + 10 * 1024))
    jobs_before = len(emulator.app.jobs)
    result = run([contact_volume, agent_state_transactions], full, start, end, instance)
    assert not result.success
    text = failure_text(result)
    assert f"the raw store at {raw_store_for(sqlite_url)} has " in text and "WFM_MIN_FREE_DISK_MB" in text
    assert len(emulator.app.jobs) == jobs_before  # refused before any report was asked for
    pd.testing.assert_frame_equal(stored(sqlite_url, "wfm_contact_volume_interval", "interval_start", start, end),
                                  volume)
    assert raw_calls_of(sqlite_url, start, end).equals(raw_calls)
    assert partition_statuses(instance, contact_volume, start, end) == {"FAILED"}
    # Once there is room, the same intervals collect again.
    roomy = resources_for(emulator.url, sqlite_url, WFM_MIN_FREE_DISK_MB="1")
    assert run([contact_volume], roomy, start, end, instance).success
    assert partition_statuses(instance, contact_volume, start, end) == {"MATERIALIZED"}
