"""The UI surface of the code location, held as a snapshot: asset keys with their groups, partitions, pools and
kinds; asset checks (blocking or not); jobs and what they select; schedules, sensors and their default status; the
resources. Two deployments: one without an accounts file (the single unprefixed account) and one with three
accounts, one of them paused. A change that alters what an operator sees in the Dagster UI fails here and shows the
difference; when the change is meant, regenerate with `python -m wfm_pipelines_tests.defs.test_ui_surface --write`.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from pathlib import Path

import dagster as dg

from wfm_pipelines_tests.defs.support import settings_for_tests

SNAPSHOT = Path(__file__).with_name("ui_surface.json")

THREE_ACCOUNTS = textwrap.dedent("""\
    accounts:
      - id: north
        name: North Center
        historical: {base_url: https://north.talkdeskid.com, api_url: https://api.talkdeskapp.com,
                     client_id: north-client, client_secret_env: SURFACE_SECRET}
      - id: south
        historical: {base_url: https://south.talkdeskid.com, api_url: https://api.talkdeskapp.com,
                     client_id: south-client, client_secret_env: SURFACE_SECRET}
        realtime: {client_id: south-realtime, client_secret_env: SURFACE_SECRET}
      - id: paused
        enabled: false
        historical: {base_url: https://paused.talkdeskid.com, api_url: https://api.talkdeskapp.com,
                     client_id: paused-client, client_secret_env: SURFACE_SECRET}
    """)


def _partitions(definition) -> str | None:
    if definition is None:
        return None
    described = type(definition).__name__
    cron = getattr(definition, "cron_schedule", None)
    start = getattr(definition, "start", None)
    return f"{described} {cron} from {start.isoformat()}" if cron else described


def surface_of(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": _partitions(node.partitions_def),
            "pools": sorted(node.pools or []),
            "kinds": sorted(node.kinds),
            "depends_on": sorted(parent.to_user_string() for parent in node.parent_keys),
            "automation": type(node.automation_condition).__name__ if node.automation_condition else None,
            "backfill_policy": str(node.backfill_policy) if node.backfill_policy else None,
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        spec = graph.get_check_spec(check_key)
        checks[check_key.to_user_string()] = {"blocking": spec.blocking}
    repository = defs.get_repository_def()
    jobs = {}
    for job in sorted(repository.get_all_jobs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        jobs[job.name] = {
            "partitioned": job.partitions_def is not None,
            "assets": sorted(key.to_user_string() for key in job.asset_layer.selected_asset_keys),
            "tags": {k: v for k, v in sorted(job.tags.items())},
        }
    schedules = {s.name: {"cron": s.cron_schedule, "job": s.job_name, "default_status": s.default_status.value,
                          "timezone": s.execution_timezone} for s in repository.schedule_defs}
    sensors = {s.name: {"jobs": sorted(j.name for j in s.jobs) if s.has_jobs else [],
                        "default_status": s.default_status.value, "interval_s": s.minimum_interval_seconds,
                        "description": s.description} for s in repository.sensor_defs}
    return {"assets": assets, "checks": checks, "jobs": jobs, "schedules": dict(sorted(schedules.items())),
            "sensors": dict(sorted(sensors.items())), "resources": sorted(repository.get_top_level_resources())}


def current_surface() -> dict:
    from wfm_pipelines.definitions import build_definitions

    with tempfile.TemporaryDirectory() as folder:
        accounts = Path(folder) / "accounts.yaml"
        accounts.write_text(THREE_ACCOUNTS)
        deployments = {
            "without_accounts_file": settings_for_tests(WFM_AUTOMATION="on"),
            "three_accounts": settings_for_tests(WFM_AUTOMATION="on", WFM_ACCOUNTS_FILE=str(accounts),
                                                 SURFACE_SECRET="not-shown"),
        }
        return {name: surface_of(build_definitions(settings)) for name, settings in deployments.items()}


def test_the_ui_surface_equals_the_snapshot():
    expected = json.loads(SNAPSHOT.read_text())
    actual = json.loads(json.dumps(current_surface()))
    for deployment in expected:
        for part in expected[deployment]:
            assert actual[deployment][part] == expected[deployment][part], (deployment, part)
    assert actual == expected


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    SNAPSHOT.write_text(json.dumps(current_surface(), indent=1, sort_keys=True) + "\n")
