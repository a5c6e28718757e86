"""Explore report jobs: request validation, the 15-job quota, the job life cycle and the report file."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from json.encoder import encode_basestring_ascii  # how json.dumps spells a key
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from talkdesk_emulator.config import REPORT_TYPES, failure_starts_match
from talkdesk_emulator.generator import DataGenerator
from talkdesk_emulator.render import (COLUMNS, EntryRenderer, chunked, corrupt, display_name, malformed_mask, poison,
                                      poison_mask)
from talkdesk_emulator.statuses import Segments
from talkdesk_emulator.text_columns import CSV, JSON, Column, field_texts
from talkdesk_emulator.traffic import Contacts

# Types with emulated data; every other documented type yields an empty report.
CONTACT_REPORTS = ("calls", "contacts", "explore_calls")
FORMATS = ("csv", "json", "json_bulk")
CSV_LINE_END = "\r\n"  # csv.writer's (excel dialect)
QUOTA = 15
MAX_SPAN = timedelta(days=31)
RUNNING = ("created", "processing")
# Accepted timespan formats: ISO with Z/offset/fraction, or naive (in the request timezone), T or space.
_NAIVE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")


class ReportError(Exception):
    def __init__(self, status: int, code: str, message: str, description: str | None = None,
                 fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.description, self.fields = status, code, message, description, fields

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.description:
            body["description"] = self.description
        if self.fields:
            body["fields"] = self.fields
        return body


def validation_error(name: str, description: str) -> ReportError:
    return ReportError(400, "1020001", "Input parameters validation failed",
                       fields=[{"name": name, "description": description}])


def check_report_type(report_type: str) -> None:
    if report_type not in REPORT_TYPES:
        raise validation_error("report_type", "report_type does not have a valid value")


def parse_timespan_value(text: Any, zone: ZoneInfo, name: str) -> datetime:
    if not isinstance(text, str):
        raise validation_error(name, f"{name} format is not supported")
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        parsed = None
        for pattern in _NAIVE_FORMATS:
            try:
                parsed = datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
    if parsed is None or len(value) < 10 or "T" not in value and " " not in value:
        raise validation_error(name, f"{name} format is not supported")
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


@dataclass
class Job:
    id: str
    report_type: str
    name: str
    timezone: str
    format: str
    window_start: datetime
    window_end: datetime
    created_at: float
    processing_seconds: float
    fails: bool
    # Fault settings captured when the job is created: they decide the file's content.
    window_field: str
    timestamp_format: str
    calls_payload: str
    malformed_rate: float
    cutoff: int
    report_file_fault: str | None = None
    wait_fields: str = "wait_time"
    poison_rate: float = 0.0
    csv_header: str = "snake_case"
    download_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    deleted: bool = False

    def status(self, now: float) -> str:
        if self.deleted:
            return "deleted"
        if now - self.created_at < self.processing_seconds:
            return "processing"
        return "failed" if self.fails else "done"

    def body(self, status: str) -> dict[str, Any]:
        zone = ZoneInfo(self.timezone)
        return {"id": self.id, "name": self.name, "status": status, "timezone": self.timezone, "format": self.format,
                "timespan": {"from": str(self.window_start.astimezone(zone)), "to": str(self.window_end.astimezone(zone))}}


class JobStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()

    def __len__(self) -> int:
        """How many report jobs were created since the last reset (what a test counts)."""
        with self._lock:
            return len(self._jobs)

    def create(self, report_type: str, body: Any, faults: dict[str, Any], now: float | None = None,
               claim_file_fault: Callable[[str], str | None] | None = None) -> Job:
        """Validate a create request as Talkdesk does and register the job (raises ReportError).

        `claim_file_fault` gives the report-file fault the job captures; it is asked only once the job is
        accepted, so a refused request does not use up a fault limited to the next N jobs.
        """
        check_report_type(report_type)
        if not isinstance(body, dict):
            raise validation_error("body", "body must be a JSON object")
        timespan = body.get("timespan")
        if not isinstance(timespan, dict):
            raise validation_error("timespan", "timespan is required")
        report_format = body.get("format", "csv")
        if report_format not in FORMATS:
            raise validation_error("format", "format does not have a valid value")
        name = body.get("name", f"{report_type}_report")
        if not isinstance(name, str) or len(name) > 256:
            raise validation_error("name", "name must be a string of at most 256 characters")
        # Airbyte nests the timezone inside timespan (talkdesk_emulator/README.md#report-job-requests); the top-level
        # field wins when both are present.
        zone_name = body.get("timezone", timespan.get("timezone", "UTC"))
        try:
            zone = ZoneInfo(zone_name) if isinstance(zone_name, str) and zone_name else None
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            raise ReportError(400, "1020016", "Invalid timezone received")
        start = parse_timespan_value(timespan.get("from"), zone, "timespan[from]")
        end = parse_timespan_value(timespan.get("to"), zone, "timespan[to]")
        wall_now = time.time() if now is None else now
        if end.timestamp() > wall_now:
            raise validation_error("timespan[to]", "timespan[to] must not be in the future")
        if start >= end:
            raise ReportError(400, "1020005", "Timespan lower boundary must be older than upper boundary")
        if end - start > MAX_SPAN:
            raise ReportError(400, "1020013", "Requested report time span too long")
        monotonic_now = time.monotonic()
        with self._lock:
            running = sum(1 for job in self._jobs.values() if job.status(monotonic_now) in RUNNING)
            if running >= QUOTA:
                raise ReportError(429, "1020017", "Reached the maximum of account-based quota of 15 simultaneous reports",
                                  "The account is using all of it's available quota.")
            job = Job(
                id=str(uuid.uuid4()), report_type=report_type, name=name, timezone=zone.key, format=report_format,
                window_start=start, window_end=end, created_at=monotonic_now,
                processing_seconds=float(faults["report_processing_seconds"]), fails=bool(faults["report_failure"]) or failure_starts_match(faults["report_failure_starts"], start),
                window_field=faults["report_window_field"], timestamp_format=faults["timestamp_format"],
                calls_payload=faults["calls_payload"], malformed_rate=float(faults["malformed_rate"]),
                cutoff=int(wall_now - float(faults["data_delay_seconds"])),
                report_file_fault=claim_file_fault(report_type) if claim_file_fault is not None else None,
                wait_fields=faults.get("wait_fields", "wait_time"), poison_rate=float(faults.get("poison_rate", 0.0)),
                csv_header=faults.get("csv_header", "snake_case"),
            )
            self._jobs[job.id] = job
            return job

    def get(self, report_type: str, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.report_type == report_type else None

    def by_download_token(self, token: str) -> Job | None:
        with self._lock:
            return next((job for job in self._jobs.values() if job.download_token == token), None)

    def of_type(self, report_type: str) -> list[Job]:
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.report_type == report_type]
        return sorted(jobs, key=lambda job: job.created_at, reverse=True)


class ReportFile:
    """The content of a finished job, rendered lazily in chunks of rows, each chunk as one piece of text."""

    def __init__(self, job: Job, generator: DataGenerator, renderer: EntryRenderer) -> None:
        self.job = job
        self.renderer = renderer
        start, end = int(job.window_start.timestamp()), int(job.window_end.timestamp())
        field_name = job.window_field
        if job.report_type in CONTACT_REPORTS:
            self.rows = generator.contacts_in_window(start, end, field_name, job.cutoff)
            self.keys = self.rows.id_hi
            legacy = job.report_type == "explore_calls" or job.calls_payload == "legacy"
            self.shape = "contacts" if job.report_type == "contacts" else ("calls_legacy" if legacy else "calls")
        elif job.report_type == "user_status":
            self.rows = generator.statuses_in_window(start, end, field_name, job.cutoff)
            self.keys = self.rows.start.astype(np.uint64) * np.uint64(7919) + self.rows.agent.astype(np.uint64)
            self.shape = "user_status"
        else:
            self.rows, self.keys, self.shape = None, np.zeros(0, np.uint64), None
        # The header of a CSV file, also when it has no rows; None for types without emulated data.
        self.columns: tuple[str, ...] | None = COLUMNS.get(self.shape) if self.shape else None

    @property
    def total(self) -> int:
        return 0 if self.rows is None else len(self.rows)

    def _field_separators(self, report_format: str) -> list[tuple[str, str]]:
        """(text before, text after) each field's value. A JSON entry opens with the ", " separating it from
        the entry before (dropped for the file's first entry); a CSV row ends with its line terminator."""
        names = self.columns or ()
        if report_format == JSON:
            separators = [(", " + ("{" if i == 0 else "") + encode_basestring_ascii(name) + ": ", "")
                          for i, name in enumerate(names)]
            last = "}"
        else:
            separators = [("" if i == 0 else ",", "") for i in range(len(names))]
            last = CSV_LINE_END
        if separators:
            separators[-1] = (separators[-1][0], last)
        return separators

    def _spoiled_entry_texts(self, columns: list[Column], rows: Contacts | Segments, keys: np.ndarray,
                             malformed: np.ndarray, poisoned: np.ndarray, faulty: np.ndarray,
                             report_format: str) -> list[str]:
        """The whole text of each `faulty` (malformed or poisoned) row's entry: built as a dict and spoiled by
        corrupt() and poison(), as these faults are defined on entries (a field removed, a field added)."""
        names = self.columns or ()
        entries = [{name: column.value(row) for name, column in zip(names, columns)} for row in faulty.tolist()]
        corrupt(entries, malformed[faulty], keys[faulty], self.shape)
        first_queues = None if self.shape == "user_status" else self.renderer.first_queue_names(rows.take(faulty))
        poison(entries, poisoned[faulty], keys[faulty], self.shape, self.job.timestamp_format, first_queues,
               for_csv=report_format == CSV)
        if report_format == JSON:
            return [", " + json.dumps(entry) for entry in entries]
        return [_csv_text([["" if entry.get(name) is None else _csv_value(entry.get(name)) for name in names]])
                for entry in entries]

    def text_chunks(self, report_format: str) -> Iterator[str]:
        """The entries as text, one piece per chunk of rows: JSON entries separated by ", " (the inside of
        the `entries` array), or CSV rows without the header."""
        if self.rows is None:
            return
        render = getattr(self.renderer, self.shape)
        options = {"wait_fields": self.job.wait_fields} if self.shape in ("calls", "contacts") else {}
        separators = self._field_separators(report_format)
        for chunk_number, index in enumerate(chunked(self.total)):
            rows = self.rows.take(index)
            columns = render(rows, self.job.timestamp_format, **options)
            fields = field_texts(columns, separators, report_format)
            keys = self.keys[index]
            malformed, poisoned = malformed_mask(keys, self.job.malformed_rate), poison_mask(keys, self.job.poison_rate)
            faulty = np.flatnonzero(malformed | poisoned)
            if len(faulty):
                # A spoiled entry is one whole text in its row's first field, the row's other fields empty.
                fields[faulty, :] = ""
                fields[faulty, 0] = self._spoiled_entry_texts(columns, rows, keys, malformed, poisoned, faulty,
                                                              report_format)
            if chunk_number == 0 and report_format == JSON:
                fields[0, 0] = fields[0, 0][len(", "):]  # nothing before the file's first entry
            yield "".join(fields.ravel().tolist())

    def iter_entries_json(self) -> Iterator[bytes]:
        """The entries as the inside of a JSON array (no brackets)."""
        for text in self.text_chunks(JSON):
            yield text.encode()

    def iter_json(self, total: int | None = None) -> Iterator[bytes]:
        """The file; `total` overrides the count in the envelope (a fault)."""
        head = {"type": self.job.report_type, "version": "v1", "total": self.total if total is None else total}
        yield json.dumps(head)[:-1].encode() + b', "entries": ['
        yield from self.iter_entries_json()
        yield b"]}"

    def csv_header(self) -> bytes:
        """The header row (the JSON keys, or display names under `csv_header: display_names`); nothing for a
        type without emulated data (it has no known columns)."""
        if not self.columns:
            return b""
        names = list(self.columns)
        if self.job.csv_header == "display_names":
            names = [display_name(self.shape, name) for name in names]
        return _csv_text([names]).encode()

    def iter_csv(self, header: bool = True) -> Iterator[bytes]:
        """The file; `header=False` leaves out the header row (a fault)."""
        if header and self.columns:
            yield self.csv_header()
        for text in self.text_chunks(CSV):
            yield text.encode()
        if self.columns is None:
            yield b""


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=CSV_LINE_END).writerows(rows)
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
