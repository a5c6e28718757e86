"""The one home of the 15-minute interval: its length, its cron, and how a moment maps onto it. Every interval
(a partition, a report window's edge, a schedule tick, a healing candidate) is a UTC quarter hour; a leaf module so
the transforms, the writers, the collection and the Dagster wiring all agree without importing each other."""

from __future__ import annotations

from datetime import datetime, timedelta

INTERVAL_MINUTES = 15
INTERVAL = timedelta(minutes=INTERVAL_MINUTES)
INTERVAL_SECONDS = int(INTERVAL.total_seconds())
# The cron of the interval partitions: every quarter hour, UTC.
INTERVAL_CRON = f"*/{INTERVAL_MINUTES} * * * *"


def floor_to_interval(moment: datetime, minutes: int = INTERVAL_MINUTES) -> datetime:
    """The start of the interval holding `moment` (its time zone kept)."""
    return moment.replace(minute=moment.minute - moment.minute % minutes, second=0, microsecond=0)
