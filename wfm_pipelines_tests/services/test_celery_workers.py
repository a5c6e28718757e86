"""WFM_EXECUTOR=celery for real, with three Talkdesk accounts: two `dagster-celery` worker processes on a
RabbitMQ virtual host of their own, the Dagster instance of `deploy/dagster.postgres.yaml` and the WFM tables
in PostgreSQL, `dagster job execute` as the orchestrator, one multi-account emulator. A tick is one run of
`interval_collection_job` over every account (six steps). Account by account, the WFM tables must equal what
the same job gives in process on the same emulator data, also when a worker is killed in the middle of a step;
no account's rows may land under another's, and no secret may show in a log, an event or run config.

Everything slow is started once per module (workers, the configuration run, the in-process reference); each
test covers its own two hours of yesterday so that neither sees the other's rows.
"""

from __future__ import annotations

import subprocess
import textwrap
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance

from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import table_named
from wfm_pipelines.definitions import build_definitions
from wfm_pipelines.defs.partitions import partition_key_for, range_tags
from wfm_pipelines.defs.talkdesk_resources import TalkdeskRealtimeResource, TalkdeskResource
from wfm_pipelines_tests.conftest import fresh_postgres_database, fresh_rabbitmq_vhost
from dagster_harness.celery_workers import (
    CeleryWorker,
    celery_environment,
    execute_job,
    execute_job_command,
    process_command_line_and_environment,
    process_group,
    start_workers,
)
from dagster_harness.deployment import REPO_ROOT
from wfm_pipelines_tests.defs.support import raw_store_for, settings_for_tests
from wfm_pipelines_tests.reference_day import reference_window

pytestmark = pytest.mark.slow

# id: (emulator seed, queues, agents, contacts a day); each account has its own client and secret.
ACCOUNTS = {"north": (11, 4, 20, 2500), "south": (23, 3, 12, 1200), "west": (37, 5, 26, 3000)}
STEPS = {f"{account_id}__{name}" for account_id in ACCOUNTS for name in ("contact_volume", "agent_state_transactions")}
CONFIGURATION_TABLES = ("wfm_queue", "wfm_agent", "wfm_queue_agent")
INTERVAL_TABLES = {"wfm_contact_volume_interval": "interval_start", "wfm_agent_state_transaction": "state_end"}
# Times of collection differ between any two runs; everything else must be equal.
COLLECTION_TIMES = ["first_seen_at", "last_seen_at", "collected_at"]
START, _ = reference_window(4)
CLEAN_WINDOW = (START, START + timedelta(hours=2))
KILLED_WINDOW = (START + timedelta(hours=2), START + timedelta(hours=4))
# The emulator finishes a report in 0.2 s: the reference polls it every 0.05 s at first, not every second.
FAST = dict(max_attempts=4, backoff_base_s=0.05, backoff_max_s=0.5, report_poll_timeout_s=60, report_poll_initial_s=0.05)


def client_id(account_id: str) -> str:
    return f"{account_id}-client"


def secret(account_id: str) -> str:
    return f"{account_id}-Secret-{ACCOUNTS[account_id][0] * 7919:x}c1"


def secret_variable(account_id: str) -> str:
    return f"{account_id.upper()}_TD_SECRET"


SECRETS = {secret_variable(account_id): secret(account_id) for account_id in ACCOUNTS}


def accounts_yaml(emulator) -> str:
    """The accounts file: where each account is, its client id and the NAME of its secret's variable."""
    entries = [textwrap.dedent(f"""\
        - id: {account_id}
          historical:
            base_url: {emulator.account_url(account_id)}
            api_url: {emulator.account_url(account_id)}
            client_id: {client_id(account_id)}
            client_secret_env: {secret_variable(account_id)}
        """) for account_id in ACCOUNTS]
    return "accounts:\n" + "".join(textwrap.indent(entry, "  ") for entry in entries)


