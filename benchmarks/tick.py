"""Scenario 2: one steady-state 15-minute tick of `contact_volume_schedule`, from tick to rows visible.

"Tick" here is the moment the schedule is evaluated for "now" (what the daemon does at the cron time):
the clock starts before the real schedule function runs, its RunRequest is launched over GraphQL
`launchRun` with the request's tags (plus the schedule-name tag the daemon adds), and the clock stops
when the newest interval of the request's range has rows in `wfm_contact_volume_interval` collected
after the tick. The daemon's own cron wake-up delay (it checks schedules every few seconds) is not in it.

This module imports Dagster (to evaluate the real schedule definition); it sets nothing in the product.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from wfm_pipelines.settings import PARTITION_FORMAT
from dagster_harness.deployment import DagsterDeployment

SCHEDULE = "contact_volume_schedule"


@dataclass
class TickResult:
    seconds_to_rows: float  # tick -> newest interval's rows visible
    seconds_to_run_end: float  # tick -> run finished (the asset checks run after the write)
    queue_to_start: float  # launchRun answered -> run worker started (queue dequeue + process start)
    range_start: str
    range_end: str
    rows_in_newest_interval: int
    run_status: str


def _schedule_run_request(now: datetime, env: dict[str, str]):
    """The real schedule evaluated in this process with the deployment's environment."""
    os.environ.update(env)  # the definitions read WFM_* settings when they are imported
    import dagster as dg

    from wfm_pipelines.definitions import defs

    schedule = defs().get_schedule_def(SCHEDULE)
    with dg.build_schedule_context(scheduled_execution_time=now) as context:
        data = schedule.evaluate_tick(context)
    if not data.run_requests:
        raise RuntimeError(f"{SCHEDULE} requested no run at {now}: {data.skip_message}")
    return data.run_requests[0]


def _run_times(deployment: DagsterDeployment, run_id: str) -> dict:
    query = """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status startTime endTime } } }"""
    return deployment.graphql(query, {"id": run_id})["runOrError"]


def run_tick(deployment: DagsterDeployment, database_url: str, env: dict[str, str], timeout: float = 300) -> TickResult:
    engine = sa.create_engine(database_url)
    try:
        tick_wall = datetime.now(timezone.utc)
        began = time.perf_counter()
        request = _schedule_run_request(tick_wall, env)
        tags = {**request.tags, "dagster/schedule_name": SCHEDULE}
        first, last = tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
        newest = datetime.strptime(last, PARTITION_FORMAT).replace(tzinfo=timezone.utc)
        run_id = deployment.launch_run(request.job_name, tags=tags)
        launched_wall = time.time()
        query = sa.text("select count(*) from wfm_contact_volume_interval "
                        "where interval_start = :newest and collected_at >= :tick")
        rows = 0
        while rows == 0:
            if time.perf_counter() - began > timeout:
                raise TimeoutError(f"no rows for {newest} {timeout}s after the tick (run {run_id})")
            with engine.connect() as connection:
                rows = int(connection.execute(query, {"newest": newest, "tick": tick_wall}).scalar_one())
            if rows == 0:
                time.sleep(0.1)
        to_rows = time.perf_counter() - began
        run = deployment.wait_for_run(run_id, timeout=timeout)
        to_end = time.perf_counter() - began
        times = _run_times(deployment, run_id)
        return TickResult(
            seconds_to_rows=to_rows, seconds_to_run_end=to_end,
            queue_to_start=(times["startTime"] - launched_wall) if times.get("startTime") else float("nan"),
            range_start=first, range_end=(newest + timedelta(minutes=15)).strftime(PARTITION_FORMAT),
            rows_in_newest_interval=rows, run_status=run["status"],
        )
    finally:
        engine.dispose()
