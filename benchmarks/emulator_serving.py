"""What serving one day of reports costs the emulator: CPU seconds of the emulator process, read from /proc.

The emulator runs as its own process (`EmulatorProcess`) on the cores the pipeline uses, so its CPU per
day served is CPU the pipeline does not get. This drives the Explore job life cycle over plain HTTP the way
the pipeline asks for a day: `calls` over the day plus the longest contact (4 h) past it, and `user_status`
over the day, each in chunks of `chunk_hours`. The same day is served twice: the first pass generates and
renders, the second shows what the emulator's caches save.

`python -m benchmarks.emulator_serving [--quick] [--format csv|json] [--chunk-hours N]`
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

from benchmarks.environment import LARGE_CENTER, QUICK_CENTER, Center, EmulatorProcess
from wfm_pipelines.settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from wfm_pipelines.talkdesk.auth import HISTORICAL_SCOPES

LONGEST_CONTACT = timedelta(hours=4)
# A Wednesday well in the past (the emulator serves nothing newer than its data delay).
DEFAULT_DAY = date(2026, 3, 4)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # the command name may contain spaces: skip past it
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def day_requests(day: date, chunk_hours: float) -> list[tuple[str, datetime, datetime]]:
    """(report type, from, to) of every report the pipeline asks for one day, in the order it asks."""
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    chunk = timedelta(hours=chunk_hours)
    wanted = []
    for report_type, end in (("calls", start + timedelta(days=1) + LONGEST_CONTACT),
                             ("user_status", start + timedelta(days=1))):
        piece_start = start
        while piece_start < end:
            piece_end = min(piece_start + chunk, end)
            wanted.append((report_type, piece_start, piece_end))
            piece_start = piece_end
    return wanted


class ReportDownloader:
    """Create a job, poll it until done, follow the redirects, download the file: plain requests."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        token = self.http.post(f"{url}/oauth/token", auth=(EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET),
                               data={"grant_type": "client_credentials", "scope": " ".join(HISTORICAL_SCOPES)})
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def report(self, report_type: str, start: datetime, end: datetime, report_format: str) -> bytes:
        body = {"name": f"bench-{report_type}", "format": report_format, "timezone": "UTC",
                "timespan": {"from": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": end.strftime("%Y-%m-%dT%H:%M:%SZ")}}
        created = self.http.post(f"{self.url}/data/reports/{report_type}/jobs", json=body, headers=self.headers)
        created.raise_for_status()
        job_id = created.json()["job"]["id"]
        while True:
            status = self.http.get(f"{self.url}/data/reports/{report_type}/jobs/{job_id}", headers=self.headers,
                                   allow_redirects=False)
            if status.status_code == 303:
                break
            if status.json()["job"]["status"] == "failed":
                raise RuntimeError(f"report job {job_id} failed")
            time.sleep(0.05)
        located = self.http.get(f"{self.url}{status.headers['Location']}", headers=self.headers,
                                allow_redirects=False)
        # The presigned URL is fetched without the bearer token, as from an object store.
        download = requests.get(located.headers["Location"])
        download.raise_for_status()
        return download.content

    def close(self) -> None:
        self.http.close()


def count_entries(body: bytes, report_format: str) -> int:
    if report_format == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode()))) - 1  # less the header row
    return len(json.loads(body)["entries"])


def serve_day(emulator: EmulatorProcess, day: date, report_format: str, chunk_hours: float) -> dict[str, Any]:
    downloader = ReportDownloader(emulator.url)
    pid = emulator._process.pid  # noqa: SLF001 - EmulatorProcess (environment.py) does not expose its pid
    cpu_before, wall_before = process_cpu_seconds(pid), time.perf_counter()
    entries = size = reports = 0
    try:
        for report_type, start, end in day_requests(day, chunk_hours):
            body = downloader.report(report_type, start, end, report_format)
            # Counting parses the body in this process: its CPU is not the emulator's, its wall time is left out.
            paused = time.perf_counter()
            entries += count_entries(body, report_format)
            size += len(body)
            reports += 1
            wall_before += time.perf_counter() - paused
    finally:
        downloader.close()
    return {"emulator_cpu_s": round(process_cpu_seconds(pid) - cpu_before, 2),
            "wall_s": round(time.perf_counter() - wall_before, 2), "reports": reports, "entries": entries,
            "bytes": size, "emulator_peak_rss_mib": round(process_peak_rss_mib(pid))}


def measure_emulator_serving(center: Center, day: date, report_format: str, chunk_hours: float,
                             passes: int = 2) -> dict[str, Any]:
    """Emulator CPU, wall time, entries and bytes of serving `day` of `center` in `report_format`.

    The top-level figures are the first pass (a fresh emulator: generation and rendering included); `passes`
    lists every pass, the later ones showing what the emulator's caches save.
    """
    with tempfile.TemporaryDirectory() as scratch:
        emulator = EmulatorProcess(center, Path(scratch) / "emulator.log", report_processing_seconds=0.0)
        try:
            emulator.wait_ready(timeout=120)
            results = [serve_day(emulator, day, report_format, chunk_hours) for _ in range(passes)]
        finally:
            emulator.stop()
    return {"center": center.name, "day": day.isoformat(), "format": report_format, "chunk_hours": chunk_hours,
            **results[0], "passes": results}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulator_serving", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the quick center instead of the large one")
    parser.add_argument("--format", dest="formats", action="append", choices=("csv", "json"),
                        help="repeatable; both by default")
    parser.add_argument("--chunk-hours", type=float, default=6.0, help="6 h: about 50k entries per report")
    parser.add_argument("--day", type=date.fromisoformat, default=DEFAULT_DAY)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args(argv)
    center = QUICK_CENTER if args.quick else LARGE_CENTER
    for report_format in args.formats or ("csv", "json"):
        print(json.dumps(measure_emulator_serving(center, args.day, report_format, args.chunk_hours, args.passes)),
              flush=True)


if __name__ == "__main__":
    main()
