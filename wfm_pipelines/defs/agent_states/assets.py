"""Agent state transactions (Explore `user_status`) and current agent-state snapshots."""

from datetime import datetime, timezone

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from wfm_pipelines.collection import collectors
from wfm_pipelines.db import queries, writer
from wfm_pipelines.defs.collection_settings import CollectionSettings
from wfm_pipelines.defs.database import WfmDatabase
from wfm_pipelines.defs.metadata import collection_metadata, timed_checks, unreadable_raw_file_result
from wfm_pipelines.defs.partitions import IntervalPolicies
from wfm_pipelines.defs.talkdesk_resources import TalkdeskRealtimeResource, TalkdeskResource
from wfm_pipelines.raw_store import RawFileError
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.transforms import agent_states as state_rules, quality

GROUP = "agent_states"
TABLE = "wfm_agent_state_transaction"

CHECKS = [
    dg.AssetCheckSpec("durations_non_negative", asset="agent_state_transactions",
                      description="Every transaction ends no earlier than it starts."),
    dg.AssetCheckSpec("reconciles_with_raw_entries", asset="agent_state_transactions",
                      description="Every 15-minute interval holds one transaction per raw user_status entry kept for it."),
]


def build_agent_state_transactions(policies: IntervalPolicies) -> dg.AssetsDefinition:
    @dg.asset(
        name="agent_state_transactions",
        group_name=GROUP,
        **policies.interval_asset_args(),
        check_specs=CHECKS,
        metadata={"wfm/table": TABLE, "wfm/write_mode": "replace_window", "wfm/time_column": "state_end"},
        description="One row per Talkdesk status record (agent, status, start, end), owned by the 15-minute "
        "interval that contains its end. The input of schedule adherence.",
    )
    def agent_state_transactions(context: dg.AssetExecutionContext, talkdesk: TalkdeskResource,
                                 wfm_database: WfmDatabase, wfm_collection: CollectionSettings):
        window = context.partition_time_window
        engine = wfm_database.engine()
        client = talkdesk.client()
        result = collectors.collect_agent_state_transactions(
            lambda kind, start, end: client.run_report(kind, start, end,
                                                       report_format=wfm_collection.report_format).table,
            engine,
            wfm_database.raw_store(),
            range_start=window.start,
            range_end=window.end,
            options=wfm_collection.options(context.run.tags),
        )
        frame = result.frame
        context.log.info(
            f"user_status: {result.reports_requested} report(s), {result.entries_received} entries, "
            f"{len(frame)} transactions, {result.malformed} malformed kept aside, "
            f"{result.entries_outside_range} outside the range; reports filter on {result.report_window_field}"
        )
        yield dg.Output(frame, metadata={
            **collection_metadata(result, "user_status"),
            "transactions": len(frame),
            "agents": int(frame["agent_id"].nunique()) if len(frame) else 0,
        })
        yield from timed_checks(transaction_checks(engine, wfm_database.raw_store(), window.start, window.end))

    return agent_state_transactions


def transaction_checks(engine, raw_store, start, end):
    window = dict(window_start=start, window_end=end, time_column="state_end")
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
        raw = raw_store.interval_counts(engine, "user_status", start, end)
    except RawFileError as exc:
        yield unreadable_raw_file_result(exc)
        return
    stored = queries.interval_counts(engine, TABLE, "state_end", window_start=start, window_end=end)
    counts = pd.DataFrame({"raw_entries": raw, "transactions": stored}).fillna(0).astype(int)
    raw_total, stored_total = int(counts["raw_entries"].sum()), int(counts["transactions"].sum())
    differing = counts[counts["raw_entries"] != counts["transactions"]].rename_axis("interval_start").reset_index()
    yield dg.AssetCheckResult(
        check_name="reconciles_with_raw_entries", passed=differing.empty,
        metadata={"raw_entries": raw_total, "transactions_checked": stored_total, "intervals_differing": len(differing),
                  "offending": dg.MetadataValue.md(quality.describe_rows(differing))},
    )


@dg.asset(
    group_name=GROUP,
    kinds={"talkdesk", "sql"},
    io_manager_key="wfm_io_manager",
    deps=["agents"],
    # No Explore pool: real-time collection must never queue behind a backfill holding the pool's slots.
    # Only its fallback creates a report job (one, briefly), which the account's 15-job quota absorbs.
    metadata={"wfm/table": "wfm_agent_state_snapshot", "wfm/write_mode": "agent_state_snapshot"},
    description="Current state of every active agent, appended at each collection; wfm_agent_state_current "
    "moves forward (a changed state starts a new `since`). From POST /ccaas/users/status (20 ids a call) "
    "where the account has it, else from the newest user_status records.",
)
def agent_state_snapshots(context: dg.AssetExecutionContext, talkdesk_realtime: TalkdeskRealtimeResource,
                          wfm_database: WfmDatabase) -> pd.DataFrame:
    client = talkdesk_realtime.client()
    snapshot_at = datetime.now(timezone.utc)
    stored_agents = writer.read_table(wfm_database.engine(), "wfm_agent")
    if len(stored_agents):
        agent_ids = stored_agents.loc[stored_agents["active"].astype(bool), "agent_id"].tolist()
    else:  # before the first configuration import
        agent_ids = [u["id"] for u in client.list_users() if u.get("active", True)]
    statuses = client.current_agent_statuses(agent_ids)
    if statuses is not None:
        source = "ccaas_users_status"
        frame = state_rules.current_states_from_status_calls(statuses, snapshot_at=snapshot_at)
    else:
        source = "user_status_report"
        parsed = parsing.parse_user_status_report(client.latest_user_statuses())
        frame = state_rules.current_states_from_user_status(parsed.records, snapshot_at=snapshot_at)
        frame = frame[frame["agent_id"].isin(agent_ids)] if agent_ids else frame
    context.add_output_metadata({
        "source": source,
        "agents_asked": len(agent_ids),
        "states": dg.MetadataValue.json(frame["state"].value_counts().to_dict() if len(frame) else {}),
    })
    return frame
