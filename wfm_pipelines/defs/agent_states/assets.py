"""Agent state transactions (Explore `user_status`) and current agent-state snapshots."""

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from wfm_pipelines.collection.agent_state_snapshots import SnapshotCollection, collect_agent_state_snapshot
from wfm_pipelines.collection.agent_states import collect_agent_state_transactions
from wfm_pipelines.db import queries
from wfm_pipelines.defs.interval_step import interval_check_specs, interval_step, interval_step_resource_keys
from wfm_pipelines.defs.metadata import collection_metadata, timed_checks, unreadable_raw_file_result
from wfm_pipelines.defs.partitions import IntervalPolicies, account_metadata
from wfm_pipelines.defs.talkdesk_resources import TalkdeskRealtimeResource, realtime_resource_key
from wfm_pipelines.raw_store import RawFileError
from wfm_pipelines.settings import Account
from wfm_pipelines.transforms import quality

GROUP = "agent_states"
TABLE = "wfm_agent_state_transaction"
# On each account's agent_state_snapshots: the agent-state sensor reports it when an account's collections
# start failing or recover, so a failing account is red on its own asset.
COLLECTION_CHECK = "latest_collection_succeeded"


TRANSACTION_CHECKS = {
    "durations_non_negative": "Every transaction ends no earlier than it starts.",
    "reconciles_with_raw_entries": "Every 15-minute interval holds one transaction per raw user_status entry kept "
    "for it.",
}


def build_agent_state_transactions(account: Account, policies: IntervalPolicies) -> dg.AssetsDefinition:
    asset_key = dg.AssetKey(account.asset_key("agent_state_transactions"))

    @dg.asset(
        key=asset_key,
        group_name=account.group(GROUP),
        **policies.interval_asset_args(account),
        check_specs=interval_check_specs(asset_key, TRANSACTION_CHECKS),
        required_resource_keys=interval_step_resource_keys(account),
        metadata={"wfm/table": TABLE, "wfm/time_column": "state_end", **account_metadata(account)},
        description="One row per Talkdesk status record (agent, status, start, end), owned by the 15-minute "
        "interval that contains its end. The input of schedule adherence.",
    )
    def agent_state_transactions(context: dg.AssetExecutionContext):
        with interval_step(context, account) as step:
            result = collect_agent_state_transactions(
                step.run_report, step.engine, step.raw_store, range_start=step.window.start,
                range_end=step.window.end, options=step.options, account_id=account.id)
        frame = result.frame
        context.log.info(
            f"user_status: {result.reports_requested} report(s), {result.entries_received} entries, "
            f"{len(frame)} transactions, {result.malformed} malformed kept aside, "
            f"{result.entries_outside_range} outside the range; reports filter on {result.report_window_field}"
        )
        yield dg.Output(frame, metadata={
            **collection_metadata(result, "user_status", step.formats),
            "transactions": len(frame),
            "agents": int(frame["agent_id"].nunique()) if len(frame) else 0,
        })
        # The IO manager has written the rows when the generator resumes: the checks read what landed.
        yield from timed_checks(transaction_checks(step.engine, step.raw_store, step.window.start, step.window.end,
                                                   account_id=account.id))

    return agent_state_transactions


def transaction_checks(engine, raw_store, start, end, *, account_id: str):
    window = dict(window_start=start, window_end=end, time_column="state_end", account_id=account_id)
    backwards_count, backwards = queries.offending_rows(
        engine, TABLE, lambda t: sa.or_(t.c.duration_s < 0, t.c.state_end < t.c.state_start),
        columns=quality.TRANSACTION_KEY + ["state", "state_end", "duration_s"], **window)
    yield dg.AssetCheckResult(
        check_name="durations_non_negative", passed=backwards_count == 0,
        metadata={"offending_rows": backwards_count, "offending": dg.MetadataValue.md(quality.describe_rows(backwards))},
    )
    # One transaction per raw status record kept, interval by interval: only the raw files' owning-time column
    # is read, no entry is parsed again. A raw file that cannot be read fails the check, naming the file.
    try:
        raw = raw_store.interval_counts(engine, "user_status", start, end, account_id=account_id)
    except RawFileError as exc:
        yield unreadable_raw_file_result(exc)
        return
    stored = queries.interval_counts(engine, TABLE, "state_end", window_start=start, window_end=end,
                                     account_id=account_id)
    counts = pd.DataFrame({"raw_entries": raw, "transactions": stored}).fillna(0).astype(int)
    raw_total, stored_total = int(counts["raw_entries"].sum()), int(counts["transactions"].sum())
    differing = counts[counts["raw_entries"] != counts["transactions"]].rename_axis("interval_start").reset_index()
    yield dg.AssetCheckResult(
        check_name="reconciles_with_raw_entries", passed=differing.empty,
        metadata={"raw_entries": raw_total, "transactions_checked": stored_total, "intervals_differing": len(differing),
                  "offending": dg.MetadataValue.md(quality.describe_rows(differing))},
    )


def build_agent_state_snapshots(account: Account, stale_after: int) -> dg.AssetsDefinition:
    """The account's `agent_state_snapshots`. The agent-state sensor collects it at the account's interval and
    reports each collection as a materialization, with no run; materializing it by hand collects once."""
    realtime_key = realtime_resource_key(account)
    asset_key = dg.AssetKey(account.asset_key("agent_state_snapshots"))

    @dg.asset(
        key=asset_key,
        group_name=account.group(GROUP),
        kinds={"talkdesk", "sql"},
        deps=[dg.AssetKey(account.asset_key("agents"))],
        required_resource_keys={realtime_key, "wfm_database"},
        check_specs=[dg.AssetCheckSpec(
            COLLECTION_CHECK, asset=asset_key,
            description="The account's latest agent-state collection succeeded. The agent-state sensor reports it "
            "when the account's collections start failing (with the error) and when they recover.")],
        # No Explore pool: real-time collection must never queue behind a backfill holding the pool's slots.
        # Only its fallback creates a report job (one, briefly), which the account's 15-job quota absorbs.
        metadata={"wfm/table": "wfm_agent_state_snapshot", **account_metadata(account)},
        description="Current state of every active agent, appended at each collection; wfm_agent_state_current "
        "moves forward (a changed state starts a new `since`). From POST /ccaas/users/status (20 ids a call) "
        "where the account has it, else from the newest user_status records. Collected by the agent-state "
        "sensor without a run.",
    )
    def agent_state_snapshots(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        realtime: TalkdeskRealtimeResource = getattr(context.resources, realtime_key)
        collection = collect_agent_state_snapshot(realtime.client(), context.resources.wfm_database.engine(),
                                                  account_id=account.id, stale_after=stale_after)
        return dg.MaterializeResult(metadata=snapshot_metadata(collection), check_results=[dg.AssetCheckResult(
            check_name=COLLECTION_CHECK, passed=True, metadata={"snapshot_at": collection.snapshot_at.isoformat()})])

    return agent_state_snapshots


def snapshot_metadata(collection: SnapshotCollection) -> dict[str, object]:
    metadata = collection.metadata()
    metadata["states"] = dg.MetadataValue.json(metadata["states"])
    return metadata
