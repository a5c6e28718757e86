"""Agent state transactions (Explore `user_status`) and current agent-state snapshots."""


from datetime import datetime, timedelta, timezone

import dagster as dg
import pandas as pd

from wfm_pipelines.collection import collectors
from wfm_pipelines.db import writer
from wfm_pipelines.defs.database import WfmDatabase
from wfm_pipelines.defs.metadata import collection_metadata
from wfm_pipelines.defs.partitions import (
    EXPLORE_POOL,
    interval_backfill_policy,
    interval_partitions,
    step_retry_policy,
)
from wfm_pipelines.defs.talkdesk_resources import TalkdeskRealtimeResource, TalkdeskResource
from wfm_pipelines.settings import load_settings
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.transforms import agent_states as state_rules, quality

GROUP = "agent_states"
TABLE = "wfm_agent_state_transaction"

CHECKS = [
    dg.AssetCheckSpec("durations_non_negative", asset="agent_state_transactions",
                      description="Every transaction ends no earlier than it starts."),
    dg.AssetCheckSpec("reconciles_with_raw_entries", asset="agent_state_transactions",
                      description="The stored transactions equal the raw user_status entries kept for the window."),
]


@dg.asset(
    group_name=GROUP,
    kinds={"talkdesk", "sql"},
    partitions_def=interval_partitions,
    backfill_policy=interval_backfill_policy,
    pool=EXPLORE_POOL,
    retry_policy=step_retry_policy(),
    io_manager_key="wfm_io_manager",
    check_specs=CHECKS,
    metadata={"wfm/table": TABLE, "wfm/write_mode": "replace_window", "wfm/time_column": "state_end"},
    description="One row per Talkdesk status record (agent, status, start, end), owned by the 15-minute "
    "interval that contains its end. The input of schedule adherence.",
)
def agent_state_transactions(context: dg.AssetExecutionContext, talkdesk: TalkdeskResource,
                             wfm_database: WfmDatabase):
    settings = load_settings()
    window = context.partition_time_window
    engine = wfm_database.engine()
    client = talkdesk.client()
    result = collectors.collect_agent_state_transactions(
        lambda kind, start, end: client.run_report(kind, start, end).entries,
        engine,
        range_start=window.start,
        range_end=window.end,
        window_field=settings.report_window_field,
        chunk=timedelta(hours=settings.report_chunk_hours),
    )
    frame = result.frame
    context.log.info(
        f"user_status: {result.reports_requested} report(s), {result.entries_received} entries, "
        f"{len(frame)} transactions, {result.malformed} malformed kept aside"
    )
    yield dg.Output(frame, metadata={
        **collection_metadata(result, "user_status"),
        "transactions": len(frame),
        "agents": int(frame["agent_id"].nunique()) if len(frame) else 0,
    })
    yield from transaction_checks(engine, window.start, window.end)


def transaction_checks(engine, start, end):
    stored = writer.read_window(engine, TABLE, window_start=start, window_end=end, time_column="state_end")
    negative = quality.negative_values(stored, quality.TRANSACTION_KEY, ["duration_s"])
    backwards = stored[stored["state_end"] < stored["state_start"]][quality.TRANSACTION_KEY + ["state_end"]]
    yield dg.AssetCheckResult(
        check_name="durations_non_negative", passed=negative.empty and backwards.empty,
        metadata={"offending_rows": len(negative) + len(backwards),
                  "offending": dg.MetadataValue.md(quality.describe_rows(pd.concat([negative, backwards])))},
    )
    raw = writer.read_window(engine, collectors.RAW_TABLE, window_start=start, window_end=end,
                             time_column="owner_at", scope={"report_type": "user_status"})
    parsed = parsing.parse_user_status_report(collectors.raw_entries_as_dicts(raw))
    expected = state_rules.agent_state_transactions(parsed.records, window_start=start, window_end=end,
                                                    collected_at=pd.Timestamp.now(tz="UTC"))
    mismatches = quality.frame_mismatches(stored, expected, quality.TRANSACTION_KEY, quality.TRANSACTION_VALUES)
    yield dg.AssetCheckResult(
        check_name="reconciles_with_raw_entries", passed=mismatches.empty,
        metadata={"raw_entries": len(raw), "transactions_checked": len(stored), "mismatches": len(mismatches),
                  "offending": dg.MetadataValue.md(quality.describe_rows(mismatches))},
    )


@dg.asset(
    group_name=GROUP,
    kinds={"talkdesk", "sql"},
    io_manager_key="wfm_io_manager",
    deps=["agents"],
    pool=EXPLORE_POOL,  # only its fallback creates a report job, but then it counts against the quota
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
