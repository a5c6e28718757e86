"""Every asset check can fail: after a real materialization the checks pass on the stored rows, and after one
wrong row is planted with SQL the check says so and names the interval and the queue (or agent)."""

from __future__ import annotations

import os
from datetime import timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import table_named
from wfm_pipelines.account_ids import DEFAULT_ACCOUNT_ID
from wfm_pipelines.defs.agent_states.assets import transaction_checks
from wfm_pipelines.defs.contact_volume.assets import volume_checks
from wfm_pipelines.defs.partitions import partition_key_for, range_tags
from wfm_pipelines.raw_store import RawStore
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

VOLUME_CHECKS = {"counts_non_negative", "handled_not_above_entered", "reconciles_with_raw_entries"}
TRANSACTION_CHECKS = {"durations_non_negative", "reconciles_with_raw_entries"}


def _materialize_range(assets, resources, start, end) -> dg.ExecuteInProcessResult:
    tags = range_tags(partition_key_for(start), partition_key_for(end - timedelta(minutes=15)))
    result = dg.materialize(assets, resources=resources, tags=tags)
    assert result.success
    return result


def _by_name(results) -> dict[str, dg.AssetCheckResult]:
    results = list(results)
    named = {r.check_name: r for r in results}
    assert len(named) == len(results), [r.check_name for r in results]
    return named


def _offending(result: dg.AssetCheckResult) -> str:
    value = result.metadata["offending"]
    return value.value if isinstance(value, dg.MetadataValue) else str(value)


def _minute(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


@pytest.fixture
def volume_stored(emulator, database_url):
    """Configuration, then 3 hours of contact volume, stored on the backend under test."""
    resources = resources_for(emulator.url, database_url)
    assert dg.materialize([agents, queues, queue_memberships], resources=resources).success
    start, end = reference_window(3)
    result = _materialize_range([contact_volume], resources, start, end)
    # The run's own check evaluations passed too.
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == VOLUME_CHECKS
    assert all(e.passed for e in evaluations)
    engine = get_engine(database_url)
    return engine, start, end, RawStore(raw_store_for(database_url))


@pytest.fixture
def transactions_stored(emulator, database_url):
    resources = resources_for(emulator.url, database_url)
    start, end = reference_window(3)
    result = _materialize_range([agent_state_transactions], resources, start, end)
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == TRANSACTION_CHECKS
    assert all(e.passed for e in evaluations)
    return get_engine(database_url), start, end, RawStore(raw_store_for(database_url))


def _volume_checks(engine, raw_store, start, end) -> dict[str, dg.AssetCheckResult]:
    queues_frame = queries.read_table(engine, "wfm_queue", account_id=DEFAULT_ACCOUNT_ID)
    assert len(queues_frame) == 5
    return _by_name(volume_checks(engine, raw_store, "calls", queues_frame, start, end,
                                   account_id=DEFAULT_ACCOUNT_ID))


def _busy_volume_row(engine, start, end):
    """A stored interval row of a real queue with contacts in it (the one with the most, then the earliest)."""
    table = table_named("wfm_contact_volume_interval")
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(table.c.queue_id, table.c.interval_start, table.c.entered_count, table.c.handled_count)
            .where(table.c.interval_start >= start, table.c.interval_start < end,
                   table.c.queue_id != "_unassigned", table.c.entered_count > 0)
            .order_by(table.c.entered_count.desc(), table.c.interval_start, table.c.queue_id).limit(1)).one()
    return row


def _update_volume_row(engine, row, **values) -> None:
    table = table_named("wfm_contact_volume_interval")
    with engine.begin() as connection:
        updated = connection.execute(
            table.update().where(table.c.queue_id == row.queue_id, table.c.interval_start == row.interval_start)
            .values(**values))
        assert updated.rowcount == 1


