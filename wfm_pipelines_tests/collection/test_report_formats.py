"""Which format each report is asked for (WFM_REPORT_FORMAT, issue 21), through the real client against the
emulator and a real database on both backends: `auto` reads either CSV header style, asks the same window as JSON
where the header names no documented field and remembers that per account and report type; `csv` and `json` ask
for that format alone; a JSON that fails too (or later) fails clearly and stores nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from wfm_pipelines.collection.report_formats import ReportFormats
from wfm_pipelines.db import report_behaviour
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.talkdesk.errors import ReportFormatError, ReportHeaderUnknownError
from wfm_pipelines.talkdesk.explore import ReportResult
from wfm_pipelines.talkdesk.report_files import ReportFile, entries_as_dicts, read_report
from wfm_pipelines_tests.reference_day import reference_window
from wfm_pipelines_tests.talkdesk.client_support import make_client, set_faults

START, END = reference_window(1, from_hour=10)


@pytest.fixture
def client(emulator):
    with make_client(emulator.url) as talkdesk:
        yield talkdesk


def job_formats(url: str, client, report_type: str) -> list[str]:
    """The formats the emulator's jobs of a type were asked in, oldest first (as an operator lists them)."""
    body = requests.get(f"{url}/data/reports/{report_type}/jobs?per_page=200", timeout=5,
                        headers={"Authorization": f"Bearer {client.http.tokens.token()}"}).json()
    return [job["format"] for job in reversed(body["_embedded"]["jobs"])]


def keys_of(table, field: str = "call_id") -> list[str]:
    return sorted(table.column(field).to_pylist())


def test_auto_reads_a_display_name_csv_as_csv_and_remembers_nothing(emulator, client, engine):
    expected = keys_of(client.run_report("calls", START, END, report_format="json").table)
    set_faults(emulator.url, csv_header="display_names")
    formats = ReportFormats(engine, "auto", account_id=DEFAULT_ACCOUNT_ID)
    table = formats.runner(client.run_report)("calls", START, END)
    assert keys_of(table) == expected and len(expected) > 20
    assert formats.described() == {"calls": "csv (display-name header)"}
    assert formats.decisions == [(20, "calls: reports come as csv (display-name header)")]
    assert report_behaviour.remembered_report_format(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) is None
    assert job_formats(emulator.url, client, "calls") == ["json", "csv"]


def test_auto_asks_the_same_window_as_json_when_the_header_names_no_field_and_later_runs_ask_json(
        emulator, client, engine):
    statuses = sorted(entries_as_dicts(client.run_report("user_status", START, END, report_format="json").table),
                      key=str)
    set_faults(emulator.url, report_file_fault="csv_no_header")  # every CSV file's first row is data
    first = ReportFormats(engine, "auto", account_id="north")
    runner = first.runner(client.run_report)
    assert sorted(entries_as_dicts(runner("user_status", START, END)), key=str) == statuses
    runner("user_status", END, reference_window(2, from_hour=10)[1])  # the next chunk: JSON at once
    assert first.described() == {
        "user_status": "json (the CSV header named no documented field; remembered)"}
    [(level, said)] = first.decisions
    assert level == 30 and "user_status: the CSV header named no documented field (11 columns)" in said
    assert START.isoformat() in said and "remembered" in said
    assert job_formats(emulator.url, client, "user_status") == ["json", "csv", "json", "json"]
    remembered = report_behaviour.remembered_report_format(engine, "user_status", account_id="north")
    assert remembered.report_format == "json" and "no documented field" in remembered.reason
    assert report_behaviour.remembered_report_format(engine, "user_status",
                                                     account_id=DEFAULT_ACCOUNT_ID) is None  # another account: not
    assert report_behaviour.remembered_report_format(engine, "calls", account_id="north") is None  # nor type

    second = ReportFormats(engine, "auto", account_id="north")
    second.runner(client.run_report)("user_status", START, END)
    assert job_formats(emulator.url, client, "user_status")[-1] == "json" and len(
        job_formats(emulator.url, client, "user_status")) == 5  # asked for JSON directly, no CSV first
    assert second.described()["user_status"].startswith("json (remembered since ")
    assert "clear report_format" in second.decisions[0][1]


