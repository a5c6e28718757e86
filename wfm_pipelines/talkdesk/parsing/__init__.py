"""Talkdesk payloads -> normalized frames: `values` (single values and configuration payloads) and
`reports` (Explore report entries)."""

from wfm_pipelines.talkdesk.parsing.reports import (
    ParsedReport,
    parse_contact_report,
    parse_user_status_report,
    stable_hash,
)
from wfm_pipelines.talkdesk.parsing.values import (
    CONTACT_REPORT_TYPES,
    MALFORMED_COLUMNS,
    RECORD_COLUMNS,
    STATUS_COLUMNS,
    UTC,
    parse_queues,
    parse_ring_groups,
    parse_timestamp,
    parse_timestamps,
    parse_users,
)

__all__ = [
    "CONTACT_REPORT_TYPES", "MALFORMED_COLUMNS", "RECORD_COLUMNS", "STATUS_COLUMNS", "UTC",
    "ParsedReport", "parse_contact_report", "parse_queues", "parse_ring_groups", "parse_timestamp",
    "parse_timestamps", "parse_user_status_report", "parse_users", "stable_hash",
]
