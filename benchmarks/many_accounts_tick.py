"""One 15-minute tick of a many-account deployment: `interval_collection_job` launched over GraphQL with the tags the
schedule's tick gives it (its range from `schedules.tick_range`, with the deployment's own settings), its steps in
forked processes; the `launchRun` call, launch -> run start -> first step -> every account's rows visible -> run done."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from benchmarks.accounting import DeploymentSampler, load_average, proc_stat
from benchmarks.environment import EmulatorProcess, instance_bytes, instance_database_url
from benchmarks.statistics import machine_busy
from wfm_pipelines.intervals import INTERVAL
from wfm_pipelines.settings import PARTITION_FORMAT, load_settings

TICK_JOB = "interval_collection_job"
TICK_EXECUTOR = "multiprocess"
TICK_CONCURRENT_STEPS = 8  # WFM_MAX_CONCURRENT_STEPS, its default


@dataclass
class TickResult:
    executor: str
    range_start: str
    range_end: str  # exclusive
    to_all_rows: float  # launch -> every account's volume AND transaction rows visible
    to_run_end: float
    status: str
    queue_to_start: float  # the launchRun call's answer -> the run's start (queue, run worker start)
    run_seconds: float
    steps: dict[str, float]
    accounts_with_rows: int
    cpu_seconds: float
    emulator_cpu_seconds: float
    machine_busy_cores: float
    instance_growth_bytes: int
    runs_in_deployment: int  # runs the tick made (1 expected)
    load: str
    timeout: float = 0.0  # how long the rows were waited for
    launch_call: float = float("nan")  # the launchRun GraphQL call itself
    start_to_first_step: float = float("nan")  # run start -> the first STEP_START
    planned_events: int = 0  # ASSET_MATERIALIZATION_PLANNED + ASSET_CHECK_EVALUATION_PLANNED of the run
    run_events: int = 0  # every event of the run in the instance's event log
    load_at_launch: str = ""

    @property
    def step_sum(self) -> float:
        return sum(self.steps.values())

    def step_sum_of(self, asset: str) -> float:
        return sum(s for k, s in self.steps.items() if k.endswith(f"__{asset}"))


def scheduled_range(now: datetime, deployment_env: dict[str, str]) -> tuple[datetime, datetime]:
    """[start, end) the deployment's interval schedule collects at a tick at `now` (`schedules.tick_range` with the
    deployment's own schedule lag and history start)."""
    from wfm_pipelines.defs.schedules import tick_range  # noqa: PLC0415 - imports dagster

    settings = load_settings(deployment_env)
    window = tick_range(now, settings.schedule_lag_minutes, settings.history_start_datetime)
    if window is None:
        raise RuntimeError(f"a tick at {now} collects nothing: no closed interval after WFM_HISTORY_START")
    return window


def accounts_with_rows(engine, since: datetime) -> int:
    query = sa.text("""select count(*) from (
        select account_id from wfm_contact_volume_interval where collected_at >= :since
        intersect select account_id from wfm_agent_state_transaction where collected_at >= :since) as both_tables""")
    with engine.connect() as connection:
        return int(connection.execute(query, {"since": since}).scalar_one())


