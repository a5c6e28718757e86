"""Explore API report life cycle: create job -> poll -> follow the file redirect -> download -> entries.

Windows longer than Talkdesk's 31-day limit are split; a window reaching into the future is clamped;
the account-wide quota of 15 simultaneous jobs (429, code 1020017) is waited out within a budget. Creating a
job is not idempotent: every job gets a unique name, and when the answer to its creation is lost (timeout,
dropped connection, 5xx) the job is looked up by that name before it is created again, so a lost answer
never leaves two live jobs for one window eating the quota. Only a real report file is data
(`report_files`); a file whose `total` disagrees with its entries is fetched once more from a new job.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urljoin

import pyarrow as pa
import requests
import tenacity

from wfm_pipelines.talkdesk.errors import (
    ReportFailedError,
    ReportTimeoutError,
    ReportTotalMismatchError,
    TalkdeskApiError,
    TalkdeskQuotaError,
    TalkdeskUnavailableError,
)
from wfm_pipelines.talkdesk.http import RetrySettings, TalkdeskHttp, error_from_response, json_body
from wfm_pipelines.talkdesk.report_files import ReportFile, entries_as_dicts, read_report_file

logger = logging.getLogger("wfm_pipelines.talkdesk")

MAX_REPORT_SPAN = timedelta(days=31)
FAILED_JOB_STATUSES = frozenset({"failed", "canceled", "cancelled", "deleted"})


@dataclass(frozen=True)
class ExploreSettings:
    poll_initial_s: float = 1.0
    poll_max_s: float = 5.0
    poll_timeout_s: float = 900.0
    # Waits between creations refused for the account's quota of simultaneous jobs (one try each: the wait
    # budget, not an attempt count, bounds them).
    quota_backoff: RetrySettings = RetrySettings(max_attempts=1, backoff_base_s=5.0, backoff_max_s=60.0)
    quota_wait_budget_s: float = 900.0
    # `to` must not be in the future for Talkdesk; keep this far behind our clock (clock skew).
    future_margin_s: float = 30.0
    # Creations whose answer was lost and whose job could not be found, before giving up.
    lost_creation_attempts: int = 3
    # Pages of the job listing searched (newest first) for a job whose creation answer was lost.
    job_lookup_pages: int = 3
    # Where downloads wait to be read (None: the system's temporary directory).
    download_dir: str | None = None


DOWNLOAD_CHUNK_BYTES = 1 << 20


@dataclass
class ReportResult:
    # One text column per field (`report_table`), the pieces of a split window one after another.
    table: pa.Table = field(default_factory=lambda: pa.table({}))
    jobs: list[str] = field(default_factory=list)
    # The windows actually requested (after clamping and 31-day splitting), in order.
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)
    # How each window's file was read (`ReportFile.reading`: `csv (display-name header)`, `json`, ...), in order.
    readings: list[str] = field(default_factory=list)

    @property
    def entries(self) -> list[dict]:
        """The entries as dicts of their non-null text fields: for small reports (the current-state fallback)."""
        return entries_as_dicts(self.table)


def _utc_second(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"report {name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(timezone.utc).replace(microsecond=0)


def split_window(start: datetime, end: datetime, max_span: timedelta = MAX_REPORT_SPAN) -> list[tuple[datetime, datetime]]:
    """Consecutive [from, to) pieces of at most `max_span` covering [start, end)."""
    pieces = []
    cursor = start
    while cursor < end:
        piece_end = min(cursor + max_span, end)
        pieces.append((cursor, piece_end))
        cursor = piece_end
    return pieces


def _iso_z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _job_of(body: Any) -> dict:
    """Talkdesk documents both `{"job": {...}, "_links": ...}` and a flat job object."""
    if isinstance(body, dict) and isinstance(body.get("job"), dict):
        return body["job"]
    return body if isinstance(body, dict) else {}


class ExploreReports:
    def __init__(self, http: TalkdeskHttp, settings: ExploreSettings | None = None):
        self.http = http
        self.settings = settings or ExploreSettings()

    def run(self, report_type: str, start: datetime, end: datetime, *, timezone_name: str = "UTC",
            report_format: str = "json") -> ReportResult:
        start, end = _utc_second(start, "start"), _utc_second(end, "end")
        latest = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=self.settings.future_margin_s)
        if end > latest:
            logger.info("Talkdesk report %s: end %s is too recent for Explore; clamped to %s",
                        report_type, end.isoformat(), latest.isoformat())
            end = latest
        result = ReportResult()
        if start >= end:
            logger.info("Talkdesk report %s: empty window [%s, %s), nothing requested",
                        report_type, start.isoformat(), end.isoformat())
            return result
        tables = []
        for piece_start, piece_end in split_window(start, end):
            job_id, report_file = self._run_one(report_type, piece_start, piece_end, timezone_name, report_format)
            result.jobs.append(job_id)
            result.windows.append((piece_start, piece_end))
            result.readings.append(report_file.reading)
            tables.append(report_file.table)
        if tables:
            result.table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
        return result

    def _run_one(self, report_type: str, start: datetime, end: datetime, timezone_name: str,
                 report_format: str) -> tuple[str, ReportFile]:
        try:
            return self._run_job(report_type, start, end, timezone_name, report_format)
        except ReportTotalMismatchError as exc:
            logger.warning("%s; asking Talkdesk for the report once more", exc)
            return self._run_job(report_type, start, end, timezone_name, report_format)

    def _run_job(self, report_type: str, start: datetime, end: datetime, timezone_name: str,
                 report_format: str) -> tuple[str, ReportFile]:
        started = time.monotonic()
        job_id = self._create_job(report_type, start, end, timezone_name, report_format)
        created = time.monotonic()
        files_url = self._wait_for_file(report_type, start, end, job_id)
        done = time.monotonic()
        report_file = self._download(files_url, report_type, start, end)
        logger.info("Talkdesk report %s [%s, %s) job %s: created in %.2f s, ready after %.2f s, "
                    "%d entries downloaded and read (%s) in %.2f s", report_type, _iso_z(start), _iso_z(end), job_id,
                    created - started, done - created, report_file.table.num_rows, report_file.reading,
                    time.monotonic() - done)
        return job_id, report_file

    def _jobs_path(self, report_type: str) -> str:
        return f"/data/reports/{quote(report_type, safe='')}/jobs"

    def _create_job(self, report_type: str, start: datetime, end: datetime, timezone_name: str,
                    report_format: str) -> str:
        body = {
            # Unique per request: the name is how a job whose creation answer was lost is found again.
            "name": f"wfm-{report_type}-{_iso_z(start)}-{_iso_z(end)}-{uuid.uuid4().hex[:12]}",
            "timezone": timezone_name,
            "format": report_format,
            "timespan": {"from": _iso_z(start), "to": _iso_z(end)},
        }
        quota = self.settings.quota_backoff
        waited, waits, lost = 0.0, 0, 0
        while True:
            try:
                response = self.http.request("POST", self._jobs_path(report_type), json=body, idempotent=False)
                break
            except TalkdeskUnavailableError as exc:  # the answer was lost: the job may exist all the same
                lost += 1
                found = self._find_job_named(report_type, body["name"])
                if found is not None:
                    logger.warning("Talkdesk report %s [%s, %s): the answer to the job creation was lost (%s); "
                                   "using job %s found by its name", report_type, _iso_z(start), _iso_z(end),
                                   exc.message, found)
                    return found
                if lost >= self.settings.lost_creation_attempts:
                    raise
                logger.warning("Talkdesk report %s [%s, %s): the job creation got no answer (%s) and no job of "
                               "that name exists; creating it again", report_type, _iso_z(start), _iso_z(end),
                               exc.message)
            except TalkdeskQuotaError:
                waits += 1
                wait = quota.backoff(waits)
                if waited + wait > self.settings.quota_wait_budget_s:
                    logger.error("Talkdesk report %s: Explore quota still full after waiting %.0f s",
                                 report_type, waited)
                    raise
                logger.warning("Talkdesk report %s: Explore quota of simultaneous reports is full; "
                               "waiting %.1f s (waited %.1f s so far)", report_type, wait, waited)
                time.sleep(wait)
                waited += wait
        job = _job_of(json_body(response, "POST", self.http.api(self._jobs_path(report_type))))
        job_id = job.get("id")
        if not job_id:
            raise TalkdeskApiError(response.status_code, None, "job creation answered without a job id",
                                   "POST", self.http.api(self._jobs_path(report_type)))
        logger.info("Talkdesk report %s [%s, %s): job %s created (HTTP %d, status %s)", report_type,
                    _iso_z(start), _iso_z(end), job_id, response.status_code, job.get("status"))
        return str(job_id)

    def _find_job_named(self, report_type: str, name: str) -> str | None:
        """The id of this report type's job called `name`, from the newest pages of the job listing."""
        pages = self.http.iter_hal(self._jobs_path(report_type), "jobs", {"per_page": 200})
        for index, job in enumerate(pages):
            if index >= 200 * self.settings.job_lookup_pages:
                break
            if isinstance(job, dict) and job.get("name") == name and job.get("id"):
                return str(job["id"])
        return None

    def _wait_for_file(self, report_type: str, start: datetime, end: datetime, job_id: str) -> str:
        """Poll the job without following redirects; the 303 (or status `done`) gives the file URL. A 302 is taken
        as the 303 is, and a 204 (no body) as a job still running, as a public client reads them."""
        job_url = self.http.api(f"{self._jobs_path(report_type)}/{quote(job_id, safe='')}")
        files_url = self.http.api(f"/data/reports/{quote(report_type, safe='')}/files/{quote(job_id, safe='')}")
        started = time.monotonic()
        interval = self.settings.poll_initial_s
        status = None
        while True:
            response = self.http.request("GET", job_url, ok_redirect=True)
            if response.is_redirect:
                location = response.headers.get("Location")
                return self.http.api(location, relative_to=job_url) if location else files_url
            if response.status_code == 204:
                body, status = None, "running (204, no body)"
            else:
                body = json_body(response, "GET", job_url)
                status = str(_job_of(body).get("status") or "").lower()
            if status == "done":
                href = ((body.get("_links") or {}).get("files") or {}).get("href") if isinstance(body, dict) else None
                return self.http.api(href, relative_to=job_url) if href else files_url
            if status in FAILED_JOB_STATUSES:
                raise ReportFailedError(report_type, start, end, job_id, status)
            waited = time.monotonic() - started
            if waited + interval > self.settings.poll_timeout_s:
                raise ReportTimeoutError(report_type, start, end, job_id, waited, status)
            time.sleep(interval)
            interval = min(interval * 1.5, self.settings.poll_max_s)

    def _download(self, files_url: str, report_type: str, start: datetime, end: datetime) -> ReportFile:
        """The report file, streamed to a temporary file and read column-wise from there. A body cut off
        mid-way is asked for again from the files endpoint (a fresh presigned URL), a few times."""
        fetch = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, self.http.retry.max_attempts)),
            retry=tenacity.retry_if_exception_type(_DownloadCutOff),
            wait=lambda state: self.http.retry.backoff(state.attempt_number),
            before_sleep=lambda state: logger.warning(
                "Talkdesk report %s [%s, %s): the download was cut off (%s); asking again", report_type,
                _iso_z(start), _iso_z(end), state.outcome.exception()),
            reraise=True,
        )
        try:
            path, content_type = fetch(self._download_to_file, files_url, report_type)
        except _DownloadCutOff as exc:
            raise TalkdeskUnavailableError(None, None, f"download cut off ({exc})", "GET", files_url) from None
        try:
            return read_report_file(path, content_type, report_type=report_type, start=start, end=end)
        finally:
            os.unlink(path)

    def _download_to_file(self, files_url: str, report_type: str) -> tuple[str, str]:
        """(path of the downloaded body, its content type)."""
        response = self.http.request("GET", files_url, ok_redirect=True, stream=True)
        if response.is_redirect:
            # The redirect target (a presigned object-store URL) must not receive the bearer token.
            location = urljoin(files_url, response.headers["Location"])
            response.close()
            response = self.http.send("GET", location, stream=True)
            if response.status_code >= 300:
                raise error_from_response(response, "GET", location)
        with response, tempfile.NamedTemporaryFile(prefix=f"talkdesk-{report_type}-", suffix=".report",
                                                   dir=self.settings.download_dir, delete=False) as file:
            try:
                for piece in response.iter_content(chunk_size=DOWNLOAD_CHUNK_BYTES):
                    file.write(piece)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                file.close()
                os.unlink(file.name)
                # Only the exception's type: its text may hold a presigned URL's signature.
                raise _DownloadCutOff(type(exc).__name__) from None
            return file.name, response.headers.get("Content-Type", "")


class _DownloadCutOff(Exception):
    """The connection broke while the report body was being read."""
