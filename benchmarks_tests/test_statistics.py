"""The benchmarks' arithmetic (`benchmarks/statistics.py`): per-weekday and two-year scaling, percentiles, gaps,
extrapolations to a day and an account, and runs a day counted from cron strings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from benchmarks.statistics import (consecutive_gaps, core_share_per_account, cron_firings_per_day, machine_busy,
                                   per_day, percentile, runs_per_day, two_years_seconds, weekday_scale)


def test_weekday_scale_is_the_weekday_mean_over_the_mean_day():
    monday = datetime(2026, 11, 23, tzinfo=timezone.utc)
    week = [100, 100, 100, 100, 100, 50, 50]  # Monday .. Sunday
    assert weekday_scale(monday, week) == pytest.approx(100 / (600 / 7))
    assert weekday_scale(monday, [100, 100]) == pytest.approx(1.0)
    saturday = datetime(2026, 11, 28, tzinfo=timezone.utc)
    assert weekday_scale(saturday, [50, 50]) is None


def test_two_years_scale_the_measured_backfill_wall():
    assert two_years_seconds(700.0, 7) == pytest.approx(73_000.0)


def test_percentile_interpolates_between_closest_ranks_as_numpy_does():
    assert percentile([30.0] * 19 + [90.0], 95) == pytest.approx(30.0 + 0.05 * 60)  # rank 18.05 of 0..19
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([5.0], 95) == 5.0
    assert percentile([40.0, 10.0, 30.0, 20.0], 50) == pytest.approx(25.0)
    assert percentile([], 95) != percentile([], 95)  # NaN: no gaps, no figure


def test_gaps_are_per_account_between_distinct_collection_times_in_order():
    t0 = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    at = lambda seconds: t0 + timedelta(seconds=seconds)  # noqa: E731
    gaps = consecutive_gaps({"a": [at(60), at(0), at(30), at(30)], "b": [at(5)], "c": []})
    assert gaps == {"a": [30.0, 30.0], "b": [], "c": []}  # one account's gaps never span to another's


def test_extrapolations_to_a_day_and_to_one_account():
    assert per_day(10 * 2**20, 240) == pytest.approx(3600 * 2**20)  # 10 MiB in 4 min -> 3,600 MiB a day
    assert core_share_per_account(cpu_seconds=120, window_seconds=240, accounts=50) == pytest.approx(0.01)
    assert machine_busy((100, 1000), (400, 1600), cores=2) == pytest.approx(1.0)  # half the jiffies busy


def test_runs_per_day_are_counted_from_the_schedules_cron_strings():
    assert cron_firings_per_day("5,20,35,50 * * * *") == 96
    assert cron_firings_per_day("*/15 * * * *") == 96
    assert cron_firings_per_day("7 * * * *") == 24
    assert cron_firings_per_day("30 2 * * *") == 1
    assert cron_firings_per_day("0 8-17 * * *") == 10
    with pytest.raises(ValueError):
        cron_firings_per_day("0 0 * * 1")
    assert sum(runs_per_day({"interval_collection_schedule": "5,20,35,50 * * * *",
                             "configuration_schedule": "7 * * * *",
                             "nightly_recollection_schedule": "30 2 * * *"}).values()) == 121
