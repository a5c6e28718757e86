"""Scenario 1 (backfill) and 5 (peak memory): Dagster's backfill path vs the plain-loop floor vs one run per
partition.

The Dagster side is a real `dagster-webserver` + `dagster-daemon` driven over GraphQL as the UI does, through
the harness the tests share (`dagster_harness.deployment`, used on purpose: the benchmark drives
the same deployment the UI tests drive, and the harness itself does not import Dagster).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from benchmarks.accounting import (RUN_WORKERS, UNATTRIBUTED, DeploymentSampler, StoredBytes, directory_bytes,
                                   own_cpu_seconds, stored_bytes)
from benchmarks.environment import REPO_ROOT, EmulatorProcess
from wfm_pipelines.collection import agent_states, contact_volume
from wfm_pipelines.collection.report_formats import ReportFormats
from wfm_pipelines.db import window_writer
from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.settings import PARTITION_FORMAT, load_settings
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.transforms import configuration
from dagster_harness.deployment import DagsterDeployment

ASSETS = ["contact_volume", "agent_state_transactions"]
INTERVAL = timedelta(minutes=15)
PARTITIONS_PER_DAY = 96


def partition_keys(start: datetime, count: int) -> list[str]:
    return [(start + INTERVAL * i).strftime(PARTITION_FORMAT) for i in range(count)]


def shipped_instance_yaml() -> str:
    """The repo's dagster.yaml as shipped: the harness's faster dequeue/monitoring tweaks are NOT kept, so
    the latencies measured are the ones a user of `make run` gets."""
    return (REPO_ROOT / "dagster.yaml").read_text()


def deployment_env(emulator: EmulatorProcess, database_url: str, raw_store: Path, history_start: datetime,
                   **extra: str) -> dict:
    return {**emulator.deployment_env(), "WFM_DATABASE_URL": database_url, "WFM_RAW_STORE": str(raw_store),
            "WFM_HISTORY_START": history_start.strftime(PARTITION_FORMAT),
            # Schedules and sensors stay stopped: only what the benchmark launches runs (the healing sensor
            # would otherwise collect every missing interval since the history start on its own).
            "WFM_AUTOMATION": "off",
            # A failure fails the benchmark at once instead of hiding behind 30 s step-retry backoffs.
            "WFM_STEP_RETRIES": "0", **extra}


@dataclass
class Counts:
    contacts: int  # `calls` raw entries owned by the range (one per contact), from the raw store
    status_records: int  # `user_status` raw entries owned by the range
    interval_rows: int
    transactions: int
    entered_per_day: list[int]  # contacts that entered a queue, per UTC day of the range (the interval rows' sum)


def stored_counts(database_url: str, raw_store: Path, start: datetime, days: int) -> Counts:
    engine = create_wfm_engine(database_url)
    window = {"start": start, "end": start + timedelta(days=days)}
    store = RawStore(raw_store)
    try:
        with engine.connect() as connection:
            def scalar(sql: str) -> int:
                return int(connection.execute(sa.text(sql), window).scalar_one())
            per_day = dict(connection.execute(sa.text(
                "select floor(extract(epoch from interval_start - :start) / 86400)::int, sum(entered_count) "
                "from wfm_contact_volume_interval where interval_start >= :start and interval_start < :end "
                "group by 1"), window).all())
            interval_rows = scalar("select count(*) from wfm_contact_volume_interval "
                                   "where interval_start >= :start and interval_start < :end")
            transactions = scalar("select count(*) from wfm_agent_state_transaction "
                                  "where state_end >= :start and state_end < :end")

        def raw_entries(report_type: str) -> int:
            return int(store.interval_counts(engine, report_type, window["start"], window["end"],
                                             account_id=DEFAULT_ACCOUNT_ID).sum())

        return Counts(contacts=raw_entries("calls"), status_records=raw_entries("user_status"),
                      interval_rows=interval_rows, transactions=transactions,
                      entered_per_day=[int(per_day.get(day, 0)) for day in range(days)])
    finally:
        engine.dispose()


@dataclass
class Cost:
    """What one side of scenario 1 spent: wall, CPU (pipeline and emulator, separately) and bytes stored."""

    wall_seconds: float
    pipeline_cpu_seconds: float  # floor: the benchmark process; Dagster: the run workers (see cpu_parts)
    cpu_parts: dict[str, float]  # floor: {"benchmark process": ...}; Dagster: per process role + unattributed
    emulator_cpu_seconds: float  # the emulator process, same window
    stored: StoredBytes  # growth over the window: WFM database and raw store directory


@dataclass
class FloorResult:
    seconds: float
    counts: Counts
    cost: Cost
    day_seconds: list[float] = field(default_factory=list)
    day_cpu_seconds: list[float] = field(default_factory=list)  # the benchmark process, day by day


def run_floor(emulator: EmulatorProcess, database_url: str, start: datetime, days: int, raw_store: Path, *,
              report_format: str | None = None) -> FloorResult:
    """The same download, parse, aggregate and load in one plain loop, day by day, no orchestration.

    `raw_store` is where this process's WFM_RAW_STORE points (set by the caller before any product code
    ran); its growth is counted with the database's. `report_format`: WFM_REPORT_FORMAT's value to collect with
    (None: the setting's)."""
    engine = create_wfm_engine(database_url)
    ensure_schema(engine)  # the Dagster side is migrated before its backfill too; not timed on either side
    client = emulator.client()
    formats = ReportFormats(engine, report_format or load_settings().report_format,
                            account_id=DEFAULT_ACCOUNT_ID)  # as the assets do
    run_report = formats.runner(client.run_report)
    store = RawStore(raw_store)
    stored_before = stored_bytes(database_url, raw_store)
    emulator_before, cpu_before = emulator.cpu_seconds(), own_cpu_seconds()
    began = time.perf_counter()
    listing = client.list_queues()  # the asset lists queues from Talkdesk too while wfm_queue is empty
    queues = configuration.queues_frame(parsing.parse_queues(listing.queues, listing.source_kind))
    queues["active"] = True
    day_seconds, day_cpu_seconds = [], []
    for day in range(days):
        day_began, day_cpu_began = time.perf_counter(), own_cpu_seconds()
        day_start, day_end = start + timedelta(days=day), start + timedelta(days=day + 1)
        volume = contact_volume.collect_contact_volume(run_report, engine, store, report_type="calls", queues=queues,
                                                       range_start=day_start, range_end=day_end,
                                                       account_id=DEFAULT_ACCOUNT_ID)
        window_writer.replace_window(engine, "wfm_contact_volume_interval", volume.frame, window_start=day_start,
                                     window_end=day_end, time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID)
        del volume
        states = agent_states.collect_agent_state_transactions(run_report, engine, store, range_start=day_start,
                                                               range_end=day_end, account_id=DEFAULT_ACCOUNT_ID)
        window_writer.replace_window(engine, "wfm_agent_state_transaction", states.frame, window_start=day_start,
                                     window_end=day_end, time_column="state_end", account_id=DEFAULT_ACCOUNT_ID)
        del states
        day_seconds.append(time.perf_counter() - day_began)
        day_cpu_seconds.append(own_cpu_seconds() - day_cpu_began)
    seconds = time.perf_counter() - began
    pipeline_cpu, emulator_cpu = own_cpu_seconds() - cpu_before, emulator.cpu_seconds() - emulator_before
    client.close()
    engine.dispose()
    cost = Cost(seconds, pipeline_cpu, {"benchmark process": pipeline_cpu}, emulator_cpu,
                stored_bytes(database_url, raw_store) - stored_before)
    return FloorResult(seconds, stored_counts(database_url, raw_store, start, days), cost, day_seconds, day_cpu_seconds)


@dataclass
class BackfillResult:
    seconds: float  # launch over GraphQL -> backfill terminal and every run finished
    runs: int
    partitions: int
    statuses: list[str]
    run_seconds: list[float]  # each run's own start -> end
    first_run_start_after_launch: float
    run_span: float  # first run's start -> last run's end
    counts: Counts | None = None
    metadata_peak_rss_mib: float | None = None
    sampled_peak_rss_mib: float | None = None
    run_ids: list[str] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)  # step key -> seconds, summed over the runs
    cost: Cost | None = None
    instance_bytes: int | None = None  # the Dagster instance directory after the backfill (not in `cost`)
    run_workers_sampled: int = 0  # run-worker processes the peak-memory sampler saw


