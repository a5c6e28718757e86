"""Hourly import of agents, queues and memberships."""

from __future__ import annotations

import dagster as dg


def build_configuration_schedule(job: dg.UnresolvedAssetJobDefinition,
                                 default_status: dg.DefaultScheduleStatus) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="configuration_schedule",
        job=job,
        cron_schedule="7 * * * *",
        execution_timezone="UTC",
        default_status=default_status,
        description="Hourly import of agents, queues and memberships (Talkdesk's own WFM never re-syncs them).",
    )
