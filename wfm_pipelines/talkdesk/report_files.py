"""What a downloaded Explore report file must look like before its entries count as data.

The download host is an object store that answers 200 to almost anything: a gateway's HTML error page, an
S3 XML error, an empty body, a truncated file. Any of these taken as "a report with no entries" would replace
good interval rows with zeros, so only a real report is data: a JSON object `{type, version, total, entries:
[...]}` ("JSON file content (format json)" in `../shared/talkdesk/API-NOTES.md` section 5.4) or a CSV file whose
first row is the header. Everything else raises
`ReportFileError`, naming the report, the window, the content type and the first bytes (scrubbed of anything
credential-like).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import Any

from wfm_pipelines.talkdesk.errors import ReportFileError, ReportTotalMismatchError

PREVIEW_BYTES = 160
# Columns one of which a CSV header of each report type we read must name (the documented columns of `calls`,
# `contacts` and `user_status`, `../shared/talkdesk/API-NOTES.md` sections 5.8-5.10); a first row without any
# of them is data, not a header.
HEADER_FIELDS = {
    "calls": frozenset({"call_id", "callsid", "type", "start_at", "interaction_id", "call_type", "start_time"}),
    "explore_calls": frozenset({"interaction_id", "call_type", "start_time", "call_id", "start_at"}),
    "contacts": frozenset({"contact_id", "interaction_id", "contact_type", "started_at", "direction"}),
    "user_status": frozenset({"user_id", "status_label", "status_start_at", "status_end_at"}),
}
_CREDENTIAL_PAIR = re.compile(
    r"(?i)((?:token|secret|signature|credential|password|key|auth|sig)[\w-]*\s*[=:]\s*\"?)[^&\s\"<>,;]+")
_CREDENTIAL_ELEMENT = re.compile(r"(?i)(<(\w*(?:signature|token|credential|secret|key)\w*)>)[^<]*(</)")
_BEARER = re.compile(r"(?i)(bearer\s+)[\w.~+/=-]+")


def preview(body: bytes) -> str:
    """The first bytes of a body as one line of text, with credential-like values masked."""
    text = body[:PREVIEW_BYTES].decode("utf-8", errors="replace")
    text = _BEARER.sub(r"\1***", _CREDENTIAL_ELEMENT.sub(r"\1***\3", _CREDENTIAL_PAIR.sub(r"\1***", text)))
    text = " ".join(text.split())
    return text + ("..." if len(body) > PREVIEW_BYTES else "")


def read_report(body: bytes, content_type: str, *, report_type: str, start: datetime,
                end: datetime) -> list[dict[str, Any]]:
    """Entries of a report file, or ReportFileError when the body is not a Talkdesk report."""
    media_type = content_type.split(";")[0].strip().lower()
    shown = preview(body)

    def refuse(problem: str) -> ReportFileError:
        return ReportFileError(report_type, start, end, problem, media_type, shown)

    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse("the body is not UTF-8 text") from None
    del body  # a day's file is hundreds of MB: keep the text, not the bytes as well
    head = text.lstrip()[:1]
    if not head:
        raise refuse("the body is empty")
    if "html" in media_type or "xml" in media_type or head == "<":
        raise refuse("an HTML or XML page came instead of a report")
    if "json" in media_type or ("csv" not in media_type and head in "{["):
        return _json_entries(text, report_type, start, end, refuse, media_type, shown)
    return _csv_entries(text, report_type, refuse)


def _json_entries(text, report_type, start, end, refuse, media_type, shown) -> list[dict[str, Any]]:
    try:
        document = json.loads(text)
    except ValueError:
        raise refuse("the body is not valid JSON (cut off?)") from None
    if not isinstance(document, dict):
        raise refuse("JSON without the report envelope {type, version, total, entries}")
    entries = document.get("entries")
    total = document.get("total")
    if entries is None and total == 0:
        # API-NOTES.md 5.4: "Empty report -> entries: [], total: 0 (treat missing entries as empty, as [Airbyte]
        # does)". Taken only where the file itself says total 0: it then holds nothing, consistently.
        return []
    if not isinstance(entries, list):
        raise refuse("JSON without an entries list")
    if isinstance(total, int) and not isinstance(total, bool) and total != len(entries):
        raise ReportTotalMismatchError(report_type, start, end, total, len(entries), media_type, shown)
    # An entry that is not an object cannot be read; it stays visible as a malformed entry, not a crash.
    return [entry if isinstance(entry, dict) else {"_not_an_object": entry} for entry in entries]


def _csv_entries(text: str, report_type: str, refuse) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None) or []
    names = [name.strip() for name in header]
    expected = HEADER_FIELDS.get(report_type)
    if not any(names) or (expected is not None and not expected.intersection(names)):
        raise refuse("CSV without a header row")
    rows = []
    for row in reader:
        if not row:
            continue
        rows.append(dict(zip(names, row)))
    return rows