def _assert_volume_checks_pass(engine, raw_store, start, end) -> None:
    checks = _volume_checks(engine, raw_store, start, end)
    assert set(checks) == VOLUME_CHECKS
    assert {name: c.passed for name, c in checks.items()} == {name: True for name in VOLUME_CHECKS}
    assert checks["counts_non_negative"].metadata["offending_rows"].value == 0
    assert checks["reconciles_with_raw_entries"].metadata["mismatches"].value == 0
    assert checks["reconciles_with_raw_entries"].metadata["raw_entries"].value > 0
    assert _offending(checks["handled_not_above_entered"]) == "none"


def test_counts_non_negative_fails_on_a_negative_abandoned_count(volume_stored):
    engine, start, end, raw_store = volume_stored
    _assert_volume_checks_pass(engine, raw_store, start, end)
    row = _busy_volume_row(engine, start, end)
    _update_volume_row(engine, row, abandoned_count=-1)

    check = _volume_checks(engine, raw_store, start, end)["counts_non_negative"]
    assert check.passed is False
    assert check.metadata["offending_rows"].value == 1
    offending = _offending(check)
    assert row.queue_id in offending
    assert _minute(row.interval_start) in offending
    assert "abandoned_count" in offending and "-1" in offending


def test_handled_not_above_entered_fails_when_handled_exceeds_entered(volume_stored):
    engine, start, end, raw_store = volume_stored
    _assert_volume_checks_pass(engine, raw_store, start, end)
    row = _busy_volume_row(engine, start, end)
    _update_volume_row(engine, row, handled_count=row.entered_count + 1)

    checks = _volume_checks(engine, raw_store, start, end)
    check = checks["handled_not_above_entered"]
    assert check.passed is False
    assert check.metadata["offending_rows"].value == 1
    offending = _offending(check)
    assert row.queue_id in offending
    assert _minute(row.interval_start) in offending
    assert str(row.entered_count + 1) in offending
    assert checks["counts_non_negative"].passed is True


def test_volume_reconciliation_fails_when_a_row_no_longer_agrees_with_the_raw_entries(volume_stored):
    engine, start, end, raw_store = volume_stored
    _assert_volume_checks_pass(engine, raw_store, start, end)
    row = _busy_volume_row(engine, start, end)
    _update_volume_row(engine, row, entered_count=row.entered_count + 5)

    checks = _volume_checks(engine, raw_store, start, end)
    check = checks["reconciles_with_raw_entries"]
    assert check.passed is False
    assert check.metadata["mismatches"].value == 1
    offending = _offending(check)
    assert row.queue_id in offending
    assert _minute(row.interval_start) in offending
    assert "entered_count" in offending
    assert str(row.entered_count + 5) in offending and str(row.entered_count) in offending
    # the planted row breaks nothing else
    assert checks["counts_non_negative"].passed is True
    assert checks["handled_not_above_entered"].passed is True


def _transaction_checks(engine, raw_store, start, end) -> dict[str, dg.AssetCheckResult]:
    return _by_name(transaction_checks(engine, raw_store, start, end, account_id=DEFAULT_ACCOUNT_ID))


def _assert_transaction_checks_pass(engine, raw_store, start, end) -> None:
    checks = _transaction_checks(engine, raw_store, start, end)
    assert {name: c.passed for name, c in checks.items()} == {name: True for name in TRANSACTION_CHECKS}
    reconcile = checks["reconciles_with_raw_entries"].metadata
    assert reconcile["raw_entries"].value == reconcile["transactions_checked"].value > 0
    assert reconcile["intervals_differing"].value == 0


def _a_transaction(engine, start, end):
    table = table_named("wfm_agent_state_transaction")
    with engine.connect() as connection:
        return connection.execute(
            sa.select(table.c.agent_id, table.c.state_start, table.c.state_end, table.c.duration_s)
            .where(table.c.state_end >= start + timedelta(hours=1), table.c.state_end < end)
            .order_by(table.c.state_end, table.c.agent_id).limit(1)).one()


