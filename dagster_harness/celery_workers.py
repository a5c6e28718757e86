"""Real Celery workers and a real Dagster orchestrator as subprocesses, for the WFM_EXECUTOR=celery tests.

`celery_environment(...)` is the environment a deployment gives every process (code location, run worker,
Celery workers): an accounts file (`WFM_ACCOUNTS_FILE`) and the variables holding its accounts' secrets, a
PostgreSQL WFM database, a shared raw store, the Dagster instance of `deploy/dagster.postgres.yaml` in
PostgreSQL and a RabbitMQ virtual host as the broker. The secrets reach the processes through their
environment only: not in the file, on a command line or in run config. `CeleryWorker` runs
`dagster-celery worker start -A wfm_pipelines.celery_app` (what `make worker` runs) in its own process group,
its log in a file; `execute_job` runs `dagster job execute -m wfm_pipelines.definitions`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa

from dagster_harness.deployment import REPO_ROOT

BIN = Path(sys.executable).parent


def celery_environment(*, home: Path, accounts_file: Path, secrets: Mapping[str, str], wfm_database_url: str,
                       instance_database_url: str, broker_url: str, raw_store: str) -> dict[str, str]:
    """`secrets`: the secret of each variable the accounts file names in `client_secret_env`."""
    instance = sa.make_url(instance_database_url)
    (home / "instance").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "deploy" / "dagster.postgres.yaml", home / "instance" / "dagster.yaml")
    # The accounts file alone says where each account is: no single-account TALKDESK_* variable of this process.
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("TALKDESK_")}
    return {
        **inherited,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # `dagster-celery` starts `celery` from PATH
        "PYTHONPATH": str(REPO_ROOT),
        "DAGSTER_HOME": str(home / "instance"),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "DAGSTER_PG_HOST": instance.host or "127.0.0.1", "DAGSTER_PG_PORT": str(instance.port or 5432),
        "DAGSTER_PG_USER": instance.username or "postgres", "DAGSTER_PG_PASSWORD": instance.password or "",
        "DAGSTER_PG_DB": instance.database or "",
        "WFM_ACCOUNTS_FILE": str(accounts_file), **secrets,
        "WFM_DATABASE_URL": wfm_database_url, "WFM_RAW_STORE": raw_store,
        "WFM_EXECUTOR": "celery", "WFM_CELERY_BROKER_URL": broker_url,
        "WFM_STEP_RETRIES": "0", "WFM_AUTOMATION": "off",
    }


class CeleryWorker:
    """One `dagster-celery worker start` with two pool processes (two steps at a time), named `<name>@<host>`."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(BIN / "dagster-celery"), "worker", "start", "-A", "wfm_pipelines.celery_app", "-n", name,
             "--", "--concurrency=2"],
            cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, deadline: float) -> None:
        while " ready." not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker {self.name} not ready:\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes at once, as when its host dies."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        """Celery's warm shutdown: finish the running task, take no other."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        try:  # the group may outlive its leader
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


def start_workers(names: list[str], env: dict[str, str], log_dir: Path, timeout: float = 90) -> list[CeleryWorker]:
    workers = [CeleryWorker(name, env, log_dir) for name in names]
    try:
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.wait_ready(deadline)
    except BaseException:
        for worker in workers:
            worker.stop()
        raise
    return workers


def execute_job_command(job_name: str, tags: dict[str, str] | None = None) -> list[str]:
    return [str(BIN / "dagster"), "job", "execute", "-m", "wfm_pipelines.definitions", "-j", job_name,
            *(["--tags", json.dumps(tags)] if tags else [])]


def execute_job(job_name: str, env: dict[str, str], tags: dict[str, str] | None = None,
                timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(execute_job_command(job_name, tags), cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def process_group(pgid: int) -> set[int]:
    """The pids of the live processes in a process group (a worker: the CLI, Celery's main and pool processes)."""
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # after the command: state, ppid, pgrp
            pids.add(int(stat.parent.name))
    return pids


def process_command_line_and_environment(pid: int) -> tuple[str, dict[str, str]]:
    """A live process's command line (arguments joined by spaces) and environment, from /proc."""
    proc = Path("/proc") / str(pid)
    command_line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    variables = (proc / "environ").read_bytes().decode(errors="replace").split("\0")
    return command_line, dict(variable.split("=", 1) for variable in variables if "=" in variable)