def _launch_and_wait(deployment: DagsterDeployment, keys: list[str], timeout: float) -> BackfillResult:
    launched_wall = time.time()
    began = time.perf_counter()
    backfill_id = deployment.launch_partition_backfill(ASSETS, keys, title="benchmark")
    state = deployment.wait_for_backfill(backfill_id, timeout=timeout)
    seconds = time.perf_counter() - began
    runs = state["runs"]
    starts = [r["startTime"] for r in runs if r["startTime"]]
    ends = [r["endTime"] for r in runs if r["endTime"]]
    return BackfillResult(
        seconds=seconds, runs=len(runs), partitions=state["num_partitions"],
        statuses=sorted(r["status"] for r in runs),
        run_seconds=[r["endTime"] - r["startTime"] for r in runs if r["startTime"] and r["endTime"]],
        first_run_start_after_launch=(min(starts) - launched_wall) if starts else float("nan"),
        run_span=(max(ends) - min(starts)) if starts and ends else float("nan"),
        run_ids=[r["runId"] for r in runs],
    )


@contextmanager
def running_deployment(name: str, work: Path, env: dict[str, str],
                       instance_yaml: str | None = None) -> Iterator[DagsterDeployment]:
    """A Dagster webserver + daemon under `work/name` (instance: `instance_yaml`, by default the shipped
    dagster.yaml), stopped on exit; its home is kept and its daemon log printed when the body fails."""
    started = DagsterDeployment(work / name, env=env, instance_yaml=instance_yaml or shipped_instance_yaml()).start()
    try:
        yield started
    except Exception:
        print(f"Dagster home kept for inspection: {started.home}\n{started.log_tail('daemon', 30)}")
        raise
    finally:
        started.stop()


