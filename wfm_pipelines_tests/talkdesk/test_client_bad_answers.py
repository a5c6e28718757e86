"""Only a real report is data, and a lost answer never leaves two live report jobs (issue 9, items 1 and 13)."""

from __future__ import annotations

import json

import pytest
import requests
from wfm_pipelines_tests.talkdesk.client_support import make_client, set_faults
from wfm_pipelines_tests.reference_day import reference_window

from wfm_pipelines.talkdesk import Timeouts
from wfm_pipelines.talkdesk.errors import ReportFileError, ReportTotalMismatchError
from wfm_pipelines.talkdesk.report_files import entries_as_dicts, preview, read_report
from wfm_pipelines.talkdesk.report_table import NOT_AN_OBJECT


@pytest.fixture
def client(emulator):
    with make_client(emulator.url) as talkdesk:
        yield talkdesk


def jobs_of(url: str, report_type: str) -> list[dict]:
    """The emulator's job listing, as an operator would read it."""
    token = make_client(url).http.tokens.token()
    body = requests.get(f"{url}/data/reports/{report_type}/jobs?per_page=200",
                        headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
    return body["_embedded"]["jobs"]


@pytest.mark.parametrize("fault, report_format, problem, content_type", [
    ("html", "json", "an HTML or XML page came instead of a report", "text/html"),
    ("xml", "json", "an HTML or XML page came instead of a report", "application/xml"),
    ("empty_body", "json", "the body is empty", "application/json"),
    ("empty_body", "csv", "the body is empty", "text/csv"),
    ("no_entries", "json", "JSON without an entries list", "application/json"),
    ("bare_list", "json", "JSON without the report envelope", "application/json"),
    ("truncated", "json", "not valid JSON", "application/json"),
    ("csv_no_header", "csv", "CSV without a header row", "text/csv"),
])
def test_a_download_that_is_not_a_report_fails_with_a_clear_error(emulator, client, fault, report_format, problem,
                                                                  content_type):
    start, end = reference_window(1, from_hour=10)
    assert client.run_report("calls", start, end, report_format=report_format).entries  # the window has contacts
    set_faults(emulator.url, report_file_fault=fault)
    with pytest.raises(ReportFileError) as caught:
        client.run_report("calls", start, end, report_format=report_format)
    message = str(caught.value)
    assert problem in message
    assert "Talkdesk report 'calls'" in message and start.isoformat() in message and end.isoformat() in message
    assert f"Content-Type {content_type}" in message and "first bytes:" in message
    token = client.http.tokens.token()
    assert token not in message and "wfm-demo-secret" not in message and "X-Amz-Signature=" not in message


def test_a_total_that_disagrees_is_asked_again_once_then_it_fails(emulator, client):
    start, end = reference_window(1, from_hour=10)
    expected = sorted(e["call_id"] for e in client.run_report("calls", start, end).entries)
    set_faults(emulator.url, report_file_fault="total_mismatch", report_file_fault_jobs=1)
    healed = client.run_report("calls", start, end)
    assert sorted(e["call_id"] for e in healed.entries) == expected
    assert len(jobs_of(emulator.url, "calls")) == 3  # the first, the mismatching one, and the one asked again

    set_faults(emulator.url, report_file_fault="total_mismatch", report_file_fault_jobs=None)
    with pytest.raises(ReportTotalMismatchError, match=r"says total=\d+ but holds \d+ entries"):
        client.run_report("calls", start, end)
    assert len(jobs_of(emulator.url, "calls")) == 5  # one more try, not a loop


def test_a_well_formed_empty_report_is_an_empty_report(emulator, client):
    start, end = reference_window(1, from_hour=10)
    set_faults(emulator.url, report_file_fault="empty_report")
    assert client.run_report("calls", start, end).entries == []
    assert client.run_report("calls", start, end, report_format="csv").entries == []


def test_the_documented_empty_shapes_are_read_and_the_csv_header_names_the_fields():
    window = dict(report_type="calls", start=reference_window(1, from_hour=10)[0], end=reference_window(1, from_hour=10)[1])

    def rows(body: bytes, content_type: str) -> list[dict]:
        return entries_as_dicts(read_report(body, content_type, **window))

    assert rows(b'{"type":"calls","version":"v1","total":0,"entries":[]}', "application/json") == []
    # Airbyte's reading: an empty report may leave `entries` out when it says total 0 (docs/counting-rules.md#report-files).
    assert rows(b'{"type":"calls","version":"v1","total":0}', "application/json") == []
    assert rows(b"\xef\xbb\xbfcall_id,type,start_at\r\nc1,inbound,2026-11-30T10:00:00Z\r\n", "text/csv") == [
        {"call_id": "c1", "type": "inbound", "start_at": "2026-11-30T10:00:00Z"}]
    with pytest.raises(ReportFileError, match="CSV without a header row"):
        read_report(b"c1,inbound,2026-11-30T10:00:00Z\r\n", "text/csv", **window)
    # An entry that is not an object is kept visible (it becomes a malformed entry), not a crash; JSON numbers
    # become their text, as CSV gives them.
    assert rows(b'{"total":2,"entries":[{"call_id":"c1","talk_time":12},7]}', "application/json") == [
        {"call_id": "c1", "talk_time": "12"}, {"_not_an_object": "7"}]


def test_a_csv_row_that_does_not_fit_the_header_is_kept_as_an_unreadable_entry():
    """pyarrow's CSV reader stops at a row with the wrong number of fields; such a row must neither stop the
    report nor vanish."""
    window = dict(report_type="calls", start=reference_window(1, from_hour=10)[0], end=reference_window(1, from_hour=10)[1])
    table = read_report(b'call_id,type,start_at\r\nc1,inbound,2026-11-30T10:00:00Z\r\nc2,"two\nlines"\r\n'
                        b'c3,,2026-11-30T10:01:00Z\r\n', "text/csv", **window)
    assert table.column("call_id").to_pylist() == ["c1", "c3", None]
    assert table.column("type").to_pylist() == ["inbound", None, None]  # an empty field is null, as in JSON
    unreadable = json.loads(table.column(NOT_AN_OBJECT)[2].as_py())
    assert unreadable == {"csv_row": 'c2,"two\nlines"', "fields": 2, "header_fields": 3}


def test_a_csv_body_that_is_not_utf8_is_refused():
    window = dict(report_type="calls", start=reference_window(1, from_hour=10)[0], end=reference_window(1, from_hour=10)[1])
    with pytest.raises(ReportFileError, match="not UTF-8"):
        read_report(b"call_id,type\r\n\xff\xfe,inbound\r\n", "text/csv", **window)


def test_the_first_bytes_shown_are_scrubbed_of_credentials():
    body = (b'<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>abc123</SignatureProvided>'
            b'<StringToSign>x</StringToSign> https://s3/x?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA/1 '
            b'Authorization: Bearer eyJsecret.token</Error>')
    shown = preview(body)
    for secret in ("abc123", "deadbeef", "AKIA", "eyJsecret"):
        assert secret not in shown
    assert "SignatureDoesNotMatch" in shown


def test_a_lost_answer_to_a_job_creation_reuses_the_job_instead_of_creating_another(emulator):
    """Bug: the POST timed out, the client created the job again, and two live jobs ate the 15-job quota."""
    start, end = reference_window(1, from_hour=10)
    with make_client(emulator.url) as plain:
        expected = sorted(e["call_id"] for e in plain.run_report("calls", start, end).entries)
    emulator.reset()
    set_faults(emulator.url, job_create_delay_seconds=1.5)
    with make_client(emulator.url, timeouts=Timeouts(connect_s=2, read_s=0.5)) as impatient:
        entries = impatient.run_report("calls", start, end).entries
    assert sorted(e["call_id"] for e in entries) == expected
    assert len(jobs_of(emulator.url, "calls")) == 1


def test_a_creation_refused_by_a_server_error_is_looked_up_then_made_once(emulator, client):
    start, end = reference_window(1, from_hour=10)
    client.http.tokens.token()
    set_faults(emulator.url, error_rate=0.5, error_status=503)  # every other API request fails before its handler
    assert client.run_report("calls", start, end).entries
    set_faults(emulator.url, error_rate=0.0)
    assert len(jobs_of(emulator.url, "calls")) == 1


def test_an_error_never_echoes_credentials_carried_by_a_url(emulator):
    """Bug: a base URL with user-info (`https://user:password@host`) came back whole in the token error."""
    with_credentials = emulator.url.replace("http://", "http://someone:Pw-in-the-url-77@")
    with make_client(with_credentials, client_secret="wrong-secret") as client:
        with pytest.raises(Exception) as caught:
            client.list_users()
    assert "Pw-in-the-url-77" not in str(caught.value) and "someone" not in str(caught.value)
    assert "refused a token" in str(caught.value)