def reference_run(accounts_file: Path, database_url: str, windows: tuple) -> dict[tuple, dict]:
    """The same jobs in this process: the configuration, then a tick per window; each window's tables."""
    settings = settings_for_tests(WFM_ACCOUNTS_FILE=str(accounts_file), WFM_DATABASE_URL=database_url,
                                  WFM_RAW_STORE=raw_store_for(database_url), **SECRETS)
    defs = build_definitions(settings)
    resources = {}  # Talkdesk clients tuned for the emulator; the secrets never enter os.environ here
    for account in settings.accounts:
        client = dict(base_url=account.historical.base_url, api_url=account.historical.api_url,
                      client_id=account.historical.client_id, client_secret=secret(account.id), **FAST)
        resources[account.scoped_name("talkdesk")] = TalkdeskResource(**client)
        resources[account.scoped_name("talkdesk_realtime")] = TalkdeskRealtimeResource(**client)
    with dg.DagsterInstance.ephemeral() as instance:  # in memory: a SQLite event log costs a minute here
        assert defs.resolve_job_def("configuration_job").execute_in_process(
            instance=instance, resources=resources).success
        for window in windows:
            assert defs.resolve_job_def("interval_collection_job").execute_in_process(
                instance=instance, resources=resources, tags=window_tags(window)).success
    return {window: tables(database_url, window) for window in windows}


def tables(database_url: str, window: tuple) -> dict[str, dict[str, pd.DataFrame]]:
    """Account by account, the configuration tables and the interval tables' rows of `window`, without
    collection times."""
    engine = get_engine(database_url)
    found = {}
    for account_id in ACCOUNTS:
        frames = {name: queries.read_table(engine, name, account_id=account_id) for name in CONFIGURATION_TABLES}
        for name, column in INTERVAL_TABLES.items():
            frames[name] = queries.read_window(engine, name, window_start=window[0], window_end=window[1],
                                               time_column=column, account_id=account_id)
        found[account_id] = {name: frame.drop(columns=[c for c in COLLECTION_TIMES if c in frame.columns])
                             .reset_index(drop=True) for name, frame in frames.items()}
    return found


def rows_by_account(database_url: str, window: tuple) -> dict[str, dict[str, int]]:
    """Every row of each table (of `window` for the interval tables), counted by account id, whatever it is."""
    engine = get_engine(database_url)
    counts = {}
    with engine.connect() as connection:
        for name in (*CONFIGURATION_TABLES, *INTERVAL_TABLES):
            table = table_named(name)
            query = sa.select(table.c.account_id, sa.func.count()).group_by(table.c.account_id)
            if name in INTERVAL_TABLES:
                column = table.c[INTERVAL_TABLES[name]]
                query = query.where(column >= window[0], column < window[1])
            counts[name] = dict(connection.execute(query).all())
    return counts


def assert_same_tables(database_url: str, window: tuple, expected: dict[str, dict[str, pd.DataFrame]]) -> None:
    """Account by account, equal to the in-process result, no duplicates, and no row under another account."""
    got = tables(database_url, window)
    for account_id, frames in expected.items():
        for name, frame in frames.items():
            assert len(frame) > 0, (account_id, name)
            pd.testing.assert_frame_equal(got[account_id][name], frame, obj=f"{account_id} {name}")
            keys = [column.name for column in table_named(name).primary_key.columns if column.name != "account_id"]
            assert not got[account_id][name].duplicated(keys).any(), (account_id, name)
        # each account's own directory, not a neighbour's (the three are of different sizes)
        assert len(got[account_id]["wfm_agent"]) == ACCOUNTS[account_id][2], account_id
    assert rows_by_account(database_url, window) == {
        name: {account_id: len(expected[account_id][name]) for account_id in ACCOUNTS}
        for name in (*CONFIGURATION_TABLES, *INTERVAL_TABLES)}


def window_tags(window: tuple) -> dict[str, str]:
    return range_tags(partition_key_for(window[0]), partition_key_for(window[1] - timedelta(minutes=15)))


