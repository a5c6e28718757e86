from datetime import datetime, timedelta, timezone

import pandas as pd

from wfm_pipelines.collection import windows


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_status_windows_never_reach_past_what_talkdesk_can_serve():
    start, end = utc(2026, 3, 1, 10), utc(2026, 3, 1, 11)
    assert windows.status_fetch_window(start, end, available_until=utc(2026, 3, 1, 10, 40)) == (start, utc(2026, 3, 1, 10, 40))
    assert windows.status_fetch_window(start, end, available_until=utc(2026, 3, 1, 9)) is None


def test_status_lookback_reaches_the_month_start_in_any_account_zone():
    assert windows.status_lookback_window(utc(2026, 3, 17, 8)) == (utc(2026, 2, 28, 10), utc(2026, 3, 17, 8))


def test_lookback_is_needed_only_without_evidence_of_end_filtering():
    fetch_start = utc(2026, 3, 1, 10)
    inside = pd.DataFrame({"state_start": pd.to_datetime(["2026-03-01 10:05"], utc=True)})
    spanning = pd.DataFrame({"state_start": pd.to_datetime(["2026-03-01 09:55", "2026-03-01 10:05"], utc=True)})
    empty = pd.DataFrame({"state_start": pd.to_datetime([], utc=True)})
    assert windows.needs_status_lookback("auto", inside, fetch_start) is True
    assert windows.needs_status_lookback("auto", spanning, fetch_start) is False
    assert windows.needs_status_lookback("auto", empty, fetch_start) is True
    assert windows.needs_status_lookback("end", inside, fetch_start) is False
    assert windows.needs_status_lookback("start", spanning, fetch_start) is True


def test_chunk_sizer_sizes_reports_from_the_entry_rate_seen():
    sizer = windows.ChunkSizer(initial=timedelta(hours=6), maximum=timedelta(days=30), target_entries=1000)
    chunks = sizer.chunks(utc(2026, 3, 1), utc(2026, 3, 20))
    assert next(chunks) == (utc(2026, 3, 1), utc(2026, 3, 1, 6))
    sizer.observe(entries=10, fetched=timedelta(hours=6))  # quiet: room for 300 hours, but grow twofold at most
    assert next(chunks) == (utc(2026, 3, 1, 6), utc(2026, 3, 1, 18))
    sizer.observe(entries=100, fetched=timedelta(hours=12))  # 8.3 an hour, sized for twice that: 60 hours
    assert sizer.span == timedelta(hours=24)  # ...still capped at twice the last span
    sizer.observe(entries=10_000, fetched=timedelta(hours=60))  # busy: 166.7 an hour -> 3 hours
    assert next(chunks) == (utc(2026, 3, 1, 18), utc(2026, 3, 1, 21))
    sizer.observe(entries=0, fetched=timedelta(hours=3))  # nothing: grow fourfold
    assert next(chunks) == (utc(2026, 3, 1, 21), utc(2026, 3, 2, 9))
    sizer.observe(entries=1_000_000, fetched=timedelta(hours=1))  # never below an hour
    assert next(chunks) == (utc(2026, 3, 2, 9), utc(2026, 3, 2, 10))
    for _ in range(20):
        sizer.observe(entries=1, fetched=timedelta(days=1))
    assert sizer.span == timedelta(days=30)  # never above the maximum
