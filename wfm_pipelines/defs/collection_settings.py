"""How the interval assets ask Talkdesk for reports, as a resource: built from the settings once, shown in
the UI's resource view, and swapped for another in tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta

import dagster as dg

from wfm_pipelines.collection.options import CollectionOptions
from wfm_pipelines.collection.report_formats import ReportFormats
from wfm_pipelines.db.guards import ShrinkGuard, accepts_shrink
from wfm_pipelines.settings import Settings


class CollectionSettings(dg.ConfigurableResource):
    """WFM_REPORT_FORMAT, TALKDESK_REPORT_WINDOW_FIELD, WFM_REPORT_CHUNK_HOURS, WFM_REPORT_TARGET_ENTRIES,
    WFM_MAX_CONTACT_MINUTES and WFM_SHRINK_GUARD, as `load_settings()` checked them (no defaults here)."""

    report_format: str
    report_window_field: str
    report_chunk_hours: int
    report_target_entries: int
    max_contact_minutes: int
    shrink_guard_share: float | None
    shrink_guard_min_drop: int

    @classmethod
    def from_settings(cls, settings: Settings, **changes) -> CollectionSettings:
        values = dict(
            report_format=settings.report_format,
            report_window_field=settings.report_window_field,
            report_chunk_hours=settings.report_chunk_hours, report_target_entries=settings.report_target_entries,
            max_contact_minutes=settings.max_contact_minutes, shrink_guard_share=settings.shrink_guard_share,
            shrink_guard_min_drop=settings.shrink_guard_min_drop)
        return cls(**{**values, **changes})

    @contextmanager
    def report_formats(self, engine, account_id: str, log) -> Iterator[ReportFormats]:
        """Which file format each of the account's reports is asked for in one step (WFM_REPORT_FORMAT); its
        decisions go to `log` (the step's `context.log`) once the collection is over, failed or not."""
        formats = ReportFormats(engine, self.report_format, account_id=account_id)
        try:
            yield formats
        finally:
            formats.log_decisions(log)

    def options(self, run_tags: Mapping[str, str]) -> CollectionOptions:
        """The collectors' options for a run with these tags."""
        return CollectionOptions(
            window_field=self.report_window_field, chunk=timedelta(hours=self.report_chunk_hours),
            target_entries=self.report_target_entries, max_contact=timedelta(minutes=self.max_contact_minutes),
            shrink_guard=shrink_guard_for(run_tags, self.shrink_guard_share, self.shrink_guard_min_drop))


def shrink_guard_for(run_tags: Mapping[str, str], share: float | None, min_drop: int) -> ShrinkGuard | None:
    """The shrink guard a run writes under: none when switched off (WFM_SHRINK_GUARD=off) or when the run is
    tagged `wfm/accept_shrink=true` (a re-collection that may shrink on purpose)."""
    if share is None or accepts_shrink(run_tags):
        return None
    return ShrinkGuard(share, min_drop)