@dataclass
class Cluster:
    env: dict[str, str]
    home: Path
    instance: DagsterInstance
    wfm_database_url: str
    broker_url: str
    reference: Future  # of the in-process tables of each window
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

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.terminate()  # all at once, then wait
        for worker in self.workers:
            worker.stop()

    def expected(self, window: tuple) -> dict[str, dict[str, pd.DataFrame]]:
        return self.reference.result(timeout=300)[window]

    def step_events(self, run_id: str) -> list:
        return [entry for entry in self.instance.all_logs(run_id) if entry.dagster_event and entry.step_key]

    def set_report_seconds(self, seconds: float) -> None:
        for account_id in ACCOUNTS:
            self.emulator.set_faults(account_id, report_processing_seconds=seconds)


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
    with ExitStack() as stack:
        emulator = stack.enter_context(EmulatorServer(accounts={
            account_id: EmulatorConfig(seed=seed, queues=queues, agents=agents, contacts_per_day=contacts,
                                       client_id=client_id(account_id), client_secret=secret(account_id),
                                       report_processing_seconds=0.2)
            for account_id, (seed, queues, agents, contacts) in ACCOUNTS.items()}))
        accounts_file = home / "accounts.yaml"
        accounts_file.write_text(accounts_yaml(emulator))
        # The in-process reference starts first, in a thread of this process: it runs while the databases, the
        # broker and the workers are set up, the configuration run goes to the workers, and the first test's run
        # too. The tests wait for it only to compare.
        reference_url = stack.enter_context(fresh_postgres_database())
        background = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="reference"))
        reference = background.submit(reference_run, accounts_file, reference_url, (CLEAN_WINDOW, KILLED_WINDOW))
        wfm_url = stack.enter_context(fresh_postgres_database())
        instance_url = stack.enter_context(fresh_postgres_database())
        broker_url = stack.enter_context(fresh_rabbitmq_vhost())
        env = celery_environment(home=home, accounts_file=accounts_file, secrets=SECRETS, wfm_database_url=wfm_url,
                                 instance_database_url=instance_url, broker_url=broker_url,
                                 raw_store=raw_store_for(wfm_url))
        monkeypatch = stack.enter_context(pytest.MonkeyPatch.context())
        for name in [name for name in env if name.startswith("DAGSTER_PG_")]:
            monkeypatch.setenv(name, env[name])
        # Creating the instance here creates its tables once, before several processes would race to.
        instance = stack.enter_context(DagsterInstance.from_config(env["DAGSTER_HOME"]))
        cluster = Cluster(env, home, instance, wfm_url, broker_url, reference, emulator,
                          [CeleryWorker(name, env, home) for name in ("wfm-worker-a", "wfm-worker-b")])
        stack.callback(cluster.stop_workers)
        # The configuration run goes to the queue while the workers start.
        configuration = execute_job("configuration_job", env, timeout=240)
        assert configuration.returncode == 0, configuration.stdout[-3000:] + configuration.stderr[-6000:]
        cluster.configuration_output = configuration.stdout + configuration.stderr
        yield cluster


def test_two_workers_run_the_three_accounts_steps_and_each_accounts_tables_equal_the_in_process_result(cluster):
    workers = cluster.live_workers()
    result = execute_job("interval_collection_job", cluster.env, window_tags(CLEAN_WINDOW))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]

    runs = cluster.instance.get_runs(dg.RunsFilter(job_name="interval_collection_job", tags=window_tags(CLEAN_WINDOW)))
    assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS  # the tick is ONE run
    events = cluster.step_events(runs[0].run_id)
    worker_by_step = {entry.step_key: worker_of(entry) for entry in events if worker_of(entry)}
    # Each account's two steps went to the workers, and both workers took some.
    assert set(worker_by_step) == STEPS
    assert {name.split("@")[0] for name in worker_by_step.values()} == {worker.name for worker in workers}
    for step, worker_name in worker_by_step.items():
        worker = next(w for w in workers if w.name == worker_name.split("@")[0])
        step_pids = {entry.dagster_event.pid for entry in events
                     if entry.step_key == step and entry.dagster_event.event_type == DagsterEventType.STEP_SUCCESS}
        # The step's events came from a process of that worker's process group, and its log says so.
        assert step_pids and step_pids <= process_group(worker.process.pid), (step, step_pids)
        assert f'Finished execution of step "{step}"' in worker.log()
        assert "Task execute_plan[" in worker.log() and "succeeded" in worker.log()

    assert_same_tables(cluster.wfm_database_url, CLEAN_WINDOW, cluster.expected(CLEAN_WINDOW))
    # The workers got the accounts' secrets from their environment, and from nowhere else.
    for worker in workers:
        for pid in process_group(worker.process.pid):
            command_line, environment = process_command_line_and_environment(pid)
            assert {name: environment.get(name) for name in SECRETS} == SECRETS
            assert not [value for value in SECRETS.values() if value in command_line]
    assert_no_secret_shown(cluster, [result.stdout, result.stderr])


