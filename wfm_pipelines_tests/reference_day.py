"""The suite's reference day (`dagster_harness.reference_day`, shared with the benchmarks) and the test-only clock
set on it (time-machine is a test dependency)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from dagster_harness.reference_day import REFERENCE_DAY, reference_window

__all__ = ["REFERENCE_DAY", "clock_on_the_reference_day", "reference_window"]


def clock_on_the_reference_day(hour: float):
    """This process's wall clock set to `hour` of the reference day and running on from there; the emulator
    serving the test runs in this process and follows it. For tests of what the
    product does with "now" (healing's look-back, the newest agent states), which would otherwise depend on the
    hour they run at. Monotonic clocks are left alone, so timeouts and polling still work."""
    return time_machine.travel(REFERENCE_DAY + timedelta(hours=hour), tick=True)
