"""Hourly import of agents, queues and memberships."""

from __future__ import annotations

import dagster as dg

from wfm_pipelines.defs.partitions import CONFIGURATION_RUN_MAX_SECONDS, max_runtime_tags

CONFIGURATION_ASSETS = ("agents", "queues", "queue_memberships")

configuration_job = dg.define_asset_job(
    "configuration_job",
    selection=list(CONFIGURATION_ASSETS),
    tags=max_runtime_tags(CONFIGURATION_RUN_MAX_SECONDS),
    description="Import agents, queues and queue memberships from Talkdesk.",
)


def build_configuration_schedule(default_status: dg.DefaultScheduleStatus) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="configuration_schedule",
        job=configuration_job,
        cron_schedule="7 * * * *",
        execution_timezone="UTC",
        default_status=default_status,
        description="Hourly import of agents, queues and memberships (Talkdesk's own WFM never re-syncs them).",
    )
