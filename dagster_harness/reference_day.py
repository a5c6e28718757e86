"""The one day the suite's Talkdesk data comes from, whatever day the suite runs on (the benchmarks' weekday too).

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

REFERENCE_DAY = datetime(2026, 12, 2, tzinfo=timezone.utc)


def reference_window(hours: float = 24, *, from_hour: float = 0) -> tuple[datetime, datetime]:
    """`hours` of the reference day (UTC), starting `from_hour` hours after its midnight."""
    start = REFERENCE_DAY + timedelta(hours=from_hour)
    return start, start + timedelta(hours=hours)