def test_csv_asks_for_csv_alone_and_fails_saying_what_to_set(emulator, client, engine):
    set_faults(emulator.url, report_file_fault="csv_no_header")
    with pytest.raises(ReportHeaderUnknownError, match="WFM_REPORT_FORMAT=auto"):
        ReportFormats(engine, "csv", account_id=DEFAULT_ACCOUNT_ID).runner(client.run_report)("calls", START, END)
    assert job_formats(emulator.url, client, "calls") == ["csv"]
    assert report_behaviour.remembered_report_format(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) is None


def test_json_asks_for_json_alone_and_a_remembered_json_is_not_used_by_csv(emulator, client, engine):
    report_behaviour.remember_report_format(engine, "calls", "json", "the CSV header named no documented field",
                                            START, account_id=DEFAULT_ACCOUNT_ID)
    formats = ReportFormats(engine, "json", account_id=DEFAULT_ACCOUNT_ID)
    formats.runner(client.run_report)("calls", START, END)
    assert formats.described() == {"calls": "json (WFM_REPORT_FORMAT=json)"}
    ReportFormats(engine, "csv", account_id=DEFAULT_ACCOUNT_ID).runner(client.run_report)("calls", START, END)
    assert job_formats(emulator.url, client, "calls") == ["json", "csv"]


def test_a_remembered_json_that_fails_says_so_naming_the_report_and_window(emulator, client, engine):
    report_behaviour.remember_report_format(engine, "calls", "json", "the CSV header named no documented field",
                                            START, account_id=DEFAULT_ACCOUNT_ID)
    set_faults(emulator.url, report_file_fault="no_entries")  # a JSON file without its entries
    with pytest.raises(ReportFormatError) as caught:
        ReportFormats(engine, "auto", account_id=DEFAULT_ACCOUNT_ID).runner(client.run_report)("calls", START, END)
    message = str(caught.value)
    assert "Talkdesk report 'calls'" in message and START.isoformat() in message and END.isoformat() in message
    assert "remembered since" in message and "JSON without an entries list" in message
    assert "Nothing was stored" in message


class ScriptedFiles:
    """A Talkdesk whose report files are fixed bodies per format, read by the real reader: for the one case the
    emulator cannot serve at once, a CSV naming no documented field and a broken JSON."""

    def __init__(self, bodies: dict[str, tuple[bytes, str]]):
        self.bodies, self.asked = bodies, []

    def __call__(self, report_type: str, start: datetime, end: datetime, *, report_format: str) -> ReportResult:
        self.asked.append(report_format)
        body, content_type = self.bodies[report_format]
        table = read_report(body, content_type, report_type=report_type, start=start, end=end)
        reading = ReportFile(table, report_format, "snake_case" if report_format == "csv" else None).reading
        return ReportResult(table=table, jobs=["j"], windows=[(start, end)], readings=[reading])


def test_when_json_fails_too_the_error_names_both_and_nothing_is_remembered(engine):
    talkdesk = ScriptedFiles({"csv": (b"Identificador,Tipo\r\nc1,inbound\r\n", "text/csv"),
                              "json": (b'{"type": "calls", "total": 3, "entries": [', "application/json")})
    with pytest.raises(ReportFormatError) as caught:
        ReportFormats(engine, "auto", account_id=DEFAULT_ACCOUNT_ID).runner(talkdesk)("calls", START, END)
    message = str(caught.value)
    assert "CSV header named no documented field (2 columns)" in message and "not valid JSON" in message
    assert "Talkdesk report 'calls'" in message and START.isoformat() in message
    assert talkdesk.asked == ["csv", "json"]
    assert report_behaviour.remembered_report_format(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) is None
