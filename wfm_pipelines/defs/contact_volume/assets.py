"""15-minute contact volume per queue, from the Explore `calls` (or `contacts`) report."""

from datetime import timedelta

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from wfm_pipelines.collection.contact_volume import collect_contact_volume
from wfm_pipelines.db import queries
from wfm_pipelines.defs.interval_step import interval_check_specs, interval_step, interval_step_resource_keys
from wfm_pipelines.defs.metadata import collection_metadata, timed_checks, unreadable_raw_file_result
from wfm_pipelines.defs.partitions import IntervalPolicies, account_metadata
from wfm_pipelines.defs.store import WfmStore
from wfm_pipelines.defs.talkdesk_resources import TalkdeskResource
from wfm_pipelines.raw_store import RawFileError
from wfm_pipelines.settings import Account
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.talkdesk.explore import split_window
from wfm_pipelines.transforms import configuration, contact_volume as volume_rules, quality

GROUP = "contact_volume"
TABLE = "wfm_contact_volume_interval"


CHECKS = {
    "counts_non_negative": "No count or sum of seconds below zero in any interval of the run.",
    "handled_not_above_entered": "handled_count <= entered_count in every queue and interval.",
    "reconciles_with_raw_entries": "The stored interval rows equal a fresh aggregation of the raw report entries "
    "kept for the same window.",
}


def queue_catalogue(store: WfmStore, talkdesk: TalkdeskResource, account_id: str) -> pd.DataFrame:
    """Queues with their thresholds: from the WFM table, or straight from Talkdesk before the first import."""
    stored = queries.read_table(store.engine(), "wfm_queue", account_id=account_id)
    if len(stored):
        return stored
    listing = talkdesk.client().list_queues()
    frame = configuration.queues_frame(parsing.parse_queues(listing.queues, listing.source_kind))
    frame["active"] = True
    return frame


def build_contact_volume(account: Account, policies: IntervalPolicies) -> dg.AssetsDefinition:
    report_type = account.volume_report
    asset_key = dg.AssetKey(account.asset_key("contact_volume"))

    @dg.asset(
        key=asset_key,
        group_name=account.group(GROUP),
        **policies.interval_asset_args(account),
        deps=[dg.AssetKey(account.asset_key("queues"))],
        check_specs=interval_check_specs(asset_key, CHECKS),
        required_resource_keys=interval_step_resource_keys(account),
        metadata={"wfm/table": TABLE, "wfm/time_column": "interval_start",
                  # The interval rows are refused when contacts entered would shrink past the shrink guard.
                  "wfm/shrink_guard": {"group": "queue_id", "measure": "entered_count", "label": "contacts entered"},
                  "wfm/report_type": report_type, **account_metadata(account)},
        description="Contacts per queue and 15-minute UTC interval (entered, handled, abandoned, handle time, "
        "service level), counted by contact start. A run over a range asks Talkdesk for as few reports as memory "
        "allows.",
    )
    def contact_volume(context: dg.AssetExecutionContext):
        with interval_step(context, account) as step:
            queues = queue_catalogue(step.store, step.talkdesk, account.id)
            result = collect_contact_volume(
                step.run_report, step.engine, step.raw_store, report_type=report_type, queues=queues,
                range_start=step.window.start, range_end=step.window.end, options=step.options, account_id=account.id)
        frame, window = result.frame, step.window
        context.log.info(
            f"{report_type}: {result.reports_requested} report(s) for {window.start:%Y-%m-%d %H:%M}.."
            f"{window.end:%Y-%m-%d %H:%M}, {result.entries_received} entries, {result.malformed} malformed kept aside, "
            f"{result.entries_outside_range} outside the range"
        )
        if result.unmatched_queue_names:
            context.log.warning(f"{sum(result.unmatched_queue_names.values())} contact(s) name queues that no known "
                                f"queue spells: {sorted(result.unmatched_queue_names)[:20]}; they get rows of their own")
        yield dg.Output(frame, metadata={
            **collection_metadata(result, report_type, step.formats),
            "entered_total": int(frame["entered_count"].sum()) if len(frame) else 0,
            "handled_total": int(frame["handled_count"].sum()) if len(frame) else 0,
            "abandoned_total": int(frame["abandoned_count"].sum()) if len(frame) else 0,
            "queues": int(frame["queue_id"].nunique()) if len(frame) else 0,
        })
        # The IO manager has written the rows when the generator resumes: the checks read what landed.
        yield from timed_checks(volume_checks(step.engine, step.raw_store, report_type, queues, window.start,
                                              window.end, account_id=account.id))

    return contact_volume


RECONCILE_CHUNK = timedelta(hours=6)  # memory of the reconciliation: six hours of raw entries at a time
SHOWN_ROWS = 50


def volume_checks(engine, raw_store, report_type: str, queues: pd.DataFrame, start, end, *, account_id: str):
    columns = quality.VOLUME_MEASURES
    window = dict(window_start=start, window_end=end, time_column="interval_start", account_id=account_id)
    negative_count, negative = queries.offending_rows(
        engine, TABLE, lambda t: sa.or_(*(t.c[c] < 0 for c in columns)), columns=quality.VOLUME_KEY + columns, **window)
    yield dg.AssetCheckResult(
        check_name="counts_non_negative", passed=negative_count == 0,
        metadata={"offending_rows": negative_count, "offending": dg.MetadataValue.md(
            quality.describe_rows(quality.negative_values(negative, quality.VOLUME_KEY, columns)))},
    )
    above_count, above = queries.offending_rows(
        engine, TABLE, lambda t: t.c.handled_count > t.c.entered_count,
        columns=quality.VOLUME_KEY + ["entered_count", "handled_count"], **window)
    yield dg.AssetCheckResult(
        check_name="handled_not_above_entered", passed=above_count == 0,
        metadata={"offending_rows": above_count, "offending": dg.MetadataValue.md(quality.describe_rows(above))},
    )
    mismatch_count, shown, raw_entries, intervals = 0, [], 0, 0
    for chunk_start, chunk_end in split_window(start, end, RECONCILE_CHUNK):
        stored = queries.read_window(engine, TABLE, window_start=chunk_start, window_end=chunk_end,
                                     time_column="interval_start", account_id=account_id)
        try:
            raw = raw_store.read_window(engine, report_type, chunk_start, chunk_end, account_id=account_id)
        except RawFileError as exc:
            yield unreadable_raw_file_result(exc)
            return
        expected = volume_rules.reaggregate_raw_entries(report_type, raw, queues, window_start=chunk_start,
                                                        window_end=chunk_end, collected_at=pd.Timestamp.now(tz="UTC"))
        mismatches = quality.frame_mismatches(stored, expected, quality.VOLUME_KEY, columns)
        raw_entries, intervals, mismatch_count = raw_entries + raw.num_rows, intervals + len(stored), mismatch_count + len(mismatches)
        if len(mismatches) and sum(map(len, shown)) < SHOWN_ROWS:
            shown.append(mismatches.head(SHOWN_ROWS))
    yield dg.AssetCheckResult(
        check_name="reconciles_with_raw_entries", passed=mismatch_count == 0,
        metadata={
            "raw_entries": raw_entries,
            "intervals_checked": intervals,
            "mismatches": mismatch_count,
            "offending": dg.MetadataValue.md(quality.describe_rows(pd.concat(shown) if shown else pd.DataFrame())),
        },
    )
