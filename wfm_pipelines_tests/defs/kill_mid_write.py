"""Run by test_killed_run: a real Dagster run of contact_volume whose write pauses between its DELETE and
its INSERT (inside the transaction) until the test kills the process."""

import sys
import time

import dagster as dg

from wfm_pipelines.db import window_writer
from wfm_pipelines_tests.defs.support import contact_volume, resources_for

emulator_url, database_url, ready_file, first_key, last_key = sys.argv[1:6]
real_replace_window = window_writer.replace_window


def replace_window_that_stalls(engine, table, frame, **kwargs):
    if getattr(table, "name", table) == "wfm_contact_volume_interval":
        def stall(_connection):
            open(ready_file, "w").close()
            time.sleep(600)
        kwargs["_after_delete"] = stall
    return real_replace_window(engine, table, frame, **kwargs)


window_writer.replace_window = replace_window_that_stalls
dg.materialize([contact_volume], resources=resources_for(emulator_url, database_url), tags={
    "dagster/asset_partition_range_start": first_key, "dagster/asset_partition_range_end": last_key})
