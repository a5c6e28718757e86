"""`dagster-daemon run` with the backfill daemon's loop interval set by the first argument (seconds).

Dagster 1.13 fixes that interval at 30 s in code (`dagster._daemon.controller.DEFAULT_DAEMON_INTERVAL_SECONDS`,
read when the backfill loop starts): a test's backfill waits 0-30 s for its runs to be requested and up to 30 s
more to be marked finished, several times per test. Only the sleep between iterations changes; the daemon, its
backfill code and the runs are Dagster's own. The asset daemon reads the same constant when the instance sets
no `auto_materialize.minimum_interval_seconds`.

    python -m dagster_harness.daemon_with_backfill_interval 2 run -w workspace.yaml
"""

import sys

import dagster._daemon.controller as controller

controller.DEFAULT_DAEMON_INTERVAL_SECONDS = float(sys.argv.pop(1))

from dagster._daemon.cli import main  # noqa: E402 - after the interval is set

main()
