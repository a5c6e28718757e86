"""The `wfm_pipelines` Dagster code location (the definitions docs/operating.md#what-the-ui-shows lists; accounts as
docs/counting-rules.md#accounts says).

The environment is read once, here (`load_settings()` checks every variable and the accounts file), and the
settings reach the assets, schedules and sensors as resources (`wfm_collection`, the IO manager, the
database, each account's Talkdesk clients) or through the factories below, which build every account's
assets the same way. Tests build definitions from a settings object: `build_definitions(load_settings({...}))`; Dagster loads `defs`,
which builds them from the environment on first call (`definitions_from_environment`).
"""

from __future__ import annotations

import functools

import dagster as dg

from wfm_pipelines.defs.agent_states.assets import build_agent_state_snapshots, build_agent_state_transactions
from wfm_pipelines.defs.configuration.assets import build_configuration_assets
from wfm_pipelines.defs.configuration.schedules import build_configuration_schedule
from wfm_pipelines.defs.contact_volume.assets import build_contact_volume
from wfm_pipelines.defs.executors import build_executor
from wfm_pipelines.defs.jobs import build_jobs
from wfm_pipelines.defs.partitions import IntervalPolicies
from wfm_pipelines.defs.resources import build_resources
from wfm_pipelines.defs.schedules import build_schedules
from wfm_pipelines.defs.sensors import build_agent_state_sensor, build_healing_sensor
from wfm_pipelines.settings import Settings, load_settings


def build_account_assets(settings: Settings, policies: IntervalPolicies) -> list[dg.AssetsDefinition]:
    """Every account's six assets, enabled or not: a paused account keeps its assets and data in the UI."""
    assets: list[dg.AssetsDefinition] = []
    for account in settings.accounts:
        assets += [*build_configuration_assets(account, policies), build_contact_volume(account, policies),
                   build_agent_state_transactions(account, policies),
                   build_agent_state_snapshots(account, settings.agent_state_stale_after)]
    return assets


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or load_settings()
    policies = IntervalPolicies.from_settings(settings)
    running = settings.automation_running
    schedule_status = dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
    sensor_status = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED
    jobs = build_jobs(settings.accounts)
    schedules, sensors = [], []
    if jobs is not None:  # at least one account is enabled
        schedules = [*build_schedules(settings, jobs, schedule_status),
                     build_configuration_schedule(jobs.configuration, schedule_status)]
        sensors = [build_healing_sensor(settings, policies, jobs, sensor_status)]
    if settings.enabled_accounts:
        sensors.append(build_agent_state_sensor(settings.enabled_accounts, settings.agent_state_stale_after,
                                                sensor_status))
    return dg.Definitions(
        assets=build_account_assets(settings, policies),
        jobs=jobs.all if jobs is not None else [],
        schedules=schedules,
        sensors=sensors,
        resources=build_resources(settings),
        executor=build_executor(settings),
    )


@functools.cache
def definitions_from_environment() -> dg.Definitions:
    """The code location for this process's environment, built once per process with every job resolved. A
    process that forks step processes (the multiprocess executor's forkserver, a Celery worker) calls it before it
    forks, so each step starts with the repository and its jobs built (0.2 s of CPU at 50 accounts, ~0.01 s at
    one, paid once per process instead of once per step)."""
    definitions = build_definitions(load_settings())
    definitions.get_repository_def().get_all_jobs()
    return definitions


@dg.definitions
def defs() -> dg.Definitions:
    """What Dagster loads (`workspace.yaml`, `dagster definitions validate -m wfm_pipelines.definitions`, `dg`):
    built when Dagster asks for it, not when the module is imported."""
    return definitions_from_environment()