def test_durations_non_negative_fails_on_a_negative_duration(transactions_stored):
    engine, start, end, raw_store = transactions_stored
    _assert_transaction_checks_pass(engine, raw_store, start, end)
    row = _a_transaction(engine, start, end)
    table = table_named("wfm_agent_state_transaction")
    with engine.begin() as connection:
        assert connection.execute(
            table.update().where(table.c.agent_id == row.agent_id, table.c.state_start == row.state_start)
            .values(duration_s=-5)).rowcount == 1

    checks = _transaction_checks(engine, raw_store, start, end)
    check = checks["durations_non_negative"]
    assert check.passed is False
    assert check.metadata["offending_rows"].value == 1
    offending = _offending(check)
    assert row.agent_id in offending
    assert _minute(row.state_start) in offending
    assert _minute(row.state_end) in offending
    assert "-5" in offending
    assert checks["reconciles_with_raw_entries"].passed is True


def test_transaction_reconciliation_fails_when_a_transaction_is_missing(transactions_stored):
    engine, start, end, raw_store = transactions_stored
    _assert_transaction_checks_pass(engine, raw_store, start, end)
    row = _a_transaction(engine, start, end)
    interval = row.state_end.replace(minute=row.state_end.minute // 15 * 15, second=0, microsecond=0)
    table = table_named("wfm_agent_state_transaction")
    with engine.connect() as connection:
        in_interval = connection.execute(
            sa.select(sa.func.count()).select_from(table)
            .where(table.c.state_end >= interval, table.c.state_end < interval + timedelta(minutes=15))).scalar_one()
    with engine.begin() as connection:
        assert connection.execute(
            table.delete().where(table.c.agent_id == row.agent_id, table.c.state_start == row.state_start)
        ).rowcount == 1

    checks = _transaction_checks(engine, raw_store, start, end)
    check = checks["reconciles_with_raw_entries"]
    assert check.passed is False
    assert check.metadata["intervals_differing"].value == 1
    assert check.metadata["raw_entries"].value == check.metadata["transactions_checked"].value + 1
    offending = _offending(check)
    assert _minute(interval) in offending
    # the interval's line shows the raw entries kept for it and the one fewer transaction stored
    line = next(line for line in offending.splitlines() if _minute(interval) in line)
    assert [cell.strip() for cell in line.strip("|").split("|")][1:] == [str(in_interval), str(in_interval - 1)]
    assert checks["durations_non_negative"].passed is True


def _spoil_first_raw_file(raw_store, engine, report_type, start, end, how: str) -> str:
    """Damage one raw file of the window on disk; its path relative to the store."""
    raw_file = raw_store.catalogued(engine, report_type, start, end, account_id=DEFAULT_ACCOUNT_ID)[0]
    full_path = os.path.join(raw_store.root, raw_file.path)
    content = open(full_path, "rb").read()
    with open(full_path, "wb") as file:
        file.write(content[: len(content) // 2] if how == "truncated" else content[:100] + b"\0" * 64 + content[164:])
    return raw_file.path


def test_volume_reconciliation_fails_naming_a_truncated_raw_file(volume_stored):
    """Issue 11: a truncated Parquet file in the raw store makes a check fail, naming the file."""
    engine, start, end, raw_store = volume_stored
    path = _spoil_first_raw_file(raw_store, engine, "calls", start, end, "truncated")
    checks = _volume_checks(engine, raw_store, start, end)
    check = checks["reconciles_with_raw_entries"]
    assert check.passed is False
    assert path in check.metadata["unreadable_raw_file"].value and path in check.description
    assert checks["counts_non_negative"].passed is True  # the stored rows themselves are fine


def test_transaction_reconciliation_fails_naming_a_corrupt_raw_file(transactions_stored):
    engine, start, end, raw_store = transactions_stored
    path = _spoil_first_raw_file(raw_store, engine, "user_status", start, end, "corrupt")
    check = _transaction_checks(engine, raw_store, start, end)["reconciles_with_raw_entries"]
    assert check.passed is False
    assert path in check.metadata["unreadable_raw_file"].value
