"""How the interval assets ask Talkdesk for reports, as a resource: built from the settings once, shown in
the UI's resource view, and swapped for another in tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import dagster as dg

from wfm_pipelines.collection.options import CollectionOptions
from wfm_pipelines.collection.report_formats import ReportFormats
from wfm_pipelines.db.guards import ShrinkGuard
from wfm_pipelines.settings import Settings


class CollectionSettings(dg.ConfigurableResource):
    """WFM_REPORT_FORMAT, TALKDESK_REPORT_WINDOW_FIELD, WFM_REPORT_CHUNK_HOURS, WFM_REPORT_TARGET_ENTRIES,
    and WFM_MAX_CONTACT_MINUTES, as `load_settings()` checked them (no defaults here)."""

    report_format: str
    report_window_field: str
    report_chunk_hours: int
    report_target_entries: int
    max_contact_minutes: int

    @classmethod
    def from_settings(cls, settings: Settings, **changes) -> CollectionSettings:
        values = dict(
            report_format=settings.report_format,
            report_window_field=settings.report_window_field,
            report_chunk_hours=settings.report_chunk_hours, report_target_entries=settings.report_target_entries,
            max_contact_minutes=settings.max_contact_minutes)
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

    def options(self, shrink_guard: ShrinkGuard | None) -> CollectionOptions:
        """The collectors' options for a run writing under `shrink_guard` (the store's, for the run's tags)."""
        return CollectionOptions(
            window_field=self.report_window_field, chunk=timedelta(hours=self.report_chunk_hours),
            target_entries=self.report_target_entries, max_contact=timedelta(minutes=self.max_contact_minutes),
            shrink_guard=shrink_guard)
