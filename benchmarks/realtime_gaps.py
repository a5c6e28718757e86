"""Real-time collection of many accounts at 30 s by the one `agent_state_sensor` of a running deployment: the gaps
between one account's consecutive collections (from `wfm_agent_state_snapshot`), the deployment's CPU from /proc,
the instance's and the WFM database's growth, runs launched, failed sensor ticks and collection checks."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from benchmarks.accounting import DeploymentSampler, load_average, proc_stat
from benchmarks.accounts_files import size_of
from benchmarks.environment import EmulatorProcess, database_bytes, instance_bytes
from benchmarks.statistics import consecutive_gaps, machine_busy


@dataclass
class RealtimeResult:
    accounts: int
    watch_seconds: float  # sensors running
    window_seconds: float  # the CPU / growth window (after the warm-up)
    gaps: dict[str, list[float]]
    collections: dict[str, int]
    cpu_seconds: float  # the deployment's processes over the window
    cpu_by_role: dict[str, float]
    emulator_cpu_seconds: float
    machine_busy_cores: float
    instance_growth_bytes: int
    wfm_growth_bytes: int
    runs_launched: int
    failed_ticks: int
    failed_checks: int  # failed `latest_collection_succeeded` evaluations (a failing account's collections)
    load: str

    @property
    def all_gaps(self) -> list[float]:
        return [g for gaps in self.gaps.values() for g in gaps]

    def gaps_of(self, size: str) -> list[float]:
        return [g for a, gaps in self.gaps.items() if size_of(a) == size for g in gaps]


def snapshot_times(url: str, since: datetime) -> dict[str, list[datetime]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "select distinct account_id, snapshot_at from wfm_agent_state_snapshot where snapshot_at >= :since"),
                {"since": since}).all()
    finally:
        engine.dispose()
    times: dict[str, list[datetime]] = {}
    for account_id, at in rows:
        times.setdefault(account_id, []).append(at)
    return times


def _failed_ticks(deployment, sensors: list[str]) -> int:
    return sum(1 for name in sensors for tick in deployment.sensor_ticks(name) if tick["status"] == "FAILURE")


def _failed_checks(deployment, account_ids: list[str]) -> int:
    query = """query($key: AssetKeyInput!) { assetCheckExecutions(assetKey: $key,
        checkName: "latest_collection_succeeded", limit: 100) { status } }"""
    return sum(1 for account_id in account_ids
               for execution in deployment.graphql(query, {"key": {"path": [account_id, "agent_state_snapshots"]}})[
                   "assetCheckExecutions"] if execution["status"] == "FAILED")


def run_realtime(deployment, emulator: EmulatorProcess, database_url: str, account_ids: list[str],
                 warmup: float, window: float, log) -> RealtimeResult:
    sensors = ["agent_state_sensor"]  # one sensor collects every account
    began = datetime.now(timezone.utc)
    started = time.monotonic()
    for name in sensors:
        deployment.set_sensor_running(name, True)
    log(f"  the agent-state sensor started in {time.monotonic() - started:.1f} s; warm-up {warmup:.0f} s")
    time.sleep(warmup)
    instance_before, wfm_before = instance_bytes(deployment), database_bytes(database_url)
    emulator_before, machine_before = emulator.cpu_seconds(), proc_stat()
    window_began = time.monotonic()
    with DeploymentSampler(deployment.dagster_home, interval=2.0) as sampler:
        time.sleep(window)
    window_seconds = time.monotonic() - window_began
    machine = machine_busy(machine_before, proc_stat(), os.cpu_count() or 1)
    emulator_cpu = emulator.cpu_seconds() - emulator_before
    instance_growth = instance_bytes(deployment) - instance_before
    wfm_growth = database_bytes(database_url) - wfm_before
    load = load_average()
    for name in sensors:
        deployment.set_sensor_running(name, False)
    watch = time.monotonic() - started
    times = snapshot_times(database_url, began)
    return RealtimeResult(
        accounts=len(account_ids), watch_seconds=watch, window_seconds=window_seconds,
        gaps=consecutive_gaps({a: times.get(a, []) for a in account_ids}),
        collections={a: len(set(times.get(a, []))) for a in account_ids},
        cpu_seconds=sampler.total_cpu_seconds, cpu_by_role={**sampler.cpu_by_role,
                                                            "unattributed": sampler.unattributed_cpu_seconds},
        emulator_cpu_seconds=emulator_cpu, machine_busy_cores=machine, instance_growth_bytes=instance_growth,
        wfm_growth_bytes=wfm_growth, runs_launched=len(deployment.runs()),
        failed_ticks=_failed_ticks(deployment, sensors), failed_checks=_failed_checks(deployment, account_ids),
        load=load)
