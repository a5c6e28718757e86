"""Helpers for the Dagster tests: resources pointed at a test emulator and database, and an independent
aggregation of emulator reports (plain loops, sharing no code with the product's transforms)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone

import pyarrow as pa
import requests

import dagster as dg

from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.definitions import build_definitions
from wfm_pipelines.defs.resources import build_resources
from wfm_pipelines.defs.talkdesk_resources import TalkdeskRealtimeResource, TalkdeskResource
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, Settings, load_settings


def settings_for_tests(**env: str) -> Settings:
    """The settings a user would set, read from `env` instead of the process environment; no step retries, so
    a failure shows at once."""
    return load_settings({"WFM_STEP_RETRIES": "0", "WFM_AUTOMATION": "off", **env})


def wfm_assets(settings: Settings | None = None) -> dict[str, dg.AssetsDefinition]:
    """The code location's assets by name, as `build_definitions()` makes them from `settings`."""
    defs = build_definitions(settings or settings_for_tests())
    return {spec.key.to_user_string(): defs.get_assets_def(spec.key) for spec in defs.resolve_all_asset_specs()}


ASSETS = wfm_assets()
agents, queues, queue_memberships = ASSETS["agents"], ASSETS["queues"], ASSETS["queue_memberships"]
contact_volume, agent_state_transactions = ASSETS["contact_volume"], ASSETS["agent_state_transactions"]
agent_state_snapshots = ASSETS["agent_state_snapshots"]
CONFIGURATION = [agents, queues, queue_memberships]


def raw_store_for(database_url: str) -> str:
    """The raw store directory of a test database: one per database (each test has its own), the same for every
    run against it."""
    return os.path.join(tempfile.gettempdir(), "wfm-test-raw-stores", hashlib.sha256(database_url.encode()).hexdigest()[:16])


def raw_entries_of(database_url: str, report_type: str) -> pa.Table:
    """Every raw entry of a report type kept for a test database (resources from `resources_for`)."""
    everything = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))
    return RawStore(raw_store_for(database_url)).read_window(get_engine(database_url), report_type, *everything,
                                                             account_id=DEFAULT_ACCOUNT_ID)


def resources_for(emulator_url: str, database_url: str, *, client_secret: str = EMULATOR_CLIENT_SECRET,
                  **env: str) -> dict:
    """The resources `build_definitions()` gives for these settings (`env`: more variables, e.g.
    `WFM_REPORT_TARGET_ENTRIES="150"`), with Talkdesk clients tuned for the emulator."""
    env.setdefault("WFM_RAW_STORE", raw_store_for(database_url))
    settings = settings_for_tests(TALKDESK_BASE_URL=emulator_url, TALKDESK_API_URL=emulator_url,
                                  WFM_DATABASE_URL=database_url, **env)
    # The emulator finishes a report in 0.2 s: poll it every 0.05 s at first, not every second.
    fast = dict(max_attempts=4, backoff_base_s=0.05, backoff_max_s=0.5, report_poll_timeout_s=60,
                report_poll_initial_s=0.05)
    return {
        **build_resources(settings),
        "talkdesk": TalkdeskResource(base_url=emulator_url, api_url=emulator_url, client_id=EMULATOR_CLIENT_ID,
                                     client_secret=client_secret, **fast),
        "talkdesk_realtime": TalkdeskRealtimeResource(base_url=emulator_url, api_url=emulator_url,
                                                      client_id=EMULATOR_CLIENT_ID, client_secret=client_secret, **fast),
    }


def fetch_report(url: str, report_type: str, start: datetime, end: datetime, report_format: str = "json", *,
                 client_id: str = EMULATOR_CLIENT_ID, client_secret: str = EMULATOR_CLIENT_SECRET) -> list[dict]:
    """Run one Explore report over plain HTTP, the way the docs describe it (CSV rows as dicts of text)."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    token = requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": f"Basic {basic}"}, timeout=10).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    body = {"format": report_format, "timezone": "UTC", "timespan": {
        "from": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": end.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    job = requests.post(f"{url}/data/reports/{report_type}/jobs", json=body, headers=auth, timeout=10).json()["job"]
    for _ in range(600):
        status = requests.get(f"{url}/data/reports/{report_type}/jobs/{job['id']}", headers=auth,
                              allow_redirects=False, timeout=10)
        if status.status_code == 303:
            break
        time.sleep(0.05)
    file_redirect = requests.get(f"{url}/data/reports/{report_type}/files/{job['id']}", headers=auth,
                                 allow_redirects=False, timeout=10)
    location = file_redirect.headers["Location"]
    download = requests.get(location if location.startswith("http") else url + location, timeout=60)
    if report_format == "csv":
        return [{key: value for key, value in row.items() if value != ""}
                for row in csv.DictReader(io.StringIO(download.content.decode("utf-8")))]
    return download.json()["entries"]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def expected_volume(entries: list[dict], start: datetime, end: datetime) -> dict[tuple[str, datetime], dict]:
    """The counting rules (docs/counting-rules.md) for the `calls` report, written out longhand: (queue, interval) -> totals."""
    totals: dict = defaultdict(lambda: {"entered": 0, "handled": 0, "abandoned": 0, "handle": 0.0})
    for entry in entries:
        started = _utc(entry["start_at"])
        if not start <= started < end or entry["type"] in ("outbound", "outbound_missed"):
            continue
        interval = started.replace(minute=started.minute // 15 * 15, second=0, microsecond=0)
        groups = [g.strip() for g in (entry.get("ring_groups") or "").split(",") if g.strip()] or ["_unassigned"]
        for queue in groups:
            row = totals[(queue, interval)]
            if entry["type"] in ("inbound", "abandoned", "missed", "voicemail"):
                row["entered"] += 1
            if entry["type"] == "inbound":
                row["handled"] += 1
                row["handle"] += float(entry.get("talk_time") or 0) + float(entry.get("hold_time") or 0)
            if entry["type"] == "abandoned":
                row["abandoned"] += 1
    return dict(totals)
