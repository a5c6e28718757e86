"""WFM_EXECUTOR=celery for real: two `dagster-celery` worker processes on a RabbitMQ virtual host of their own,
the Dagster instance of `deploy/dagster.postgres.yaml` and the WFM tables in PostgreSQL, `dagster job execute`
as the orchestrator, against the emulator. The WFM tables must equal what in-process runs give on the same
emulator data, also when a worker is killed in the middle of a step.

Everything slow is started once per module (workers, the configuration run, the in-process reference); each
test covers its own two hours of yesterday so that neither sees the other's rows.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from dagster import DagsterEventType, DagsterInstance

from wfm_pipelines.db import writer
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.defs.partitions import partition_key_for, range_tags
from wfm_pipelines_tests.conftest import fresh_postgres_database, fresh_rabbitmq_vhost
from wfm_pipelines_tests.dagster.celery_workers import (
    CeleryWorker,
    celery_environment,
    execute_job,
    execute_job_command,
    process_group,
    start_workers,
)
from wfm_pipelines_tests.dagster.harness import REPO_ROOT
from wfm_pipelines_tests.dagster.support import (
    CONFIGURATION,
    agent_state_transactions,
    contact_volume,
    raw_store_for,
    resources_for,
    yesterday_window,
)
from wfm_pipelines_tests.dagster.test_assets_in_process import materialize_range

pytestmark = pytest.mark.slow

CONFIGURATION_TABLES = ("wfm_queue", "wfm_agent", "wfm_queue_agent")
# Times of collection differ between any two runs; everything else must be equal.
COLLECTION_TIMES = ["first_seen_at", "last_seen_at", "collected_at"]
START, _ = yesterday_window(hours=4)
CLEAN_WINDOW = (START, START + timedelta(hours=2))
KILLED_WINDOW = (START + timedelta(hours=2), START + timedelta(hours=4))


def tables(database_url: str, window: tuple) -> dict[str, pd.DataFrame]:
    """The configuration tables and the interval tables' rows of `window`, without collection times."""
    engine = get_engine(database_url)
    found = {name: writer.read_table(engine, name) for name in CONFIGURATION_TABLES}
    for name, column in (("wfm_contact_volume_interval", "interval_start"), ("wfm_agent_state_transaction", "state_end")):
        found[name] = writer.read_window(engine, name, window_start=window[0], window_end=window[1], time_column=column)
    return {name: frame.drop(columns=[c for c in COLLECTION_TIMES if c in frame.columns]).reset_index(drop=True)
            for name, frame in found.items()}


