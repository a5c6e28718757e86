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


def test_a_report_shows_which_timestamp_its_window_filters_on():
    fetch_start, fetch_end = utc(2026, 3, 1, 10), utc(2026, 3, 1, 11)

    def records(*pairs):
        return pd.DataFrame({"state_start": pd.to_datetime([p[0] for p in pairs], utc=True),
                             "state_end": pd.to_datetime([p[1] for p in pairs], utc=True)})

    inside = records(("2026-03-01 10:05", "2026-03-01 10:20"))
    began_before = records(("2026-03-01 09:55", "2026-03-01 10:10"), ("2026-03-01 10:05", "2026-03-01 10:20"))
    ends_after = records(("2026-03-01 10:05", "2026-03-01 11:30"))
    still_open = records(("2026-03-01 10:50", None))
    both = records(("2026-03-01 09:55", "2026-03-01 10:10"), ("2026-03-01 10:50", "2026-03-01 11:10"))
    assert windows.status_filter_evidence(inside, fetch_start, fetch_end) is None
    assert windows.status_filter_evidence(records(), fetch_start, fetch_end) is None
    assert windows.status_filter_evidence(began_before, fetch_start, fetch_end)[0] == "end"
    assert windows.status_filter_evidence(ends_after, fetch_start, fetch_end)[0] == "start"
    assert windows.status_filter_evidence(still_open, fetch_start, fetch_end)[0] == "start"
    assert windows.status_filter_evidence(both, fetch_start, fetch_end)[0] == "end"  # overlap: no look-back needed


def test_lookback_follows_the_setting_or_what_the_account_was_seen_to_do():
    assert windows.needs_status_lookback("auto", None) is True  # nothing seen yet: be safe
    assert windows.needs_status_lookback("auto", "end") is False
    assert windows.needs_status_lookback("auto", "start") is True
    assert windows.needs_status_lookback("end", None) is False
    assert windows.needs_status_lookback("start", "end") is True


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
