"""Talkdesk HTTP client (auth, retries, HAL paging, Explore life cycle) and payload parsers. No Dagster."""

from wfm_pipelines.talkdesk.auth import TalkdeskConnection
from wfm_pipelines.talkdesk.client import QueueListing, TalkdeskClient
from wfm_pipelines.talkdesk.errors import (
    ReportFailedError,
    ReportFileError,
    ReportTimeoutError,
    ReportTotalMismatchError,
    TalkdeskApiError,
    TalkdeskAuthenticationError,
    TalkdeskAuthError,
    TalkdeskError,
    TalkdeskForbiddenError,
    TalkdeskNotFoundError,
    TalkdeskPagingError,
    TalkdeskQuotaError,
    TalkdeskRateLimitError,
    TalkdeskUnavailableError,
    TalkdeskValidationError,
)
from wfm_pipelines.talkdesk.explore import ExploreSettings, ReportResult
from wfm_pipelines.talkdesk.http import RetrySettings, Timeouts

__all__ = [
    "ExploreSettings",
    "QueueListing",
    "ReportFailedError",
    "ReportFileError",
    "ReportResult",
    "ReportTimeoutError",
    "ReportTotalMismatchError",
    "RetrySettings",
    "TalkdeskApiError",
    "TalkdeskAuthenticationError",
    "TalkdeskAuthError",
    "TalkdeskClient",
    "TalkdeskConnection",
    "TalkdeskError",
    "TalkdeskForbiddenError",
    "TalkdeskNotFoundError",
    "TalkdeskPagingError",
    "TalkdeskQuotaError",
    "TalkdeskRateLimitError",
    "TalkdeskUnavailableError",
    "TalkdeskValidationError",
    "Timeouts",
]
