"""Talkdesk HTTP client (auth, retries, HAL paging, Explore life cycle) and payload parsers. No Dagster."""

from wfm_pipelines.talkdesk.auth import TalkdeskConnection
from wfm_pipelines.talkdesk.client import QueueListing, TalkdeskClient
from wfm_pipelines.talkdesk.errors import (
    ReportFailedError,
    ReportTimeoutError,
    TalkdeskApiError,
    TalkdeskAuthError,
    TalkdeskError,
    TalkdeskPagingError,
)
from wfm_pipelines.talkdesk.explore import ExploreSettings, ReportResult
from wfm_pipelines.talkdesk.http import RetrySettings, Timeouts

__all__ = [
    "ExploreSettings",
    "QueueListing",
    "ReportFailedError",
    "ReportResult",
    "ReportTimeoutError",
    "RetrySettings",
    "TalkdeskApiError",
    "TalkdeskAuthError",
    "TalkdeskClient",
    "TalkdeskConnection",
    "TalkdeskError",
    "TalkdeskPagingError",
    "Timeouts",
]
