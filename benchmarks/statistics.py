"""The benchmarks' arithmetic: percentiles and gaps, extrapolations to a day, a weekday, two years or one account,
busy cores from /proc/stat readings, and runs a day from a schedule's cron string. Pure functions, no I/O."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

TWO_YEARS_DAYS = 730
DAY = timedelta(days=1)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def consecutive_gaps(times_by_account: dict[str, Iterable[datetime]]) -> dict[str, list[float]]:
    """Seconds between one account's consecutive collections (distinct times, in order), per account."""
    gaps = {}
    for account, times in times_by_account.items():
        ordered = sorted(set(times))
        gaps[account] = [(later - earlier).total_seconds() for earlier, later in zip(ordered, ordered[1:])]
    return gaps


def gap_histogram(gaps: Iterable[float], width: int = 10) -> dict[int, int]:
    """Gaps counted by `width`-second bucket (bucket's lower bound -> count), in order."""
    counts: dict[int, int] = {}
    for gap in gaps:
        low = int(gap // width) * width
        counts[low] = counts.get(low, 0) + 1
    return dict(sorted(counts.items()))


def per_day(amount: float, window_seconds: float) -> float:
    """`amount` seen over `window_seconds`, at the same rate for 24 hours."""
    return amount * 86_400 / window_seconds


def core_share_per_account(cpu_seconds: float, window_seconds: float, accounts: int) -> float:
    """Fraction of one core that one account costs: CPU seconds per account-second (x 3600 = CPU s per
    account-hour)."""
    return cpu_seconds / window_seconds / accounts


def machine_busy(before: tuple[int, int], after: tuple[int, int], cores: int) -> float:
    """Average busy cores between two /proc/stat readings (busy jiffies, total jiffies)."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return cores * busy / total if total else float("nan")


def weekday_scale(start: datetime, entered_per_day: list[int]) -> float | None:
    """Mean volume of the range's weekdays over the mean volume of all its days; None without a weekday."""
    weekdays = [volume for day, volume in enumerate(entered_per_day) if (start + timedelta(days=day)).weekday() < 5]
    if not weekdays or not sum(entered_per_day):
        return None
    return (sum(weekdays) / len(weekdays)) / (sum(entered_per_day) / len(entered_per_day))


def two_years_seconds(backfill_seconds: float, days: int) -> float:
    """730 / days x the measured backfill wall: ranged backfills of `days` days, one after another."""
    return TWO_YEARS_DAYS / days * backfill_seconds


def cron_firings_per_day(cron: str) -> int:
    """How many times a daily-cycle cron string (day of month, month and day of week all `*`) fires a day, counted
    by Dagster's own cron iteration (what the daemon ticks on) over one UTC day."""
    from dagster._utils.schedules import cron_string_iterator  # noqa: PLC0415 - only the report needs Dagster

    if tuple(cron.split()[2:]) != ("*", "*", "*"):
        raise ValueError(f"{cron!r} does not repeat daily")
    midnight = datetime(2026, 1, 1, tzinfo=timezone.utc)  # any day: a daily cycle fires alike on each
    firings = 0
    for fired_at in cron_string_iterator(midnight.timestamp(), cron, "UTC"):
        if fired_at >= midnight + DAY:
            return firings
        firings += 1
    return firings


def runs_per_day(schedules: dict[str, str]) -> dict[str, int]:
    """Schedule name -> runs a day, one per tick of its cron string."""
    return {name: cron_firings_per_day(cron) for name, cron in sorted(schedules.items())}
