"""A run killed in the middle of its write leaves the previous rows; a rerun gives the fault-free rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd

from wfm_pipelines.defs.partitions import partition_key_for
from wfm_pipelines_tests.defs.support import contact_volume, resources_for
from wfm_pipelines_tests.reference_day import reference_window
from wfm_pipelines_tests.defs.test_assets import materialize_range, volume_rows


def test_a_run_killed_between_delete_and_insert_loses_nothing_and_a_rerun_heals(emulator, database_url, tmp_path):
    resources = resources_for(emulator.url, database_url)
    start, end = reference_window(2)
    assert materialize_range([contact_volume], resources, start, end).success
    before = volume_rows(database_url, start, end).drop(columns=["collected_at"])
    assert len(before) == 40

    ready = tmp_path / "deleted-not-inserted"
    output = (tmp_path / "run.log").open("w")
    repo = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "wfm_pipelines_tests.defs.kill_mid_write", emulator.url, database_url, str(ready),
         partition_key_for(start), partition_key_for(end - timedelta(minutes=15))],
        cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, start_new_session=True,
        stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert process.poll() is None, "the run ended before reaching its write:\n" + (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the run never reached its write"
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        output.close()

    # The killed transaction never committed: the previous rows are all there, once.
    pd.testing.assert_frame_equal(volume_rows(database_url, start, end).drop(columns=["collected_at"]), before)
    assert materialize_range([contact_volume], resources, start, end).success
    pd.testing.assert_frame_equal(volume_rows(database_url, start, end).drop(columns=["collected_at"]), before)
