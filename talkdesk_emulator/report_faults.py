"""A download host that answers badly: the body served for a report file under the `report_file_fault` fault.

Every fault answers HTTP 200, as a misbehaving proxy or object store does, so a client that trusts the status
alone takes the body for a report. JSON-envelope faults (`no_entries`, `bare_list`, `total_mismatch`) leave a
CSV file as it is, and `csv_no_header` leaves a JSON file as it is: each fault is about one format's structure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from werkzeug.wrappers import Response

from talkdesk_emulator.reports import ReportFile

GATEWAY_ERROR_PAGE = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                      "<body><h1>502 Bad Gateway</h1></body></html>")
S3_INTERNAL_ERROR = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
                     "<Message>We encountered an internal error. Please try again.</Message>"
                     "<RequestId>4442587FB7D0A2F9</RequestId></Error>")
TOTAL_MISMATCH_EXTRA = 7


def report_file_response(report: ReportFile, as_csv: bool, fault: str | None) -> Response:
    """The download of `report` as CSV or JSON, spoiled by `fault` (None: the file as Talkdesk serves it)."""
    mimetype = "text/csv" if as_csv else "application/json"
    if fault == "html":
        return Response(GATEWAY_ERROR_PAGE, content_type="text/html; charset=utf-8")
    if fault == "xml":
        return Response(S3_INTERNAL_ERROR, content_type="application/xml")  # as S3 sends it, no charset
    if fault == "empty_body":
        return Response(b"", mimetype=mimetype)
    if fault == "truncated":
        body = b"".join(report.iter_csv() if as_csv else report.iter_json())
        return Response(body[: len(body) // 2], mimetype=mimetype)
    if fault == "empty_report":
        if as_csv:
            return Response(report.csv_header(), mimetype=mimetype)
        empty = {"type": report.job.report_type, "version": "v1", "total": 0, "entries": []}
        return Response(json.dumps(empty), mimetype=mimetype)
    if as_csv:
        return Response(report.iter_csv(header=fault != "csv_no_header"), mimetype=mimetype)
    if fault == "no_entries":
        return Response(json.dumps({"type": report.job.report_type, "version": "v1", "total": report.total}),
                        mimetype=mimetype)
    if fault == "bare_list":
        return Response(_bare_list(report), mimetype=mimetype)
    if fault == "total_mismatch":
        return Response(report.iter_json(total=report.total + TOTAL_MISMATCH_EXTRA), mimetype=mimetype)
    return Response(report.iter_json(), mimetype=mimetype)


def _bare_list(report: ReportFile) -> Iterator[bytes]:
    yield b"["
    yield from report.iter_entries_json()
    yield b"]"
