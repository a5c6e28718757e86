"""No test picks its data from the wall clock without saying why: the suite must pass whatever day and hour it
runs at (`reference_day.py`). A read of the clock is allowed where a comment on its line, or on one of the three
lines above it, gives the reason (the clock is the subject, a file's age, a record's time)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
TEST_TREES = ("wfm_pipelines_tests", "talkdesk_emulator_tests")
CLOCK_READ = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|Timestamp\.now|Timestamp\.utcnow)\(")


def unexplained_clock_reads(source: str) -> list[int]:
    lines = source.splitlines()
    return [number for number, line in enumerate(lines, 1)
            if CLOCK_READ.search(line.split("#")[0])
            and not any("#" in earlier for earlier in [line, *lines[max(0, number - 4):number - 1]])]


def test_every_read_of_the_wall_clock_in_the_tests_says_why():
    found = {str(path.relative_to(REPOSITORY)): lines for tree in TEST_TREES
             for path in sorted((REPOSITORY / tree).rglob("*.py")) if path.name != Path(__file__).name
             if (lines := unexplained_clock_reads(path.read_text()))}
    assert found == {}


def test_a_read_without_a_reason_is_found_and_one_with_a_reason_is_not():
    assert unexplained_clock_reads("start = datetime.now(UTC) - timedelta(hours=3)\n") == [1]
    assert unexplained_clock_reads("x = 1\ndeadline = time.time() + 5\n") == [2]
    assert unexplained_clock_reads("now = datetime.now(UTC)  # the subject: clamping\n") == []
    assert unexplained_clock_reads("# files just written\n\nlater = datetime.now(UTC)\n") == []


PROBE = '''
import threading, time
from datetime import datetime, timezone

def test_the_clock_reads_the_moment_and_timed_waits_still_work():
    assert datetime.now(timezone.utc).strftime("%Y-%m-%d %H") == "2027-01-01 00"
    began = time.monotonic()
    assert not threading.Event().wait(0.2)  # a timed wait ends on time (faketime broke these)
    assert 0.15 < time.monotonic() - began < 5
'''


def test_wfm_test_now_runs_the_tests_as_if_on_that_date(tmp_path):
    """The supported way to run the suite on another date (the repository's conftest.py)."""
    probe = REPOSITORY / "wfm_pipelines_tests" / f"test_clock_probe_{os.getpid()}.py"
    probe.write_text(PROBE)
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)],
                              cwd=REPOSITORY, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "WFM_TEST_NOW": "2027-01-01T00:01:00+00:00"})
    finally:
        probe.unlink()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