def run_tick(deployment, emulator: EmulatorProcess, database_url: str, accounts: int, executor: str,
             timeout: float = 1200) -> TickResult:
    from benchmarks.backfill import step_seconds  # noqa: PLC0415
    from wfm_pipelines.defs.partitions import partition_key_for, range_tags  # noqa: PLC0415 - imports dagster

    engine = sa.create_engine(database_url)
    try:
        tick_wall = datetime.now(timezone.utc)
        start, end = scheduled_range(tick_wall, deployment.env)
        tags = {**range_tags(partition_key_for(start), partition_key_for(end - INTERVAL)),
                "wfm/collection": "scheduled", "dagster/schedule_name": "interval_collection_schedule"}
        runs_before = len(deployment.runs())
        load_at_launch = load_average()
        instance_before, emulator_before, machine_before = (instance_bytes(deployment), emulator.cpu_seconds(),
                                                            proc_stat())
        with DeploymentSampler(deployment.dagster_home, interval=1.0) as sampler:
            began = time.perf_counter()
            run_id = deployment.launch_run(TICK_JOB, tags=tags)
            launch_call = time.perf_counter() - began
            launched_wall = time.time()
            seen = 0
            while seen < accounts:
                if time.perf_counter() - began > timeout:
                    break
                seen = accounts_with_rows(engine, tick_wall)
                run = deployment.runs(run_ids=[run_id])[0]
                if run["status"] in ("FAILURE", "CANCELED"):
                    break
                if seen < accounts:
                    time.sleep(0.5)
            to_rows = time.perf_counter() - began if seen >= accounts else float("nan")
            try:  # a run still going at the timeout is reported as such, not raised: the other figures stand
                run = deployment.wait_for_run(run_id, timeout=max(10.0, timeout - (time.perf_counter() - began)))
            except TimeoutError:
                run = {**deployment.runs(run_ids=[run_id])[0], "status": f"still running after {timeout:.0f} s"}
            to_end = time.perf_counter() - began
        query = """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { startTime endTime
            stepStats { startTime } } } }"""
        times = deployment.graphql(query, {"id": run_id})["runOrError"]
        step_starts = [step["startTime"] for step in times.get("stepStats") or [] if step["startTime"]]
        planned, events = run_event_counts(deployment, run_id)
        return TickResult(
            executor=executor, range_start=start.strftime(PARTITION_FORMAT), range_end=end.strftime(PARTITION_FORMAT),
            to_all_rows=to_rows, to_run_end=to_end, status=run["status"],
            queue_to_start=(times["startTime"] - launched_wall) if times.get("startTime") else float("nan"),
            run_seconds=(times["endTime"] - times["startTime"]) if times.get("endTime") else float("nan"),
            launch_call=launch_call,
            start_to_first_step=(min(step_starts) - times["startTime"]) if step_starts and times.get("startTime")
            else float("nan"), planned_events=planned, run_events=events, load_at_launch=load_at_launch,
            steps=step_seconds(deployment, [run_id]), accounts_with_rows=accounts_with_rows(engine, tick_wall),
            cpu_seconds=sampler.total_cpu_seconds, emulator_cpu_seconds=emulator.cpu_seconds() - emulator_before,
            machine_busy_cores=machine_busy(machine_before, proc_stat(), os.cpu_count() or 1),
            instance_growth_bytes=instance_bytes(deployment) - instance_before,
            runs_in_deployment=len(deployment.runs()) - runs_before, load=load_average(), timeout=timeout)
    finally:
        engine.dispose()


def run_event_counts(deployment, run_id: str) -> tuple[int, int]:
    """(planned events, all events) of a run, from the instance's PostgreSQL event log; (0, 0) on SQLite."""
    url = instance_database_url(deployment)
    if url is None:
        return 0, 0
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            planned, events = connection.execute(sa.text(
                "select count(*) filter (where dagster_event_type in "
                "('ASSET_MATERIALIZATION_PLANNED', 'ASSET_CHECK_EVALUATION_PLANNED')), count(*) "
                "from event_logs where run_id = :run_id"), {"run_id": run_id}).one()
    finally:
        engine.dispose()
    return int(planned), int(events)


def deployed_schedules(deployment) -> dict[str, str]:
    query = """query($selector: RepositorySelector!) { repositoryOrError(repositorySelector: $selector) {
        __typename ... on Repository { schedules { name cronSchedule } } } }"""
    selector = {"repositoryLocationName": deployment.location_name, "repositoryName": deployment.repository_name}
    answer = deployment.graphql(query, {"selector": selector})["repositoryOrError"]
    return {s["name"]: s["cronSchedule"] for s in answer["schedules"]}