def assert_same_tables(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    for name, frame in expected.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(got[name], frame, obj=name)


def window_tags(window: tuple) -> dict[str, str]:
    return range_tags(partition_key_for(window[0]), partition_key_for(window[1] - timedelta(minutes=15)))


@dataclass
class Cluster:
    env: dict[str, str]
    home: Path
    instance: DagsterInstance
    wfm_database_url: str
    broker_url: str
    reference: dict[tuple, dict[str, pd.DataFrame]]
    emulator: object
    workers: list[CeleryWorker] = field(default_factory=list)
    configuration_output: str = ""

    def live_workers(self) -> list[CeleryWorker]:
        """Two idle, live workers: one a test killed is replaced."""
        dead = [worker for worker in self.workers if worker.process.poll() is not None]
        for worker in dead:
            worker.stop()
            self.workers.remove(worker)
        if len(self.workers) < 2:
            names = [f"wfm-worker-{len(self.workers) + len(dead) + i}" for i in range(2 - len(self.workers))]
            self.workers += start_workers(names, self.env, self.home)
        return self.workers

    def step_events(self, run_id: str) -> list:
        return [entry for entry in self.instance.all_logs(run_id) if entry.dagster_event and entry.step_key]


def worker_of(entry) -> str | None:
    """The Celery worker named by dagster-celery's "Executing steps ... in celery worker" engine event."""
    event = entry.dagster_event
    if event.event_type != DagsterEventType.ENGINE_EVENT:
        return None
    worker = event.engine_event_data.metadata.get("Celery worker")
    return worker.value if worker is not None else None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from talkdesk_emulator.server import EmulatorConfig, EmulatorServer

    home = tmp_path_factory.mktemp("celery")
    emulator = EmulatorServer(EmulatorConfig(seed=7, queues=5, agents=30, contacts_per_day=3000,
                                             report_processing_seconds=0.2))
    emulator.start()
    with (fresh_postgres_database() as wfm_url, fresh_postgres_database() as instance_url,
          fresh_postgres_database() as reference_url, fresh_rabbitmq_vhost() as broker_url,
          pytest.MonkeyPatch.context() as monkeypatch):
        env = celery_environment(home=home, emulator_url=emulator.url, wfm_database_url=wfm_url,
                                 instance_database_url=instance_url, broker_url=broker_url,
                                 raw_store=raw_store_for(wfm_url))
        for name in [name for name in env if name.startswith("DAGSTER_PG_")]:
            monkeypatch.setenv(name, env[name])
        # Creating the instance here creates its tables once, before several processes would race to.
        with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            workers = [CeleryWorker(name, env, home) for name in ("wfm-worker-a", "wfm-worker-b")]
            cluster = Cluster(env, home, instance, wfm_url, broker_url, {}, emulator, workers)
            try:
                # The configuration run goes to the queue while the workers start, and the reference runs
                # in this process meanwhile.
                configuration = subprocess.Popen(execute_job_command("configuration_job"), cwd=REPO_ROOT, env=env,
                                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                resources = resources_for(emulator.url, reference_url)
                assert dg.materialize(CONFIGURATION, resources=resources).success
                for window in (CLEAN_WINDOW, KILLED_WINDOW):
                    assert materialize_range([contact_volume, agent_state_transactions], resources, *window).success
                    cluster.reference[window] = tables(reference_url, window)
                output, _ = configuration.communicate(timeout=240)
                assert configuration.returncode == 0, output[-6000:]
                cluster.configuration_output = output
                yield cluster
            finally:
                for worker in cluster.workers:
                    worker.terminate()  # all at once, then wait
                for worker in cluster.workers:
                    worker.stop()
                emulator.stop()


def test_two_workers_run_the_steps_and_the_tables_equal_the_in_process_result(cluster):
    workers = cluster.live_workers()
    result = execute_job("interval_collection_job", cluster.env, window_tags(CLEAN_WINDOW))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]

    run = cluster.instance.get_runs(dg.RunsFilter(job_name="interval_collection_job", tags=window_tags(CLEAN_WINDOW)))[0]
    assert run.status == dg.DagsterRunStatus.SUCCESS
    events = cluster.step_events(run.run_id)
    worker_by_step = {entry.step_key: worker_of(entry) for entry in events if worker_of(entry)}
    # Each worker takes one task at a time: the two steps went to the two workers.
    assert set(worker_by_step) == {"contact_volume", "agent_state_transactions"}
    assert {name.split("@")[0] for name in worker_by_step.values()} == {worker.name for worker in workers}
    for step, worker_name in worker_by_step.items():
        worker = next(w for w in workers if w.name == worker_name.split("@")[0])
        step_pids = {entry.dagster_event.pid for entry in events
                     if entry.step_key == step and entry.dagster_event.event_type == DagsterEventType.STEP_SUCCESS}
        # The step's events came from a process of that worker's process group, and its log says so.
        assert step_pids and step_pids <= process_group(worker.process.pid), (step, step_pids)
        assert f'Finished execution of step "{step}"' in worker.log()
        assert "Task execute_plan[" in worker.log() and "succeeded" in worker.log()

    assert_same_tables(tables(cluster.wfm_database_url, CLEAN_WINDOW), cluster.reference[CLEAN_WINDOW])
    assert_broker_password_never_shown(cluster, [result.stdout, result.stderr])


def test_a_step_on_a_killed_worker_is_redelivered_and_the_tables_equal_the_in_process_result(cluster):
    workers = cluster.live_workers()
    tags = window_tags(KILLED_WINDOW)
    # Report jobs that take a while keep the steps busy long enough to kill one of them mid-step.
    cluster.emulator.set_faults(report_processing_seconds=3)
    orchestrator = subprocess.Popen(execute_job_command("interval_collection_job", tags), cwd=REPO_ROOT,
                                    env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        run_id, victim = wait_for_running_step(cluster, "contact_volume", tags, deadline=time.monotonic() + 120)
        killed = next(worker for worker in workers if worker.name == victim.split("@")[0])
        time.sleep(0.5)  # inside the step's first report job
        killed_pids = process_group(killed.process.pid)
        killed.kill()
        cluster.emulator.set_faults(report_processing_seconds=0.2)
        output, _ = orchestrator.communicate(timeout=180)
    finally:
        cluster.emulator.set_faults(report_processing_seconds=0.2)
        if orchestrator.poll() is None:
            orchestrator.kill()
            orchestrator.wait()
    assert orchestrator.returncode == 0, output[-6000:]

    assert cluster.instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
    events = [entry for entry in cluster.step_events(run_id) if entry.step_key == "contact_volume"]
    attempts = [worker_of(entry) for entry in events if worker_of(entry)]
    survivor = next(worker for worker in workers if worker is not killed)
    assert [name.split("@")[0] for name in attempts] == [killed.name, survivor.name], attempts
    kinds = [entry.dagster_event.event_type for entry in events]
    assert kinds.count(DagsterEventType.STEP_START) == 2 and kinds.count(DagsterEventType.STEP_SUCCESS) == 1
    success_pid = next(entry.dagster_event.pid for entry in events
                       if entry.dagster_event.event_type == DagsterEventType.STEP_SUCCESS)
    assert success_pid in process_group(survivor.process.pid) and success_pid not in killed_pids

    got = tables(cluster.wfm_database_url, KILLED_WINDOW)
    assert not got["wfm_contact_volume_interval"].duplicated(["queue_id", "interval_start"]).any()
    assert_same_tables(got, cluster.reference[KILLED_WINDOW])
    assert_broker_password_never_shown(cluster, [output])


def wait_for_running_step(cluster: Cluster, step: str, tags: dict, deadline: float) -> tuple[str, str]:
    """(run id, worker name) once `step` has started on a worker."""
    while time.monotonic() < deadline:
        runs = cluster.instance.get_runs(dg.RunsFilter(job_name="interval_collection_job", tags=tags))
        if runs:
            events = [entry for entry in cluster.step_events(runs[0].run_id) if entry.step_key == step]
            worker = next((worker_of(entry) for entry in events if worker_of(entry)), None)
            if worker and any(entry.dagster_event.event_type == DagsterEventType.STEP_START for entry in events):
                return runs[0].run_id, worker
        time.sleep(0.2)
    raise TimeoutError(f"{step} never started on a worker:\n" + "\n".join(w.log()[-2000:] for w in cluster.workers))


def assert_broker_password_never_shown(cluster: Cluster, outputs: list[str]) -> None:
    """The broker URL's password is in no worker log, no orchestrator output, no event and no run config."""
    password = cluster.broker_url.split("@")[0].rsplit(":", 1)[1]
    worker_logs = [path.read_text(errors="replace") for path in cluster.home.glob("*.log")]  # killed ones too
    texts = [*outputs, cluster.configuration_output, *worker_logs]
    for run in cluster.instance.get_runs():
        texts.append(repr(run.run_config))
        texts.extend(entry.to_json() for entry in cluster.instance.all_logs(run.run_id))
    assert not [text for text in texts if password in text]
