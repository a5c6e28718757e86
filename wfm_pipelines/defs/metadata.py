"""Materialization metadata shared by the interval assets."""

from __future__ import annotations

import dagster as dg

from wfm_pipelines.collection.collectors import CollectionResult


def collection_metadata(result: CollectionResult, report_type: str) -> dict:
    return {
        "report_type": report_type,
        "talkdesk_reports": result.reports_requested,
        "report_entries": result.entries_received,
        "raw_entries_kept": result.raw_kept,
        "malformed_entries": result.malformed,
        "malformed_reasons": dg.MetadataValue.json(result.malformed_reasons),
        "report_windows": dg.MetadataValue.md(
            "\n".join(f"- {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC" for start, end in result.windows_fetched)
            or "none (nothing available yet)"
        ),
    }
