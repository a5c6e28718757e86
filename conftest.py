"""The suite's own clock setting, for both test trees: `WFM_TEST_NOW=2027-01-01T00:01:00+00:00 make test` runs every
test process as if the suite had started at that moment (the clock runs on from there), so the suite can be shown
to pass on any date without waiting for it.

Debian's `faketime` cannot do this: it fakes the C library's clocks, and with them the timed waits of threads
(condition variables and semaphores), which then wait for ever or fail with EINVAL; the Dagster daemon's loop and
every timeout of the suite stop working, for reasons that have nothing to do with dates. `time-machine` moves only
the wall clock Python code reads (`time.time`, `datetime.now`, ...), and leaves monotonic clocks and timed waits
alone. Processes a test starts (a Dagster webserver or daemon, Celery workers, the emulator's command line) keep the
real clock; what they are asked to collect comes from the suite's fixed reference day
(`wfm_pipelines_tests/reference_day.py`), which lies in the past of both clocks.
"""

from __future__ import annotations

import os
from datetime import datetime


def pytest_configure(config) -> None:
    moment = os.environ.get("WFM_TEST_NOW", "").strip()
    if not moment:
        return
    import time_machine

    start = datetime.fromisoformat(moment)
    if start.tzinfo is None:
        raise ValueError(f"WFM_TEST_NOW={moment!r} needs a UTC offset, e.g. 2027-01-01T00:01:00+00:00")
    config.wfm_test_clock = time_machine.travel(start, tick=True)
    config.wfm_test_clock.start()


def pytest_report_header(config) -> str | None:
    moment = os.environ.get("WFM_TEST_NOW", "").strip()
    return f"clock: the suite runs as if started at {moment} (WFM_TEST_NOW)" if moment else None
