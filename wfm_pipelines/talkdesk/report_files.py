"""What a downloaded Explore report file must look like before its entries count as data, and how it is read:
column-wise, into one Arrow table of text columns (`report_table`).

The download host is an object store that answers 200 to almost anything: a gateway's HTML error page, an
S3 XML error, an empty body, a truncated file. Any of these taken as "a report with no entries" would replace
good interval rows with zeros, so only a real report is data: a JSON object `{type, version, total, entries:
[...]}` (docs/counting-rules.md#report-files) or a CSV file whose
first row is the header. Everything else raises `ReportFileError`, naming the report, the window, the content
type and the first bytes (scrubbed of anything credential-like).

CSV is read by pyarrow's CSV reader straight from the downloaded file, every column as text; a row whose field
count differs from the header's is kept as an unreadable entry (it becomes a malformed entry), never dropped.
The header may name the fields by their JSON keys or by display names (`report_columns`); a header that names
none of the documented fields either way raises `ReportHeaderUnknownError` (the collector may then ask for the
same window as JSON). JSON is decoded whole by msgspec and built into Arrow columns one field at a time
(`report_table.entries_to_table`): Arrow's JSON reader cannot take a value whose type changes between entries
(`12` here, `"12"` there), which is exactly what a tolerant reader must accept, and it would turn timestamps and
large integers into other values. A body msgspec refuses (a lone surrogate, `NaN`) is decoded once more by the
standard library, which accepts what Talkdesk's JSON may hold. CSV is still the cheaper of the two
(`benchmarks/results`), so it is what the pipeline asks for first.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.csv as pa_csv

from wfm_pipelines.talkdesk.errors import ReportFileError, ReportHeaderUnknownError, ReportTotalMismatchError
from wfm_pipelines.talkdesk.report_columns import read_header
from wfm_pipelines.talkdesk.report_table import NOT_AN_OBJECT, entries_to_table

PREVIEW_BYTES = 160
SNIFF_BYTES = 4096
UTF8_BOM = b"\xef\xbb\xbf"
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


class _Source:
    """A report body held in memory or in a downloaded file, readable more than once."""

    def __init__(self, body: bytes | None = None, path: str | None = None):
        self.body, self.path = body, path

    def size(self) -> int:
        return len(self.body) if self.body is not None else os.path.getsize(self.path)

    def head(self, count: int) -> bytes:
        if self.body is not None:
            return self.body[:count]
        with open(self.path, "rb") as file:
            return file.read(count)

    def stream(self) -> pa.NativeFile:
        # A plain file, not a memory map: mapped pages would count in the process's resident memory.
        return pa.BufferReader(self.body) if self.body is not None else pa.OSFile(self.path)

    def all_bytes(self) -> bytes:
        if self.body is not None:
            return self.body
        with open(self.path, "rb") as file:
            return file.read()


@dataclass(frozen=True)
class ReportFile:
    """A report file's entries and how they were read."""

    table: pa.Table
    file_format: str  # "csv" or "json": what the body was read as
    csv_header: str | None = None  # CSV: `report_columns.SNAKE_CASE` or `report_columns.DISPLAY_NAMES`

    @property
    def reading(self) -> str:
        """`csv (display-name header)`, `csv (snake_case header)` or `json`."""
        return f"csv ({self.csv_header} header)" if self.file_format == "csv" else self.file_format


# What the pipeline tells the user to set when the CSV header cannot be read (`ReportHeaderUnknownError`).
HEADER_HINT = "WFM_REPORT_FORMAT=auto asks for the same window as JSON then, json always asks for JSON"


def read_report(body: bytes, content_type: str, *, report_type: str, start: datetime, end: datetime) -> pa.Table:
    """Entries of a report body as a table of text columns, or ReportFileError when it is not a Talkdesk report."""
    return _read(_Source(body=body), content_type, report_type, start, end).table


def read_report_file(path: str, content_type: str, *, report_type: str, start: datetime, end: datetime) -> ReportFile:
    """`read_report` for a body downloaded to a file: a day's report is hundreds of MB, never held as text."""
    return _read(_Source(path=path), content_type, report_type, start, end)


