"""Drive a real `dagster-webserver` and `dagster-daemon` over GraphQL, the way the Dagster UI does.

`DagsterDeployment(home, module=...)` writes an instance `dagster.yaml` and a `workspace.yaml` to
`home/instance` (the `DAGSTER_HOME`), starts the webserver (free 127.0.0.1 port) and the daemon as
subprocesses in their own process groups, and waits until the code location is LOADED and every required daemon
heartbeats. All actions go through `{url}/graphql` with the UI's own mutations:

- backfill: `launchPartitionBackfill(backfillParams: {assetSelection, partitionNames, fromFailure: false})`,
  exactly what the UI's "Materialize -> Launch backfill" sends for assets (ranges are expanded to
  partition names, as the UI's range picker does);
- "re-execute from failure" on the backfill page: `reexecutePartitionBackfill(reexecutionParams:
  {parentRunId: <backfill id>, strategy: FROM_FAILURE})`. Dagster rejects `fromFailure: true` on a
  pure asset backfill ("fromFailure is not supported for pure asset backfills");
- `launchRun`, `terminateRun`, `startSensor` / `stopSensor`, `startSchedule` / `stopRunningSchedule`.

Latency (Dagster 1.13, fixed in code, not configurable): the backfill daemon runs one iteration, then
sleeps `30 s - iteration time` (`dagster._daemon.controller.DEFAULT_DAEMON_INTERVAL_SECONDS`). A new
backfill therefore waits 0-30 s for its runs to be requested, and a backfill whose runs have all
finished waits up to another 30 s to be marked COMPLETED_*; expect about 30-75 s for a small backfill.
Tests pass `backfill_interval_seconds` to start the daemon through `daemon_with_backfill_interval`, which
sets that constant before the daemon starts (the benchmarks keep Dagster's 30 s).
Queued runs are dequeued every `run_queue.dequeue_interval_seconds` (set to 1 s here; Dagster default 5 s).
The sensor daemon evaluates a sensor at most every `minimum_interval_seconds` (loop floor 5 s);
schedules tick on their cron.

Instance tweaks over the repo's `dagster.yaml` (concurrency limits kept as they are, storage is
Dagster's default SQLite under `home/instance`): `run_monitoring.poll_interval_seconds: 5`,
`run_queue.dequeue_interval_seconds: 1`. The output of both processes lands in `home/logs/webserver.log`
and `home/logs/daemon.log`, not in `$DAGSTER_HOME/logs`: the webserver moves that folder away and
uploads its files to Dagster's telemetry endpoint, whatever `telemetry.enabled` says (Dagster 1.13,
`dagster._core.telemetry_upload`); `DAGSTER_DISABLE_TELEMETRY=1` is set to stop that too.

This module does not import dagster: it only speaks HTTP to the webserver.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
TERMINAL_BACKFILL_STATUSES = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"})
FINISHED_RUN_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
UNFINISHED_RUN_STATUSES = ["QUEUED", "NOT_STARTED", "MANAGED", "STARTING", "STARTED", "CANCELING"]
# assetPartitionStatuses range status -> what partition_statuses() reports
_RANGE_STATUS = {"MATERIALIZED": "MATERIALIZED", "FAILED": "FAILED", "MATERIALIZING": "IN_PROGRESS"}
_ERROR_FIELDS = "__typename ... on Error { message } ... on PythonError { stack }"
# The tests' backfill daemon interval: a backfill's runs are requested, and it is marked finished, within ~2 s.
QUICK_BACKFILL_INTERVAL_SECONDS = 2


class DagsterGraphQLError(RuntimeError):
    """A GraphQL error, or a mutation/query that answered with an error type instead of a result."""


def default_instance_yaml() -> str:
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config.setdefault("run_monitoring", {})["poll_interval_seconds"] = 5
    config.setdefault("run_queue", {})["dequeue_interval_seconds"] = 1
    return yaml.safe_dump(config, sort_keys=False)


def _free_port() -> int:
    """A free port below the kernel's ephemeral range, so that between this check and the webserver's bind no
    outgoing connection or `bind(port 0)` (an emulator, another pytest worker's tests) can be given it."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768  # Linux's default
    candidates = range(10000, ephemeral_low)
    for port in [*random.sample(candidates, min(200, len(candidates))), 0]:  # 0: any free port, as a last resort
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def _key_input(asset_key: str) -> dict:
    return {"path": asset_key.split("/")}


def _unwrap(result: dict, expected: str, what: str) -> dict:
    if result["__typename"] != expected:
        details = result.get("message") or result.get("errors") or result
        raise DagsterGraphQLError(f"{what}: {result['__typename']}: {details}\n{''.join(result.get('stack') or [])}")
    return result


class DagsterDeployment:
    """A webserver and a daemon serving one code location (`module`), driven over GraphQL.

    `home/instance` is the DAGSTER_HOME (instance yaml, workspace.yaml, SQLite storage);
    `home/logs/{webserver,daemon}.log` hold the processes' output. `env` is added to the environment
    of both processes and so reaches the code servers and run workers they start.
    `backfill_interval_seconds` replaces the backfill daemon's fixed 30 s loop interval (None keeps it).
    """

    def __init__(self, home: Path, *, module: str = "wfm_pipelines.definitions", env: dict[str, str] | None = None,
                 instance_yaml: str | None = None, location_name: str = "wfm_pipelines",
                 startup_timeout: float = 180, backfill_interval_seconds: float | None = None):
        self.home = Path(home).resolve()
        self.dagster_home = self.home / "instance"
        self.module = module
        self.env = dict(env or {})
        self.instance_yaml = instance_yaml if instance_yaml is not None else default_instance_yaml()
        self.location_name = location_name
        self.startup_timeout = startup_timeout
        self.backfill_interval_seconds = backfill_interval_seconds
        self.url = ""
        self.repository_name = ""
        self._processes: dict[str, subprocess.Popen] = {}
        self._log_files: list[Any] = []
        self._session = requests.Session()

    # ---- life cycle -------------------------------------------------------------------------------
    def start(self, *, daemon: bool = True) -> DagsterDeployment:
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        (self.dagster_home / "dagster.yaml").write_text(self.instance_yaml)
        workspace = self.dagster_home / "workspace.yaml"
        workspace.write_text(yaml.safe_dump({"load_from": [{"python_module": {
            "module_name": self.module, "location_name": self.location_name,
            "working_directory": str(REPO_ROOT)}}]}))
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + self.startup_timeout
            self._spawn("webserver", ["-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port), "-w", str(workspace)])
            # The daemon only once the webserver has created the SQLite storage: two processes
            # migrating a fresh instance at once fail ("table ... already exists").
            self._wait_for_location(deadline)
            if daemon:
                launcher = (["-m", "dagster._daemon"] if self.backfill_interval_seconds is None else
                            ["-m", "dagster_harness.daemon_with_backfill_interval",
                             str(self.backfill_interval_seconds)])
                self._spawn("daemon", [*launcher, "run", "-w", str(workspace)])
                self._wait_for_daemon_heartbeats(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name, process in self._processes.items():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for name, process in self._processes.items():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            # the group may still hold a code server or run worker after its leader exited
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._processes.clear()
        for handle in self._log_files:
            handle.close()
        self._log_files.clear()

    def __enter__(self) -> DagsterDeployment:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def log_tail(self, name: str, lines: int = 60) -> str:
        path = self.home / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _spawn(self, name: str, args: list[str]) -> None:
        # DAGSTER_DISABLE_TELEMETRY also stops the webserver's upload of $DAGSTER_HOME/logs to Dagster.
        env = {**os.environ, **self.env, "DAGSTER_HOME": str(self.dagster_home), "PYTHONUNBUFFERED": "1",
               "DAGSTER_DISABLE_TELEMETRY": "1"}
        log = open(self.home / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._log_files.append(log)
        self._processes[name] = subprocess.Popen([sys.executable, *args], cwd=REPO_ROOT, env=env, stdout=log,
                                                 stderr=subprocess.STDOUT, start_new_session=True)

    def _check_alive(self) -> None:
        for name, process in self._processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"dagster {name} exited with {process.returncode}:\n{self.log_tail(name)}")

    def _wait_for_location(self, deadline: float) -> None:
        query = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
            locationOrLoadError { __typename ... on RepositoryLocation { repositories { name } }
            ... on PythonError { message stack } } } } ... on PythonError { message } } }"""
        last = "webserver not answering"
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                workspace = _unwrap(self.graphql(query)["workspaceOrError"], "Workspace", "workspaceOrError")
            except requests.ConnectionError:
                time.sleep(0.5)
                continue
            entry = next((e for e in workspace["locationEntries"] if e["name"] == self.location_name), None)
            loaded = entry and entry["loadStatus"] == "LOADED" and entry["locationOrLoadError"]
            if loaded and loaded["__typename"] == "PythonError":
                raise DagsterGraphQLError(f"code location {self.location_name} failed to load: "
                                          f"{loaded['message']}\n{''.join(loaded['stack'])}")
            if loaded:
                names = [r["name"] for r in loaded["repositories"]]
                self.repository_name = "__repository__" if "__repository__" in names else names[0]
                return
            last = f"location entry: {entry}"
            time.sleep(0.5)
        raise TimeoutError(f"code location not loaded in {self.startup_timeout}s ({last}):\n{self.log_tail('webserver')}")

    def _wait_for_daemon_heartbeats(self, deadline: float) -> None:
        query = "{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy lastHeartbeatTime } } } }"
        unhealthy: list[str] = []
        while time.monotonic() < deadline:
            self._check_alive()
            statuses = self.graphql(query)["instance"]["daemonHealth"]["allDaemonStatuses"]
            unhealthy = [s["daemonType"] for s in statuses if s["required"] and not s["healthy"]]
            if not unhealthy:
                return
            time.sleep(1)
        raise TimeoutError(f"daemons without heartbeat: {unhealthy}:\n{self.log_tail('daemon')}")

    # ---- GraphQL ----------------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = self._session.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                                      timeout=120)
        try:
            body = response.json()
        except ValueError:
            raise DagsterGraphQLError(f"HTTP {response.status_code}: {response.text[:2000]}") from None
        if body.get("errors"):
            raise DagsterGraphQLError("; ".join(e.get("message", str(e)) for e in body["errors"]))
        if body.get("data") is None:  # a typed error (PythonError) comes as data with HTTP 500
            raise DagsterGraphQLError(f"HTTP {response.status_code}: {response.text[:2000]}")
        return body["data"]

    def _repository_selector(self) -> dict:
        return {"repositoryLocationName": self.location_name, "repositoryName": self.repository_name}

    # ---- backfills --------------------------------------------------------------------------------
    def launch_partition_backfill(self, asset_keys: list[str], partition_names: list[str] | None = None, *,
                                  range: tuple[str, str] | None = None, from_failure: bool = False,  # noqa: A002
                                  tags: dict[str, str] | None = None, title: str | None = None) -> str:
        """Returns the backfill id. `range` is inclusive and expanded to the asset's partition names."""
        if (partition_names is None) == (range is None):
            raise ValueError("give exactly one of partition_names or range")
        if range is not None:
            keys = self.partition_keys(asset_keys[0])
            start, end = keys.index(range[0]), keys.index(range[1])
            partition_names = keys[start:end + 1]
        params: dict[str, Any] = {
            "assetSelection": [_key_input(k) for k in asset_keys], "partitionNames": partition_names,
            "fromFailure": from_failure, "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}
        if title:
            params["title"] = title
        query = f"""mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {{
            launchPartitionBackfill(backfillParams: $backfillParams) {{ {_ERROR_FIELDS}
              ... on LaunchBackfillSuccess {{ backfillId }}
              ... on RunConfigValidationInvalid {{ errors {{ message }} }} }} }}"""
        result = self.graphql(query, {"backfillParams": params})["launchPartitionBackfill"]
        return _unwrap(result, "LaunchBackfillSuccess", "launchPartitionBackfill")["backfillId"]

    def reexecute_backfill(self, backfill_id: str, strategy: str = "FROM_FAILURE") -> str:
        """The backfill page's "Re-execute" (FROM_FAILURE: only what did not materialize; ALL_STEPS)."""
        query = f"""mutation reexecuteBackfill($reexecutionParams: ReexecutionParams!) {{
            reexecutePartitionBackfill(reexecutionParams: $reexecutionParams) {{ {_ERROR_FIELDS}
              ... on LaunchBackfillSuccess {{ backfillId }} }} }}"""
        result = self.graphql(query, {"reexecutionParams": {"parentRunId": backfill_id, "strategy": strategy}})
        return _unwrap(result["reexecutePartitionBackfill"], "LaunchBackfillSuccess", "reexecutePartitionBackfill")["backfillId"]

    def backfill(self, backfill_id: str) -> dict:
        """id, status, num_partitions, partition_names, tags, created_at, ended_at (epoch s), error,
        runs [{runId, status, startTime, endTime}], run_ids."""
        query = f"""query($id: String!) {{ partitionBackfillOrError(backfillId: $id) {{ {_ERROR_FIELDS}
            ... on PartitionBackfill {{ id status numPartitions partitionNames tags {{ key value }}
              timestamp endTimestamp runs {{ runId status startTime endTime }} error {{ message stack }} }} }} }}"""
        result = _unwrap(self.graphql(query, {"id": backfill_id})["partitionBackfillOrError"], "PartitionBackfill",
                         "partitionBackfillOrError")
        return {"id": result["id"], "status": result["status"], "num_partitions": result["numPartitions"],
                "partition_names": result["partitionNames"], "tags": {t["key"]: t["value"] for t in result["tags"]},
                "created_at": result["timestamp"], "ended_at": result["endTimestamp"],
                "runs": result["runs"], "run_ids": [r["runId"] for r in result["runs"]],
                "error": result["error"]["message"] if result["error"] else None}

    def wait_for_backfill(self, backfill_id: str, timeout: float = 300) -> dict:
        """Polls until the backfill is terminal and all its runs finished; returns `backfill()`."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            state = self.backfill(backfill_id)
            runs_finished = all(r["status"] in FINISHED_RUN_STATUSES for r in state["runs"])
            if state["status"] in TERMINAL_BACKFILL_STATUSES and runs_finished:
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"backfill {backfill_id} not finished in {timeout}s: {state}\n{self.log_tail('daemon')}")
            time.sleep(1)

    # ---- runs -------------------------------------------------------------------------------------
    def runs(self, *, tags: dict | None = None, statuses: list[str] | None = None,
             run_ids: list[str] | None = None) -> list[dict]:
        """Newest first: runId, status, jobName, tags (dict), assetSelection (["a/b", ...])."""
        run_filter: dict[str, Any] = {}
        if run_ids:
            run_filter["runIds"] = run_ids
        if tags:
            run_filter["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        if statuses:
            run_filter["statuses"] = statuses
        query = f"""query($filter: RunsFilter) {{ runsOrError(filter: $filter) {{ {_ERROR_FIELDS}
            ... on Runs {{ results {{ runId status jobName tags {{ key value }} assetSelection {{ path }} }} }} }} }}"""
        results = _unwrap(self.graphql(query, {"filter": run_filter})["runsOrError"], "Runs", "runsOrError")["results"]
        return [{"runId": r["runId"], "status": r["status"], "jobName": r["jobName"],
                 "tags": {t["key"]: t["value"] for t in r["tags"]},
                 "assetSelection": ["/".join(k["path"]) for k in r["assetSelection"] or []]} for r in results]

    def wait_for_runs_finished(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while unfinished := self.runs(statuses=UNFINISHED_RUN_STATUSES):
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"runs not finished in {timeout}s: {unfinished}")
            time.sleep(1)

    def wait_for_run(self, run_id: str, statuses: frozenset[str] | set[str] = FINISHED_RUN_STATUSES,
                     timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = next(iter(self.runs(run_ids=[run_id])), None)
            if run and run["status"] in statuses:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} not in {sorted(statuses)} after {timeout}s: {run}")
            time.sleep(0.5)

    def launch_run(self, job_name: str, *, tags: dict | None = None, asset_keys: list[str] | None = None,
                   run_config: dict | None = None) -> str:
        selector: dict[str, Any] = {**self._repository_selector(), "jobName": job_name}
        if asset_keys:
            selector["assetSelection"] = [_key_input(k) for k in asset_keys]
        params = {"selector": selector, "runConfigData": run_config or {},
                  "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}}
        query = f"""mutation LaunchRun($executionParams: ExecutionParams!) {{
            launchRun(executionParams: $executionParams) {{ {_ERROR_FIELDS}
              ... on LaunchRunSuccess {{ run {{ runId }} }}
              ... on RunConfigValidationInvalid {{ errors {{ message }} }} }} }}"""
        result = self.graphql(query, {"executionParams": params})["launchRun"]
        return _unwrap(result, "LaunchRunSuccess", "launchRun")["run"]["runId"]

    def terminate_run(self, run_id: str) -> None:
        query = f"""mutation Terminate($runId: String!) {{ terminateRun(runId: $runId) {{ {_ERROR_FIELDS}
            ... on TerminateRunFailure {{ message }} }} }}"""
        _unwrap(self.graphql(query, {"runId": run_id})["terminateRun"], "TerminateRunSuccess", "terminateRun")

    # ---- assets -----------------------------------------------------------------------------------
    def _asset_node(self, asset_key: str, fields: str) -> dict:
        query = f"""query($key: AssetKeyInput!) {{ assetNodeOrError(assetKey: $key) {{ __typename ... on Error {{ message }}
            ... on AssetNode {{ {fields} }} }} }}"""
        return _unwrap(self.graphql(query, {"key": _key_input(asset_key)})["assetNodeOrError"], "AssetNode",
                       f"assetNodeOrError({asset_key})")

    def partition_keys(self, asset_key: str) -> list[str]:
        return self._asset_node(asset_key, "partitionKeys")["partitionKeys"]

    def partition_statuses(self, asset_key: str) -> dict[str, str]:
        """Every partition key -> MATERIALIZED / FAILED / IN_PROGRESS / MISSING, as the UI's health bar."""
        node = self._asset_node(asset_key, """partitionKeys assetPartitionStatuses { __typename
            ... on TimePartitionStatuses { ranges { startKey endKey status } }
            ... on DefaultPartitionStatuses { materializedPartitions failedPartitions materializingPartitions } }""")
        keys, statuses = node["partitionKeys"], node["assetPartitionStatuses"]
        result = dict.fromkeys(keys, "MISSING")
        if statuses["__typename"] == "TimePartitionStatuses":
            position = {key: i for i, key in enumerate(keys)}
            for span in statuses["ranges"]:  # endKey is inclusive
                for key in keys[position[span["startKey"]]:position[span["endKey"]] + 1]:
                    result[key] = _RANGE_STATUS[span["status"]]
        elif statuses["__typename"] == "DefaultPartitionStatuses":
            for field, status in (("materializedPartitions", "MATERIALIZED"), ("failedPartitions", "FAILED"),
                                  ("materializingPartitions", "IN_PROGRESS")):
                result.update(dict.fromkeys(statuses[field], status))
        else:
            raise DagsterGraphQLError(f"{asset_key}: {statuses['__typename']} partition statuses are not supported")
        return result

    # ---- schedules and sensors --------------------------------------------------------------------
    def _instigator(self, kind: str, name: str) -> dict:
        field, selector_type, state = (("sensorOrError", "SensorSelector", "sensorState") if kind == "sensor"
                                       else ("scheduleOrError", "ScheduleSelector", "scheduleState"))
        query = f"""query($selector: {selector_type}!) {{ {field}({kind}Selector: $selector) {{ {_ERROR_FIELDS}
            ... on {kind.title()} {{ {state} {{ id status ticks(limit: 100) {{ tickId status timestamp runIds
              skipReason error {{ message }} }} }} }} }} }}"""
        selector = {**self._repository_selector(), f"{kind}Name": name}
        return _unwrap(self.graphql(query, {"selector": selector})[field], kind.title(), f"{field}({name})")[state]

    def sensor_status(self, name: str) -> str:
        return self._instigator("sensor", name)["status"]

    def schedule_status(self, name: str) -> str:
        return self._instigator("schedule", name)["status"]

    def set_sensor_running(self, name: str, running: bool) -> None:
        if running:
            query = f"""mutation($selector: SensorSelector!) {{ startSensor(sensorSelector: $selector) {{
                {_ERROR_FIELDS} }} }}"""
            selector = {**self._repository_selector(), "sensorName": name}
            _unwrap(self.graphql(query, {"selector": selector})["startSensor"], "Sensor", f"startSensor({name})")
        else:
            query = f"mutation($id: String!) {{ stopSensor(id: $id) {{ {_ERROR_FIELDS} }} }}"
            state_id = self._instigator("sensor", name)["id"]
            _unwrap(self.graphql(query, {"id": state_id})["stopSensor"], "StopSensorMutationResult", f"stopSensor({name})")

    def set_schedule_running(self, name: str, running: bool) -> None:
        if running:
            query = f"""mutation($selector: ScheduleSelector!) {{ startSchedule(scheduleSelector: $selector) {{
                {_ERROR_FIELDS} }} }}"""
            selector = {**self._repository_selector(), "scheduleName": name}
            _unwrap(self.graphql(query, {"selector": selector})["startSchedule"], "ScheduleStateResult",
                    f"startSchedule({name})")
        else:
            query = f"mutation($id: String!) {{ stopRunningSchedule(id: $id) {{ {_ERROR_FIELDS} }} }}"
            state_id = self._instigator("schedule", name)["id"]
            _unwrap(self.graphql(query, {"id": state_id})["stopRunningSchedule"], "ScheduleStateResult",
                    f"stopRunningSchedule({name})")

    def sensor_ticks(self, name: str) -> list[dict]:
        return self._ticks(self._instigator("sensor", name))

    def schedule_ticks(self, name: str) -> list[dict]:
        return self._ticks(self._instigator("schedule", name))

    @staticmethod
    def _ticks(state: dict) -> list[dict]:
        """Newest first: tickId, status (STARTED/SKIPPED/SUCCESS/FAILURE), timestamp, runIds, skipReason, error."""
        return [{**tick, "error": tick["error"]["message"] if tick["error"] else None} for tick in state["ticks"]]
