"""The `wfm_pipelines` Dagster code location (the definitions of `../shared/design/CONTRACT.md` section 6).

The environment is read once, here (`load_settings()` checks every variable), and the settings reach the
assets, schedules and sensors as resources (`wfm_collection`, the IO manager, the database) or through the
factories below. Tests build definitions from a settings object: `build_definitions(load_settings({...}))`.
"""

from __future__ import annotations

import dagster as dg

from wfm_pipelines.defs.agent_states.assets import agent_state_snapshots, build_agent_state_transactions
from wfm_pipelines.defs.configuration.assets import build_configuration_assets
from wfm_pipelines.defs.configuration.schedules import build_configuration_schedule, configuration_job
from wfm_pipelines.defs.contact_volume.assets import build_contact_volume
from wfm_pipelines.defs.executors import build_executor
from wfm_pipelines.defs.partitions import IntervalPolicies
from wfm_pipelines.defs.resources import build_resources
from wfm_pipelines.defs.schedules import (
    agent_state_transactions_job,
    build_schedules,
    contact_volume_job,
    interval_collection_job,
)
from wfm_pipelines.defs.sensors import agent_state_snapshot_job, build_agent_state_sensor, build_healing_sensor
from wfm_pipelines.settings import Settings, load_settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or load_settings()
    policies = IntervalPolicies.from_settings(settings)
    running = settings.automation_running
    schedule_status = dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
    sensor_status = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED
    return dg.Definitions(
        assets=[*build_configuration_assets(policies), build_contact_volume(policies),
                build_agent_state_transactions(policies), agent_state_snapshots],
        jobs=[configuration_job, contact_volume_job, agent_state_transactions_job, interval_collection_job,
              agent_state_snapshot_job],
        schedules=[*build_schedules(settings, schedule_status), build_configuration_schedule(schedule_status)],
        sensors=[build_agent_state_sensor(settings, sensor_status),
                 build_healing_sensor(settings, policies, sensor_status)],
        resources=build_resources(settings),
        executor=build_executor(settings),
    )


defs = build_definitions()
