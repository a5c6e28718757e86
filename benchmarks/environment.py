"""What the benchmarks run against: a fresh PostgreSQL database, the emulator in its own process, the machine.

No Dagster here: the Dagster side is driven over GraphQL by the test harness (see `backfill.py`).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import requests
import sqlalchemy as sa

from wfm_pipelines.settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, HISTORICAL_SCOPES, REALTIME_SCOPES
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

    def __init__(self, center: Center, log_path: Path, *, seed: int = 7, report_processing_seconds: float = 1.0):
        self.center = center
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.report_processing_seconds = report_processing_seconds
        executable = Path(sys.executable).with_name("talkdesk-emulator")
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [str(executable), "--port", str(self.port), "--seed", str(seed), "--queues", str(center.queues),
             "--agents", str(center.agents), "--contacts-per-day", str(center.contacts_per_day),
             "--report-processing-seconds", str(report_processing_seconds)],
            stdout=self._log, stderr=subprocess.STDOUT)

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


class RunWorkerPeakSampler:
    """Peak resident memory (VmHWM) of Dagster run-worker processes, read from /proc while they live.

    The assets' own `peak_rss_mib` is taken before the IO manager writes and the checks read back; this
    sees the whole run process, including those.
    """

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="run-worker-rss", daemon=True)

    def __enter__(self) -> RunWorkerPeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    cmdline = Path(entry.path, "cmdline").read_bytes()
                    if b"execute_run" not in cmdline:
                        continue
                    for line in Path(entry.path, "status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                except OSError:  # the process ended between listing and reading
                    continue


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
