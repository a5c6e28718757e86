"""What the benchmarks run against: a fresh PostgreSQL database, the emulator in its own process, the machine, and
what a Dagster instance in PostgreSQL holds.

No Dagster here: the Dagster side is driven over GraphQL by the test harness (see `backfill.py`).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import requests
import sqlalchemy as sa

from benchmarks.accounting import directory_bytes, process_cpu_seconds
from wfm_pipelines.settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from wfm_pipelines.talkdesk.auth import HISTORICAL_SCOPES, REALTIME_SCOPES
from wfm_pipelines.talkdesk import TalkdeskClient, TalkdeskConnection

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Center:
    """The emulated contact center."""

    name: str
    queues: int
    agents: int
    contacts_per_day: int


# Issue 11 times the Dagster backfill "with the emulator answering each job in 1 s" (also its default).
EMULATOR_REPORT_PROCESSING_SECONDS = 1.0

LARGE_CENTER = Center("large", queues=300, agents=3000, contacts_per_day=250_000)
QUICK_CENTER = Center("quick", queues=30, agents=300, contacts_per_day=25_000)


def admin_url() -> str:
    return os.environ.get("WFM_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL)


@contextmanager
def fresh_databases(*labels: str) -> Iterator[dict[str, str]]:
    """One empty PostgreSQL database per label (label -> URL), all dropped on exit."""
    admin = sa.create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:8]
    names = {label: f"wfm_bench_{label}_{suffix}" for label in labels}
    created: list[str] = []
    try:
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
                created.append(name)
        base = sa.make_url(admin_url())
        yield {label: base.set(database=name).render_as_string(hide_password=False) for label, name in names.items()}
    finally:
        with admin.connect() as connection:
            for name in created:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmulatorProcess:
    """`talkdesk-emulator` as a subprocess: its CPU does not share the benchmark's GIL (the fairer choice)."""

    def __init__(self, center: Center | None, log_path: Path, *, seed: int = 7,
                 report_processing_seconds: float = EMULATOR_REPORT_PROCESSING_SECONDS,
                 accounts_file: Path | None = None):
        """One account of `center`, or (`accounts_file`, center None) the accounts of an emulator accounts
        file, each under `{url}/accounts/<id>` (`account_url`)."""
        self.center = center
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.report_processing_seconds = report_processing_seconds
        executable = Path(sys.executable).with_name("talkdesk-emulator")
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        if accounts_file is not None:
            options = ["--accounts-file", str(accounts_file)]
        else:
            options = ["--seed", str(seed), "--queues", str(center.queues), "--agents", str(center.agents),
                       "--contacts-per-day", str(center.contacts_per_day),
                       "--report-processing-seconds", str(report_processing_seconds)]
        self._process = subprocess.Popen([str(executable), "--port", str(self.port), *options],
                                         stdout=self._log, stderr=subprocess.STDOUT)

    def account_url(self, account_id: str) -> str:
        return f"{self.url}/accounts/{account_id}"

    def wait_ready(self, timeout: float = 60) -> EmulatorProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"talkdesk-emulator exited with {self._process.returncode}")
            try:
                requests.get(f"{self.url}/_emulator/faults", timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise TimeoutError(f"talkdesk-emulator not answering on {self.url} after {timeout}s")

    @property
    def pid(self) -> int:
        return self._process.pid

    def cpu_seconds(self) -> float:
        """The emulator process's user + system CPU so far (all its threads; it starts no children)."""
        return process_cpu_seconds(self.pid)

    def report_processing_seconds_now(self) -> float:
        """How long the emulator takes to finish a report job now, read back from its fault settings (which
        a test could have changed at run time): what a measurement states it ran with."""
        response = requests.get(f"{self.url}/_emulator/faults", timeout=10)
        response.raise_for_status()
        return float(response.json()["report_processing_seconds"])

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._log.close()

    def client(self, *, realtime: bool = False) -> TalkdeskClient:
        scopes = REALTIME_SCOPES if realtime else HISTORICAL_SCOPES
        return TalkdeskClient(TalkdeskConnection(self.url, self.url, EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET,
                                                 scopes))

    def deployment_env(self) -> dict[str, str]:
        return {"TALKDESK_BASE_URL": self.url, "TALKDESK_API_URL": self.url,
                "TALKDESK_CLIENT_ID": EMULATOR_CLIENT_ID, "TALKDESK_CLIENT_SECRET": EMULATOR_CLIENT_SECRET}


def describe_machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    memory_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:"))
    engine = sa.create_engine(admin_url())
    try:
        with engine.connect() as connection:
            postgres = connection.execute(sa.text("show server_version")).scalar_one()
    finally:
        engine.dispose()
    return {
        "CPU": cpu,
        "cores (os.cpu_count / usable)": f"{os.cpu_count()} / {len(os.sched_getaffinity(0))}",
        "memory": f"{memory_kib / 1024 / 1024:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": postgres,
        "Dagster": metadata.version("dagster"),
        "pandas / SQLAlchemy / psycopg": f"{metadata.version('pandas')} / {metadata.version('SQLAlchemy')} / "
                                         f"{metadata.version('psycopg')}",
    }


def database_bytes(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("select pg_database_size(current_database())")).scalar_one())
    finally:
        engine.dispose()


def instance_env(instance_url: str) -> dict[str, str]:
    """The DAGSTER_PG_* variables `deploy/dagster.postgres.yaml` reads, for the database at `instance_url`."""
    url = sa.make_url(instance_url)
    return {"DAGSTER_PG_HOST": url.host or "127.0.0.1", "DAGSTER_PG_PORT": str(url.port or 5432),
            "DAGSTER_PG_USER": url.username or "postgres", "DAGSTER_PG_PASSWORD": url.password or "",
            "DAGSTER_PG_DB": url.database or ""}


def instance_database_url(deployment) -> str | None:
    """The PostgreSQL database of the deployment's Dagster instance (None: the instance is SQLite files)."""
    env = deployment.env
    if "DAGSTER_PG_DB" not in env:
        return None
    return sa.URL.create("postgresql+psycopg", username=env["DAGSTER_PG_USER"], password=env["DAGSTER_PG_PASSWORD"] or None,
                         host=env["DAGSTER_PG_HOST"], port=int(env["DAGSTER_PG_PORT"]),
                         database=env["DAGSTER_PG_DB"]).render_as_string(hide_password=False)


def instance_bytes(deployment) -> int:
    """What the Dagster instance holds: its directory (compute logs; with SQLite storage everything) and its
    PostgreSQL database, if it has one."""
    url = instance_database_url(deployment)
    return directory_bytes(deployment.dagster_home) + (database_bytes(url) if url else 0)


def migrate(database_url: str) -> None:
    from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema  # noqa: PLC0415 - as run_tick imports

    engine = create_wfm_engine(database_url)
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
