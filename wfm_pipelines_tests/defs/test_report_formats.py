"""Issue 21 through real Dagster runs against the emulator, with the default settings: a Talkdesk account works on
the first run whichever way its CSV names the columns. A display-name header lands the same rows as a header of
JSON keys and as JSON; a CSV header naming no documented field is asked again as JSON, which the next run asks
for directly; poison entries and the bad-answer guards behave alike under every reading."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta

import dagster as dg
import pandas as pd
import pytest
import requests

from wfm_pipelines.db import queries, report_behaviour
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.defs.partitions import partition_key_for, range_tags
from wfm_pipelines_tests.conftest import fresh_postgres_database
from wfm_pipelines_tests.defs.support import (CONFIGURATION, agent_state_transactions, contact_volume,
                                                 raw_entries_of, resources_for)
from wfm_pipelines_tests.reference_day import reference_window
from wfm_pipelines_tests.talkdesk.client_support import make_client

START, END = reference_window(3, from_hour=9)  # a busy morning of the reference Wednesday
ASSETS = [contact_volume, agent_state_transactions]


@pytest.fixture(params=["sqlite", "postgres"])
def databases(request, tmp_path) -> Iterator:
    """`databases(n)`: n fresh WFM database URLs of the test's backend."""
    with ExitStack() as stack:
        def make(count: int) -> list[str]:
            if request.param == "sqlite":
                return [f"sqlite:///{tmp_path / f'wfm-{index}.db'}" for index in range(count)]
            return [stack.enter_context(fresh_postgres_database()) for _ in range(count)]
        yield make


def collect(resources, instance=None):
    tags = range_tags(partition_key_for(START), partition_key_for(END - timedelta(minutes=15)))
    return dg.materialize(ASSETS, resources=resources, tags=tags, raise_on_error=False, instance=instance)


def collected(emulator, database_url, instance=None, **env):
    resources = resources_for(emulator.url, database_url, **env)
    assert dg.materialize(CONFIGURATION, resources=resources).success
    result = collect(resources, instance)
    assert result.success, failure_text(result)
    return result


def logged(instance, result, text: str) -> list[str]:
    """The run's log lines (context.log) that contain `text`."""
    return [entry.user_message for entry in instance.all_logs(result.run_id) if text in (entry.user_message or "")]


def failure_text(result) -> str:
    return "\n".join(event.step_failure_data.error.to_string() for event in result.get_step_failure_events())


def report_formats(result) -> dict[str, str]:
    found = {}
    for node in ("contact_volume", "agent_state_transactions"):
        found.update(result.asset_materializations_for_node(node)[0].metadata["report_formats"].value)
    return found


def stored(database_url: str) -> dict[str, pd.DataFrame]:
    """What a collection left, without the times it was collected at."""
    engine = get_engine(database_url)
    volume = queries.read_window(engine, "wfm_contact_volume_interval", window_start=START, window_end=END,
                                 time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID)
    transactions = queries.read_window(engine, "wfm_agent_state_transaction", window_start=START, window_end=END,
                                       time_column="state_end", account_id=DEFAULT_ACCOUNT_ID)
    malformed = queries.read_table(engine, "talkdesk_malformed_entry", account_id=DEFAULT_ACCOUNT_ID)
    return {
        "volume": volume.drop(columns=["collected_at"]).sort_values(["queue_id", "interval_start"],
                                                                     ignore_index=True),
        "transactions": transactions.drop(columns=["collected_at"]).sort_values(["agent_id", "state_start"],
                                                                                ignore_index=True),
        "malformed": malformed[["report_type", "owner_at", "reason", "entry"]].sort_values(
            ["report_type", "owner_at", "entry"], ignore_index=True),
    }


def assert_same(first: dict[str, pd.DataFrame], second: dict[str, pd.DataFrame]) -> None:
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], check_dtype=False, obj=name)


def job_formats(url: str, report_type: str) -> list[str]:
    """The formats the emulator's jobs of a type were asked in, oldest first (as an operator lists them)."""
    with make_client(url) as client:
        token = client.http.tokens.token()
    body = requests.get(f"{url}/data/reports/{report_type}/jobs?per_page=200", timeout=5,
                        headers={"Authorization": f"Bearer {token}"}).json()
    return [job["format"] for job in reversed(body["_embedded"]["jobs"])]


