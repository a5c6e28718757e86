"""The `wfm_pipelines` Dagster code location (CONTRACT section 6)."""

from __future__ import annotations

import os

import dagster as dg

from wfm_pipelines.defs.agent_states.assets import agent_state_snapshots, agent_state_transactions
from wfm_pipelines.defs.configuration.assets import agents, queue_memberships, queues
from wfm_pipelines.defs.configuration.schedules import build_configuration_schedule, configuration_job
from wfm_pipelines.defs.contact_volume.assets import contact_volume
from wfm_pipelines.defs.database import WfmDatabase
from wfm_pipelines.defs.io_manager import WfmTableIOManager
from wfm_pipelines.defs.schedules import (
    agent_state_transactions_job,
    build_schedules,
    contact_volume_job,
    interval_collection_job,
)
from wfm_pipelines.defs.sensors import agent_state_snapshot_job, build_agent_state_sensor, build_healing_sensor
from wfm_pipelines.defs.talkdesk_resources import talkdesk_resources_from_env
from wfm_pipelines.settings import load_settings


def _database_url():
    # The URL may hold a password: when it comes from the environment, Dagster reads it as an EnvVar and
    # shows only the variable's name in the UI.
    if os.environ.get("WFM_DATABASE_URL"):
        return dg.EnvVar("WFM_DATABASE_URL")
    return load_settings().database_url


def build_definitions() -> dg.Definitions:
    settings = load_settings()
    running = settings.automation_running
    schedule_status = dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
    sensor_status = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED
    database_url = _database_url()
    return dg.Definitions(
        assets=[agents, queues, queue_memberships, contact_volume, agent_state_transactions, agent_state_snapshots],
        jobs=[configuration_job, contact_volume_job, agent_state_transactions_job, interval_collection_job,
              agent_state_snapshot_job],
        schedules=[*build_schedules(schedule_status), build_configuration_schedule(schedule_status)],
        sensors=[build_agent_state_sensor(sensor_status), build_healing_sensor(sensor_status)],
        resources={
            **talkdesk_resources_from_env(),
            "wfm_database": WfmDatabase(url=database_url, connect_timeout_s=settings.db_connect_timeout_s,
                                        statement_timeout_s=settings.db_statement_timeout_s),
            "wfm_io_manager": WfmTableIOManager(
                database_url=database_url, connect_timeout_s=settings.db_connect_timeout_s,
                statement_timeout_s=settings.db_statement_timeout_s,
                shrink_guard_share=settings.shrink_guard_share, shrink_guard_min_drop=settings.shrink_guard_min_drop,
                agent_state_stale_after=settings.agent_state_stale_after,
                people_preview=settings.metadata_people_preview),
        },
        # Small, I/O-bound runs: one process per run is enough, and saves a process start per step.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