def run_dagster_backfill(deployment: DagsterDeployment, emulator: EmulatorProcess, database_url: str,
                         raw_store: Path, start: datetime, days: int, timeout: float) -> BackfillResult:
    """All partitions of `days` days for both assets, one backfill launched as the UI's "Launch backfill" does,
    with the product's default backfill policy (WFM_BACKFILL_PARTITIONS_PER_RUN unset).

    CPU: every process of the deployment (webserver, daemon, their code servers, the run workers and what
    those start), from /proc before the launch and after the backfill is done (see `accounting`)."""
    engine = create_wfm_engine(database_url)
    ensure_schema(engine)  # as on the floor: a deployment migrates its database once, not per backfill
    engine.dispose()
    keys = partition_keys(start, days * PARTITIONS_PER_DAY)
    stored_before = stored_bytes(database_url, raw_store)
    emulator_before = emulator.cpu_seconds()
    with DeploymentSampler(deployment.dagster_home) as sampler:
        result = _launch_and_wait(deployment, keys, timeout)
    emulator_cpu = emulator.cpu_seconds() - emulator_before
    # The parts add up to the deployment's exact total.
    parts = {**sampler.cpu_by_role, UNATTRIBUTED: sampler.unattributed_cpu_seconds}
    result.cost = Cost(result.seconds, parts[RUN_WORKERS], parts, emulator_cpu,
                       stored_bytes(database_url, raw_store) - stored_before)
    result.instance_bytes = directory_bytes(deployment.dagster_home)
    result.sampled_peak_rss_mib = sampler.peak_mib or None
    result.run_workers_sampled = len(sampler.run_workers_seen)
    result.metadata_peak_rss_mib = metadata_peak_rss_mib(deployment, ASSETS)
    result.steps = step_seconds(deployment, result.run_ids)
    result.counts = stored_counts(database_url, raw_store, start, days)
    return result


@dataclass
class PerPartitionResult:
    sample: BackfillResult
    sample_partitions: int
    extrapolated_seconds: float  # to `target_partitions`
    target_partitions: int


def run_per_partition_sample(deployment: DagsterDeployment, start: datetime, sample_partitions: int,
                             target_partitions: int, timeout: float) -> PerPartitionResult:
    """One run per 15-minute partition on a sample, extrapolated to `target_partitions`.

    Extrapolation: the fixed part (launch -> first run started, and last run ended -> backfill done) is
    counted once; the span in which the sample's runs executed scales with the number of partitions.
    """
    sample = _launch_and_wait(deployment, partition_keys(start, sample_partitions), timeout)
    fixed = sample.seconds - sample.run_span
    extrapolated = fixed + sample.run_span * target_partitions / sample_partitions
    return PerPartitionResult(sample, sample_partitions, extrapolated, target_partitions)


def step_seconds(deployment: DagsterDeployment, run_ids: list[str]) -> dict[str, float]:
    """Seconds per step (summed over the runs), from the runs' step stats: where a run's time goes."""
    query = """query($id: ID!) { runOrError(runId: $id) { __typename
        ... on Run { stepStats { stepKey startTime endTime } } } }"""
    totals: dict[str, float] = {}
    for run_id in run_ids:
        for step in deployment.graphql(query, {"id": run_id})["runOrError"].get("stepStats") or []:
            if step["startTime"] and step["endTime"]:
                totals[step["stepKey"]] = totals.get(step["stepKey"], 0.0) + step["endTime"] - step["startTime"]
    return totals


def metadata_peak_rss_mib(deployment: DagsterDeployment, assets: list[str]) -> float | None:
    """The largest `peak_rss_mib` the assets recorded in their materialization metadata (event log)."""
    query = """query($key: AssetKeyInput!) { assetOrError(assetKey: $key) { __typename
        ... on Asset { assetMaterializations(limit: 5000) { runId metadataEntries { label
          ... on FloatMetadataEntry { floatValue } ... on IntMetadataEntry { intValue } } } } } }"""
    peaks = []
    for asset in assets:
        result = deployment.graphql(query, {"key": {"path": [asset]}})["assetOrError"]
        for event in result.get("assetMaterializations") or []:
            for entry in event["metadataEntries"]:
                if entry["label"] == "peak_rss_mib":
                    peaks.append(entry.get("floatValue") or entry.get("intValue") or 0)
    return max(peaks) if peaks else None