def test_default_settings_land_the_same_rows_from_either_csv_header_style_and_from_json(emulator, databases):
    snake_url, display_url, json_url = databases(3)
    snake = collected(emulator, snake_url)
    assert report_formats(snake) == {"calls": "csv (snake_case header)", "user_status": "csv (snake_case header)"}
    emulator.set_faults(csv_header="display_names")
    display = collected(emulator, display_url)  # no setting changed
    assert report_formats(display) == {"calls": "csv (display-name header)",
                                       "user_status": "csv (display-name header)"}
    as_json = collected(emulator, json_url, WFM_REPORT_FORMAT="json")
    assert report_formats(as_json) == {"calls": "json (WFM_REPORT_FORMAT=json)",
                                       "user_status": "json (WFM_REPORT_FORMAT=json)"}

    rows = stored(snake_url)
    assert rows["volume"]["entered_count"].sum() > 100 and len(rows["transactions"]) > 100
    assert_same(rows, stored(display_url))
    assert_same(rows, stored(json_url))
    # The raw entries are named by the documented fields however the header spelled them.
    assert raw_entries_of(display_url, "calls").equals(raw_entries_of(snake_url, "calls"))
    assert raw_entries_of(display_url, "user_status").equals(raw_entries_of(snake_url, "user_status"))
    assert all(check.passed for result in (snake, display, as_json) for check in result.get_asset_check_evaluations())

    # The second run asks for what worked: CSV again, with no format remembered.
    csv_jobs = job_formats(emulator.url, "calls").count("csv")
    assert collect(resources_for(emulator.url, display_url)).success
    assert job_formats(emulator.url, "calls").count("csv") > csv_jobs
    assert report_behaviour.remembered_report_format(get_engine(display_url), "calls",
                                                     account_id=DEFAULT_ACCOUNT_ID) is None


def test_poison_entries_are_kept_aside_alike_under_either_header_style(emulator, databases):
    snake_url, display_url = databases(2)
    emulator.set_faults(poison_rate=0.2)
    snake = collected(emulator, snake_url)
    emulator.set_faults(csv_header="display_names")
    display = collected(emulator, display_url)
    for result in (snake, display):
        reasons = result.asset_materializations_for_node("contact_volume")[0].metadata["malformed_reasons"].value
        assert {"NUL or broken character in ring_groups", "absurd duration (over 32 days)",
                "timestamp far outside the report window"} <= set(reasons)
        assert all(check.passed for check in result.get_asset_check_evaluations())
    rows = stored(snake_url)
    assert len(rows["malformed"]) > 20
    assert_same(rows, stored(display_url))


def test_a_csv_header_naming_no_field_is_asked_again_as_json_and_the_next_run_asks_json(emulator, databases):
    fallback_url, json_url = databases(2)
    as_json = collected(emulator, json_url, WFM_REPORT_FORMAT="json")
    emulator.set_faults(report_file_fault="csv_no_header")  # every CSV file's first row is data
    with dg.instance_for_test() as instance:
        first = collected(emulator, fallback_url, instance)
        # Said once per report type, however many reports the run asked for.
        assert len(logged(instance, first, "calls: the CSV header named no documented field")) == 1
        assert len(logged(instance, first, "user_status: the CSV header named no documented field")) == 1
    assert report_formats(first) == {
        "calls": "json (the CSV header named no documented field; remembered)",
        "user_status": "json (the CSV header named no documented field; remembered)"}
    assert_same(stored(json_url), stored(fallback_url))
    assert all(check.passed for check in first.get_asset_check_evaluations())
    engine = get_engine(fallback_url)
    for report_type in ("calls", "user_status"):
        assert report_behaviour.remembered_report_format(engine, report_type,
                                                         account_id=DEFAULT_ACCOUNT_ID).report_format == "json"

    csv_jobs = {kind: job_formats(emulator.url, kind).count("csv") for kind in ("calls", "user_status")}
    second = collect(resources_for(emulator.url, fallback_url))
    assert second.success, failure_text(second)
    assert {kind: job_formats(emulator.url, kind).count("csv") for kind in csv_jobs} == csv_jobs  # JSON directly
    assert report_formats(second)["calls"].startswith("json (remembered since ")
    assert_same(stored(json_url), stored(fallback_url))
    assert as_json.success


def test_a_remembered_json_that_fails_later_fails_the_run_and_keeps_the_stored_rows(emulator, databases):
    [url] = databases(1)
    emulator.set_faults(report_file_fault="csv_no_header")
    collected(emulator, url)
    before = stored(url)
    emulator.set_faults(report_file_fault="no_entries", report_file_fault_types=["calls"])  # JSON breaks too
    result = collect(resources_for(emulator.url, url))
    assert not result.success
    text = failure_text(result)
    assert "Talkdesk report 'calls'" in text and "remembered since" in text
    assert "JSON without an entries list" in text and "Nothing was stored" in text
    assert_same(before, stored(url))


def test_a_bad_answer_under_display_names_is_refused_as_under_json_keys(emulator, databases):
    [url] = databases(1)
    emulator.set_faults(csv_header="display_names")
    collected(emulator, url)
    before = stored(url)
    for fault, message in (("empty_report", "Refused to replace"),
                           ("html", "an HTML or XML page came instead of a report")):
        emulator.set_faults(report_file_fault=fault, report_file_fault_types=["calls"])
        result = collect(resources_for(emulator.url, url))
        assert not result.success and message in failure_text(result), fault
        assert_same(before, stored(url))