def test_a_step_on_a_killed_worker_is_redelivered_and_each_accounts_tables_equal_the_in_process_result(cluster):
    workers = cluster.live_workers()
    cluster.expected(KILLED_WINDOW)  # the reference is done before the emulator slows down
    tags = window_tags(KILLED_WINDOW)
    # Report jobs that take a while keep the steps busy long enough to kill one of them mid-step.
    cluster.set_report_seconds(3)
    orchestrator = subprocess.Popen(execute_job_command("interval_collection_job", tags), cwd=REPO_ROOT,
                                    env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        run_id, step, victim = wait_for_a_running_step(cluster, tags, deadline=time.monotonic() + 120)
        killed = next(worker for worker in workers if worker.name == victim.split("@")[0])
        time.sleep(0.5)  # inside the step's first report job
        killed_pids = process_group(killed.process.pid)
        killed.kill()
        cluster.set_report_seconds(0.2)
        output, _ = orchestrator.communicate(timeout=180)
    finally:
        cluster.set_report_seconds(0.2)
        if orchestrator.poll() is None:
            orchestrator.kill()
            orchestrator.wait()
    assert orchestrator.returncode == 0, output[-6000:]

    assert cluster.instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
    events = cluster.step_events(run_id)
    assert {entry.step_key for entry in events
            if entry.dagster_event.event_type == DagsterEventType.STEP_SUCCESS} == STEPS
    survivor = next(worker for worker in workers if worker is not killed)
    attempts = {key: [worker_of(entry).split("@")[0] for entry in events if entry.step_key == key and worker_of(entry)]
                for key in STEPS}
    # Every step the killed worker had taken (`step` at least; its second pool process may have had another)
    # ran again, to success, on the survivor; no step ran twice otherwise.
    interrupted = {key for key, names in attempts.items() if killed.name in names}
    assert step in interrupted, attempts
    for key in STEPS:
        assert attempts[key] == ([killed.name, survivor.name] if key in interrupted else [survivor.name]), attempts
        kinds = [entry.dagster_event.event_type for entry in events if entry.step_key == key]
        assert kinds.count(DagsterEventType.STEP_SUCCESS) == 1, (key, kinds)
        success_pid = next(entry.dagster_event.pid for entry in events if entry.step_key == key
                           and entry.dagster_event.event_type == DagsterEventType.STEP_SUCCESS)
        assert success_pid in process_group(survivor.process.pid) and success_pid not in killed_pids, key
    kinds = [entry.dagster_event.event_type for entry in events if entry.step_key == step]
    assert kinds.count(DagsterEventType.STEP_START) == 2  # started on the killed worker, then on the survivor

    assert_same_tables(cluster.wfm_database_url, KILLED_WINDOW, cluster.expected(KILLED_WINDOW))
    assert_no_secret_shown(cluster, [output])


def wait_for_a_running_step(cluster: Cluster, tags: dict, deadline: float) -> tuple[str, str, str]:
    """(run id, step key, worker name) once a step has started on a worker."""
    while time.monotonic() < deadline:
        runs = cluster.instance.get_runs(dg.RunsFilter(job_name="interval_collection_job", tags=tags))
        if runs:
            events = cluster.step_events(runs[0].run_id)
            worker_by_step = {entry.step_key: worker_of(entry) for entry in events if worker_of(entry)}
            for entry in events:
                if entry.dagster_event.event_type == DagsterEventType.STEP_START and entry.step_key in worker_by_step:
                    return runs[0].run_id, entry.step_key, worker_by_step[entry.step_key]
        time.sleep(0.2)
    raise TimeoutError("no step started on a worker:\n" + "\n".join(w.log()[-2000:] for w in cluster.workers))


def assert_no_secret_shown(cluster: Cluster, outputs: list[str]) -> None:
    """Neither the broker URL's password nor any account's secret is in a worker log, the orchestrators' output,
    an event or a run config (nor in the accounts file)."""
    secrets = [cluster.broker_url.split("@")[0].rsplit(":", 1)[1], *SECRETS.values()]
    worker_logs = [path.read_text(errors="replace") for path in cluster.home.glob("*.log")]  # killed ones too
    texts = [*outputs, cluster.configuration_output, *worker_logs, Path(cluster.env["WFM_ACCOUNTS_FILE"]).read_text()]
    for run in cluster.instance.get_runs():
        texts.append(repr(run.run_config))
        texts.extend(entry.to_json() for entry in cluster.instance.all_logs(run.run_id))
    assert len(cluster.instance.get_runs()) >= 2
    assert not [secret for secret in secrets for text in texts if secret in text]
