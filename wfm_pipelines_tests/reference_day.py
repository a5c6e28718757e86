"""The one day the suite's Talkdesk data comes from, whatever day the suite runs on.

The emulator generates a day's contacts, shifts and statuses from its seed and the day alone, so a window of
this day holds the same entries every time: a test can assert exact counts. "Yesterday" could not: after a
weekend it is a quiet day (a third of a weekday's volume, fewer agents on shift), and just after midnight a
"recent" hour is a night hour with next to nothing in it.

The day is a Wednesday (a full weekday's volume) and the second of its month, so an account whose status
reports filter on the start, whose look-back reaches back to the month's first day, looks back one day. It
lies in the past of any clock the suite is run under (the emulator refuses windows that end in the future).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine

REFERENCE_DAY = datetime(2026, 12, 2, tzinfo=timezone.utc)


def reference_window(hours: float = 24, *, from_hour: float = 0) -> tuple[datetime, datetime]:
    """`hours` of the reference day (UTC), starting `from_hour` hours after its midnight."""
    start = REFERENCE_DAY + timedelta(hours=from_hour)
    return start, start + timedelta(hours=hours)


def clock_on_the_reference_day(hour: float):
    """This process's wall clock set to `hour` of the reference day and running on from there; the emulator
    serving the test runs in this process and follows it. For tests of what the
    product does with "now" (healing's look-back, the newest agent states), which would otherwise depend on the
    hour they run at. Monotonic clocks are left alone, so timeouts and polling still work."""
    return time_machine.travel(REFERENCE_DAY + timedelta(hours=hour), tick=True)
