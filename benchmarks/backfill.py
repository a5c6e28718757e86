"""Scenario 1 (backfill) and 5 (peak memory): Dagster's backfill path vs the plain-loop floor vs one run per
partition.

The Dagster side is a real `dagster-webserver` + `dagster-daemon` driven over GraphQL as the UI does, through
the test suite's harness (`wfm_pipelines_tests.dagster.harness`, imported on purpose: the benchmark drives
the same deployment the UI tests drive, and the harness itself does not import Dagster).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from benchmarks.environment import REPO_ROOT, EmulatorProcess, RunWorkerPeakSampler
from wfm_pipelines.collection import collectors
from wfm_pipelines.db import writer
from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema
from wfm_pipelines.settings import PARTITION_FORMAT
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.transforms import configuration
from wfm_pipelines_tests.dagster.harness import DagsterDeployment

ASSETS = ["contact_volume", "agent_state_transactions"]
INTERVAL = timedelta(minutes=15)
PARTITIONS_PER_DAY = 96


def partition_keys(start: datetime, count: int) -> list[str]:
    return [(start + INTERVAL * i).strftime(PARTITION_FORMAT) for i in range(count)]


def shipped_instance_yaml() -> str:
    """The repo's dagster.yaml as shipped: the harness's faster dequeue/monitoring tweaks are NOT kept, so
    the latencies measured are the ones a user of `make run` gets."""
    return (REPO_ROOT / "dagster.yaml").read_text()


def deployment_env(emulator: EmulatorProcess, database_url: str, history_start: datetime, **extra: str) -> dict:
    return {**emulator.deployment_env(), "WFM_DATABASE_URL": database_url,
            "WFM_HISTORY_START": history_start.strftime(PARTITION_FORMAT),
            # Schedules and sensors stay stopped: only what the benchmark launches runs (the healing sensor
            # would otherwise collect every missing interval since the history start on its own).
            "WFM_AUTOMATION": "off",
            # A failure fails the benchmark at once instead of hiding behind 30 s step-retry backoffs.
            "WFM_STEP_RETRIES": "0", **extra}


@dataclass
class Counts:
    contacts: int  # `calls` raw entries owned by the range (one per contact)
    status_records: int  # `user_status` raw entries owned by the range
    interval_rows: int
    transactions: int


def stored_counts(database_url: str, start: datetime, end: datetime) -> Counts:
    engine = sa.create_engine(database_url)
    window = {"start": start, "end": end}
    try:
        with engine.connect() as connection:
            def scalar(sql: str) -> int:
                return int(connection.execute(sa.text(sql), window).scalar_one())
            return Counts(
                contacts=scalar("select count(*) from talkdesk_raw_entry where report_type = 'calls' "
                                "and owner_at >= :start and owner_at < :end"),
                status_records=scalar("select count(*) from talkdesk_raw_entry where report_type = 'user_status' "
                                      "and owner_at >= :start and owner_at < :end"),
                interval_rows=scalar("select count(*) from wfm_contact_volume_interval "
                                     "where interval_start >= :start and interval_start < :end"),
                transactions=scalar("select count(*) from wfm_agent_state_transaction "
                                    "where state_end >= :start and state_end < :end"),
            )
    finally:
        engine.dispose()


@dataclass
class FloorResult:
    seconds: float
    counts: Counts
    day_seconds: list[float] = field(default_factory=list)


def run_floor(emulator: EmulatorProcess, database_url: str, start: datetime, days: int) -> FloorResult:
    """The same download, parse, aggregate and load in one plain loop, day by day, no orchestration."""
    end = start + timedelta(days=days)
    engine = create_wfm_engine(database_url)
    ensure_schema(engine)  # the Dagster runs migrate their database too; not timed on either side
    client = emulator.client()
    run_report = lambda kind, s, e: client.run_report(kind, s, e).entries  # noqa: E731 - as the assets do
    began = time.perf_counter()
    listing = client.list_queues()  # the asset lists queues from Talkdesk too while wfm_queue is empty
    queues = configuration.queues_frame(parsing.parse_queues(listing.queues, listing.source_kind))
    queues["active"] = True
    day_seconds = []
    for day in range(days):
        day_began = time.perf_counter()
        day_start, day_end = start + timedelta(days=day), start + timedelta(days=day + 1)
        volume = collectors.collect_contact_volume(run_report, engine, report_type="calls", queues=queues,
                                                   range_start=day_start, range_end=day_end)
        writer.replace_window(engine, "wfm_contact_volume_interval", volume.frame, window_start=day_start,
                              window_end=day_end, time_column="interval_start")
        del volume
        states = collectors.collect_agent_state_transactions(run_report, engine, range_start=day_start,
                                                             range_end=day_end)
        writer.replace_window(engine, "wfm_agent_state_transaction", states.frame, window_start=day_start,
                              window_end=day_end, time_column="state_end")
        del states
        day_seconds.append(time.perf_counter() - day_began)
    seconds = time.perf_counter() - began
    client.close()
    engine.dispose()
    return FloorResult(seconds, stored_counts(database_url, start, end), day_seconds)


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
def deployments(emulator: EmulatorProcess, urls: dict[str, str], work: Path, start: datetime
                ) -> Iterator[dict[str, DagsterDeployment]]:
    """The batched deployment (the product's default backfill policy) and the one-run-per-partition one
    (WFM_BACKFILL_PARTITIONS_PER_RUN=1), started at the same time to save one start-up; stopped on exit.
    The idle one's daemon keeps polling while the other is measured (a few % of a core)."""
    envs = {"batched": deployment_env(emulator, urls["dagster"], start),
            "per_partition": deployment_env(emulator, urls["per_partition"], start, WFM_BACKFILL_PARTITIONS_PER_RUN="1")}
    started = {name: DagsterDeployment(work / name, env=env, instance_yaml=shipped_instance_yaml())
               for name, env in envs.items()}
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(d.start) for d in started.values()]:
                future.result()
        yield started
    except Exception:
        for name, deployment in started.items():
            print(f"Dagster home kept for inspection: {deployment.home}\n{deployment.log_tail('daemon', 30)}")
        raise
    finally:
        for deployment in started.values():
            deployment.stop()


def run_dagster_backfill(deployment: DagsterDeployment, database_url: str, start: datetime, days: int,
                         timeout: float) -> BackfillResult:
    """All partitions of `days` days for both assets, one backfill launched as the UI's "Launch backfill" does,
    with the product's default backfill policy (WFM_BACKFILL_PARTITIONS_PER_RUN unset)."""
    keys = partition_keys(start, days * PARTITIONS_PER_DAY)
    with RunWorkerPeakSampler() as sampler:
        result = _launch_and_wait(deployment, keys, timeout)
    result.sampled_peak_rss_mib = sampler.peak_mib or None
    result.metadata_peak_rss_mib = metadata_peak_rss_mib(deployment, ASSETS)
    result.steps = step_seconds(deployment, result.run_ids)
    result.counts = stored_counts(database_url, start, start + timedelta(days=days))
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
