"""Agents, queues and queue memberships imported as configuration, keeping history (nothing deleted)."""

import dagster as dg
import pandas as pd

from wfm_pipelines.defs.partitions import IntervalPolicies, account_metadata
from wfm_pipelines.defs.talkdesk_resources import TalkdeskResource, historical_resource_key
from wfm_pipelines.settings import Account
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.transforms import configuration

GROUP = "configuration"
CONFIGURATION_ASSETS = ("agents", "queues", "queue_memberships")


def build_configuration_assets(account: Account, policies: IntervalPolicies) -> list[dg.AssetsDefinition]:
    """The account's `agents`, `queues` and `queue_memberships`, with the step retries of the settings."""
    talkdesk_key = historical_resource_key(account)
    common = dict(group_name=account.group(GROUP), kinds={"talkdesk", "sql"}, io_manager_key="wfm_io_manager",
                  retry_policy=policies.retry_policy, required_resource_keys={talkdesk_key})

    def talkdesk(context: dg.AssetExecutionContext) -> TalkdeskResource:
        return getattr(context.resources, talkdesk_key)

    @dg.asset(
        key=account.asset_key("agents"),
        **common,
        metadata={"wfm/table": "wfm_agent", "wfm/key_columns": ["agent_id"],
                  "wfm/personal_data": True, **account_metadata(account)},
        description="Talkdesk users (Users API) as WFM agents. Users gone from Talkdesk become inactive; none is deleted.",
    )
    def agents(context: dg.AssetExecutionContext) -> pd.DataFrame:
        users = talkdesk(context).client().list_users()
        frame = configuration.agents_frame(parsing.parse_users(users))
        context.add_output_metadata({"talkdesk_users": len(users), "active_in_talkdesk": int(frame["active"].sum()) if len(frame) else 0})
        return frame

    @dg.asset(
        key=account.asset_key("queues"),
        **common,
        metadata={"wfm/table": "wfm_queue", "wfm/key_columns": ["queue_id"],
                  **account_metadata(account)},
        description="Talkdesk queues (Queues API where the account has it, else Ring Groups) with their "
        "service-level and short-abandon thresholds. Queues gone from Talkdesk become inactive.",
    )
    def queues(context: dg.AssetExecutionContext) -> pd.DataFrame:
        listing = talkdesk(context).client().list_queues()
        frame = configuration.queues_frame(parsing.parse_queues(listing.queues, listing.source_kind))
        context.add_output_metadata({"source": listing.source_kind, "talkdesk_queues": len(listing.queues)})
        return frame

    @dg.asset(
        key=account.asset_key("queue_memberships"),
        **common,
        deps=[queues],
        metadata={"wfm/table": "wfm_queue_agent", "wfm/key_columns": ["queue_id", "agent_id"], **account_metadata(account)},
        description="Which agents belong to which queue, with when each membership was first and last seen.",
    )
    def queue_memberships(context: dg.AssetExecutionContext) -> pd.DataFrame:
        client = talkdesk(context).client()
        # The Queues API lists members by the queue's id, Ring Groups by its name; the listing has both.
        listing = client.list_queues()
        pairs = []
        for queue in listing.queues:
            queue_id = parsing.parse_queues([queue], listing.source_kind)["queue_id"]
            if queue_id.empty:  # nameless and id-less: parse_queues skips it, and so do we
                continue
            queue_id = queue_id.iloc[0]
            for agent_id in client.list_queue_member_ids(queue, listing.source_kind):
                pairs.append((queue_id, agent_id))
        frame = configuration.memberships_frame(pairs)
        context.add_output_metadata({"queues_listed": len(listing.queues), "source": listing.source_kind})
        return frame

    return [agents, queues, queue_memberships]
