"""Materialization metadata shared by the interval assets."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterable, Iterator

import dagster as dg

from wfm_pipelines.collection.chunks import CollectionResult
from wfm_pipelines.collection.report_formats import ReportFormats


def collection_metadata(result: CollectionResult, report_type: str, formats: ReportFormats) -> dict:
    return {
        "report_type": report_type,
        # How each report type came in, and why: {"calls": "csv (display-name header)"}.
        "report_formats": dg.MetadataValue.json(formats.described()),
        "talkdesk_reports": result.reports_requested,
        "report_entries": result.entries_received,
        "raw_entries_kept": result.raw_kept,
        "malformed_entries": result.malformed,
        # ru_maxrss is in KiB on Linux; the run's process peak so far, which includes this step.
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "malformed_reasons": dg.MetadataValue.json(result.malformed_reasons),
        # Received but owned by no interval of the range (before or after it, or looked back at).
        "entries_outside_range": result.entries_outside_range,
        "report_window_field": result.report_window_field or "auto",
        **({"unmatched_queue_names": dg.MetadataValue.json(result.unmatched_queue_names)}
           if result.unmatched_queue_names else {}),
        "report_windows": dg.MetadataValue.md(
            "\n".join(f"- {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC" for start, end in result.windows_fetched)
            or "none (nothing available yet)"
        ),
    }


def timed_checks(results: Iterable[dg.AssetCheckResult]) -> Iterator[dg.AssetCheckResult]:
    """Each check's result with the seconds it took: the checks read the database, and their cost on a long
    range is worth seeing beside the collection's."""
    started = time.monotonic()
    for result in results:
        yield result.with_metadata({**result.metadata, "check_seconds": round(time.monotonic() - started, 2)})
        started = time.monotonic()


def unreadable_raw_file_result(error: Exception) -> dg.AssetCheckResult:
    """The reconciliation's answer when a raw file cannot be read (truncated, corrupt, changed on disk): it fails,
    naming the file; the run itself and its rows stay as they are."""
    return dg.AssetCheckResult(
        check_name="reconciles_with_raw_entries", passed=False,
        metadata={"unreadable_raw_file": str(error)},
        description=f"A raw file of this window cannot be read: {error}",
    )
