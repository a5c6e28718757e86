"""Exceptions raised by the Talkdesk client.

Messages name what failed (method, URL without secrets, Talkdesk's code and message, report type and
window) and never carry a client secret or an access token.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

QUOTA_EXHAUSTED_CODE = "1020017"

# Query parameters whose values are credentials: presigned download URLs (X-Amz-Signature, ...),
# Live API stream tokens (?token=...), anything called *secret*/*key*/*password*.
_SECRET_QUERY_NAME = re.compile(r"token|secret|signature|credential|password|key|auth|sig", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL with user-info dropped and credential-like query values replaced by `***`."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = urlencode(
        [(name, "***" if _SECRET_QUERY_NAME.search(name) else value)
         for name, value in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class TalkdeskError(Exception):
    """Base class of every error the Talkdesk client raises."""


class TalkdeskAuthError(TalkdeskError):
    """Authentication failed: the token endpoint refused the client credentials or the requested scopes
    (this class), or an API refused the token (`TalkdeskAuthenticationError`)."""


class TalkdeskApiError(TalkdeskError):
    """A Talkdesk API call answered with an error status (after retries where they apply), or not at all.
    Raised as the subclass that says what kind of trouble it is (`api_error` picks it); callers catch the
    kind they handle rather than testing status codes."""

    def __init__(self, status: int | None, code: str | None, message: str, method: str, url: str,
                 description: str | None = None):
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.url = redact_url(url)
        self.description = description
        detail = f" ({description})" if description and description != message else ""
        code_part = f" code {code}" if code else ""
        super().__init__(f"Talkdesk {method} {self.url} failed: HTTP {status}{code_part}: {message}{detail}")


class TalkdeskValidationError(TalkdeskApiError):
    """400/422: Talkdesk refused the request as malformed (a bad window, an unknown report type)."""


class TalkdeskAuthenticationError(TalkdeskApiError, TalkdeskAuthError):
    """401: the token was refused, even after renewing it once (a `TalkdeskAuthError` too, as is a refusal
    at the token endpoint itself)."""


class TalkdeskForbiddenError(TalkdeskAuthenticationError):
    """403: the client lacks the scope, or the account the product (an Early Access API)."""


class TalkdeskNotFoundError(TalkdeskApiError):
    """404: no such resource, or an API the account does not have."""


class TalkdeskRateLimitError(TalkdeskApiError):
    """429: too many requests, still refused after the retries."""


class TalkdeskQuotaError(TalkdeskRateLimitError):
    """429 with code 1020017: the account's 15 simultaneous Explore report jobs are all taken."""


class TalkdeskUnavailableError(TalkdeskApiError):
    """5xx after the retries, or no answer at all (status None): a request that was not idempotent may or may
    not have been carried out."""


def api_error(status: int | None, code: str | None, message: str, method: str, url: str,
              description: str | None = None) -> TalkdeskApiError:
    """The TalkdeskApiError subclass for an answer's status and Talkdesk code."""
    if status is None or status >= 500:
        kind: type[TalkdeskApiError] = TalkdeskUnavailableError
    elif status == 429:
        kind = TalkdeskQuotaError if code == QUOTA_EXHAUSTED_CODE else TalkdeskRateLimitError
    elif status == 404:
        kind = TalkdeskNotFoundError
    elif status == 403:
        kind = TalkdeskForbiddenError
    elif status == 401:
        kind = TalkdeskAuthenticationError
    elif status in (400, 422):
        kind = TalkdeskValidationError
    else:
        kind = TalkdeskApiError
    return kind(status, code, message, method, url, description)


class TalkdeskPagingError(TalkdeskError):
    """A HAL listing pointed back at a page already read (a server-side paging loop)."""


def _window_text(report_type: str, start: datetime, end: datetime) -> str:
    return f"Talkdesk report '{report_type}' for [{start.isoformat()}, {end.isoformat()})"


class ReportFailedError(TalkdeskError):
    """An Explore report job ended failed, canceled or deleted."""

    def __init__(self, report_type: str, start: datetime, end: datetime, job_id: str, status: str):
        self.report_type, self.start, self.end, self.job_id, self.status = report_type, start, end, job_id, status
        super().__init__(f"{_window_text(report_type, start, end)} ended '{status}' (job {job_id})")


class ReportFileError(TalkdeskError):
    """A report download that is not a Talkdesk report file: an error page, an empty body, JSON without
    entries, CSV without a header. Nothing of it is used, so the rows already stored stay."""

    def __init__(self, report_type: str, start: datetime, end: datetime, problem: str, content_type: str,
                 first_bytes: str):
        self.report_type, self.start, self.end = report_type, start, end
        self.problem, self.content_type, self.first_bytes = problem, content_type, first_bytes
        super().__init__(
            f"{_window_text(report_type, start, end)}: the download is not a report file: {problem} "
            f"(Content-Type {content_type or 'none'}; first bytes: {first_bytes!r}). Nothing was stored."
        )


class ReportTotalMismatchError(ReportFileError):
    """The file's `total` disagrees with the entries it holds (a cut-off or inconsistent file)."""

    def __init__(self, report_type: str, start: datetime, end: datetime, total: int, received: int,
                 content_type: str, first_bytes: str):
        self.total, self.received = total, received
        super().__init__(report_type, start, end, f"it says total={total} but holds {received} entries",
                         content_type, first_bytes)


class ReportHeaderUnknownError(ReportFileError):
    """A CSV report whose header names none of the report's documented fields, neither as their JSON keys nor as
    display names (`report_columns`): its rows cannot be told apart from a header, so none of it is data."""

    def __init__(self, report_type: str, start: datetime, end: datetime, columns: int, content_type: str,
                 first_bytes: str, hint: str):
        self.columns = columns
        super().__init__(report_type, start, end,
                         f"CSV without a header row naming a documented field ({columns} columns, none of them a "
                         f"field of '{report_type}' as a JSON key or a display name; {hint})",
                         content_type, first_bytes)


class ReportFormatError(TalkdeskError):
    """A report that came in no readable form: its CSV header named no documented field and the same window as
    JSON failed too, or JSON chosen for the account (remembered) failed. Nothing of it was stored."""

    def __init__(self, report_type: str, start: datetime, end: datetime, why_json: str, cause: Exception):
        self.report_type, self.start, self.end, self.why_json, self.cause = report_type, start, end, why_json, cause
        super().__init__(f"{_window_text(report_type, start, end)} was asked for as JSON ({why_json}), and that "
                         f"failed: {cause}")


class ReportTimeoutError(TalkdeskError):
    """An Explore report job did not finish within the poll timeout."""

    def __init__(self, report_type: str, start: datetime, end: datetime, job_id: str, waited_s: float,
                 last_status: str | None):
        self.report_type, self.start, self.end, self.job_id = report_type, start, end, job_id
        self.waited_s, self.last_status = waited_s, last_status
        super().__init__(
            f"{_window_text(report_type, start, end)} not finished after {waited_s:.1f} s "
            f"(job {job_id}, last status '{last_status}')"
        )
