"""The same ranged multi-account run (small accounts x 1 UTC day) on the Celery executor with 1 worker, then 2:
`dagster job execute` wall and the run's own time, a PostgreSQL instance and a RabbitMQ virtual host of its own."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.accounting import load_average, proc_stat
from benchmarks.accounts_files import deployment_env, secret_variable, wfm_accounts_yaml
from benchmarks.environment import REPO_ROOT, EmulatorProcess, fresh_databases
from benchmarks.many_accounts_tick import TICK_JOB
from benchmarks.statistics import machine_busy
from wfm_pipelines.intervals import INTERVAL

CELERY_ACCOUNTS = 10  # small ones, one UTC day each


@dataclass
class CeleryResult:
    workers: int
    wall: float  # `dagster job execute` start -> exit
    run_seconds: float  # the run's own start -> end (instance record)
    status: str
    steps: int
    load: str
    machine_busy_cores: float


def celery_phase_environment(home: Path, accounts_file: Path, configs: dict, account_ids: list[str],
                             urls: dict[str, str], broker: str, day: datetime) -> dict[str, str]:
    """What every process of the Celery phase gets: the Celery tests' deployment environment for these accounts
    (their secrets by variable), with the benchmark's own settings on top."""
    from dagster_harness.celery_workers import celery_environment  # noqa: PLC0415

    env = celery_environment(home=home, accounts_file=accounts_file,
                             secrets={secret_variable(a): configs[a].client_secret for a in account_ids},
                             wfm_database_url=urls["celery_wfm"], instance_database_url=urls["celery_instance"],
                             broker_url=broker, raw_store=str(home / "raw"))
    env.update(deployment_env(accounts_file, urls["celery_wfm"], home / "raw", configs, day - timedelta(days=1),
                              WFM_EXECUTOR="celery"))
    return env


def run_celery(work: Path, emulator: EmulatorProcess, configs: dict, account_ids: list[str], day: datetime,
               workers: int, log) -> CeleryResult:
    from dagster import DagsterInstance  # noqa: PLC0415 - only this phase needs the instance in-process

    from wfm_pipelines.defs.partitions import partition_key_for, range_tags  # noqa: PLC0415
    from dagster_harness.rabbitmq import fresh_virtual_host  # noqa: PLC0415
    from dagster_harness.celery_workers import execute_job_command, start_workers  # noqa: PLC0415

    home = work / f"celery-{workers}"
    home.mkdir(parents=True, exist_ok=True)
    accounts_file = home / "accounts.yaml"
    accounts_file.write_text(wfm_accounts_yaml(emulator, account_ids, configs))
    with fresh_databases("celery_wfm", "celery_instance") as urls, fresh_virtual_host() as broker:
        env = celery_phase_environment(home, accounts_file, configs, account_ids, urls, broker, day)
        saved = {k: os.environ.get(k) for k in env if k.startswith("DAGSTER_PG_")}
        os.environ.update({k: env[k] for k in saved})
        try:
            with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:  # creates its tables once
                started = start_workers([f"bench-worker-{i}" for i in range(workers)], env, home)
                try:
                    log(f"  {workers} worker(s) ready")
                    tags = range_tags(partition_key_for(day), partition_key_for(day + timedelta(days=1) - INTERVAL))
                    machine_before = proc_stat()
                    began = time.perf_counter()
                    done = subprocess.run(execute_job_command(TICK_JOB, tags), cwd=REPO_ROOT,
                                          env=env, capture_output=True, text=True, timeout=900)
                    wall = time.perf_counter() - began
                    machine = machine_busy(machine_before, proc_stat(), os.cpu_count() or 1)
                    record = instance.get_run_records(limit=1)[0]
                    run = record.dagster_run
                    steps = len(instance.get_run_step_stats(run.run_id))
                    run_seconds = (record.end_time or float("nan")) - (record.start_time or float("nan"))
                    if done.returncode != 0:
                        log(f"  dagster job execute exited {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
                    return CeleryResult(workers, wall, run_seconds, run.status.value, steps, load_average(), machine)
                finally:
                    for worker in started:
                        worker.stop()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