def _read(source: _Source, content_type: str, report_type: str, start: datetime, end: datetime) -> ReportFile:
    media_type = content_type.split(";")[0].strip().lower()
    first = source.head(SNIFF_BYTES)
    shown = preview(first[len(UTF8_BOM):] if first.startswith(UTF8_BOM) else first)

    def refuse(problem: str) -> ReportFileError:
        return ReportFileError(report_type, start, end, problem, media_type, shown)

    head = first.removeprefix(UTF8_BOM).lstrip()[:1]
    if not head:
        if source.size() <= len(first):
            raise refuse("the body is empty")
        head = b" "  # only white space in the first bytes: let the format's reader judge the rest
    if "html" in media_type or "xml" in media_type or head == b"<":
        raise refuse("an HTML or XML page came instead of a report")
    if "json" in media_type or ("csv" not in media_type and head in (b"{", b"[")):
        return ReportFile(_json_entries(source, report_type, start, end, refuse, media_type, shown), "json")
    return _csv_entries(source, report_type, start, end, refuse, media_type, shown)


_DECODE = msgspec.json.Decoder().decode


def _decoded(body: bytes) -> Any:
    """The JSON document. msgspec refuses a lone surrogate and `NaN`/`Infinity`, which the standard library takes
    (and a tolerant reader must: a broken character is a malformed field, not a lost report)."""
    try:
        return _DECODE(body)
    except msgspec.DecodeError:
        return json.loads(body)


def _json_entries(source: _Source, report_type, start, end, refuse, media_type, shown) -> pa.Table:
    try:
        document = _decoded(source.all_bytes())
    except UnicodeDecodeError:
        raise refuse("the body is not UTF-8 text") from None
    except ValueError:
        raise refuse("the body is not valid JSON (cut off?)") from None
    if not isinstance(document, dict):
        raise refuse("JSON without the report envelope {type, version, total, entries}")
    entries = document.get("entries")
    total = document.get("total")
    if entries is None and total == 0:
        # An empty report may leave `entries` out (docs/counting-rules.md#report-files). Taken only where the file
        # itself says total 0: it then holds nothing, consistently.
        return pa.table({})
    if not isinstance(entries, list):
        raise refuse("JSON without an entries list")
    if isinstance(total, int) and not isinstance(total, bool) and total != len(entries):
        raise ReportTotalMismatchError(report_type, start, end, total, len(entries), media_type, shown)
    del document
    # An entry that is not an object cannot be read; it stays visible as a malformed entry, not a crash.
    return entries_to_table(entries)


def _csv_entries(source: _Source, report_type: str, start: datetime, end: datetime, refuse, media_type: str,
                 shown: str) -> ReportFile:
    try:
        written = _header_names(source)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc).upper():
            raise refuse("the body is not UTF-8 text") from None
        written = []
    header = read_header(report_type, written)
    if not any(header.names):
        raise refuse("CSV without a header row")
    if not header.names_a_documented_field:
        # Its first bytes are not shown: a "header" naming no field may well be a row of data (names, numbers).
        raise ReportHeaderUnknownError(report_type, start, end, len(written), media_type,
                                       "not shown: the first row may be data", HEADER_HINT)
    unreadable: list[str] = []

    def keep_unreadable(row: pa_csv.InvalidRow) -> str:
        unreadable.append(json.dumps({"csv_row": row.text, "fields": row.actual_columns,
                                      "header_fields": row.expected_columns}, ensure_ascii=False))
        return "skip"  # kept aside below as an unreadable entry: it becomes a malformed entry, not a loss

    try:
        table = pa_csv.read_csv(
            source.stream(),
            read_options=pa_csv.ReadOptions(use_threads=True, block_size=1 << 24),
            # Talkdesk's free-text fields (notes, names) may hold line breaks inside quotes.
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=keep_unreadable),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in written},
                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc).upper():
            raise refuse("the body is not UTF-8 text") from None
        raise refuse(f"the body is not valid CSV ({str(exc).splitlines()[0][:120]})") from None
    table = table.rename_columns(list(header.names))
    if unreadable:
        extra = pa.table({NOT_AN_OBJECT: pa.array(unreadable, pa.string())})
        table = pa.concat_tables([table, extra], promote_options="default")
    return ReportFile(table, "csv", header.style)


def _header_names(source: _Source) -> list[str]:
    """The header row's names exactly as written (`column_types` is keyed by them, spaces included)."""
    first_line = source.head(SNIFF_BYTES * 16).split(b"\n", 1)[0] + b"\n"
    return pa_csv.read_csv(pa.BufferReader(first_line)).column_names


def entries_as_dicts(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as dicts of their non-null fields (for small reports and for tests)."""
    return [{key: value for key, value in row.items() if value is not None} for row in table.to_pylist()]
