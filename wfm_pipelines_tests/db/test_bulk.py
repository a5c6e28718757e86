"""A million interval rows load completely and exactly on both backends."""

from __future__ import annotations

import time

import pandas as pd
import pytest
import sqlalchemy as sa

from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.db.window_writer import replace_window

from wfm_pipelines_tests.db.db_frames import QUARTER, T0, quarters, volume_frame

QUEUES = 100
INTERVALS = 10_000  # 100 queues x 10,000 quarter-hours (~104 days) = 1,000,000 rows
SUMMED = ["entered_count", "handled_count", "abandoned_count", "answered_in_sl_count",
          "sum_handle_time_s", "sum_talk_time_s", "sum_acw_time_s", "sum_answer_wait_s"]


@pytest.mark.slow
def test_million_row_window_loads_completely_and_exactly(engine, capsys):
    frame = volume_frame(quarters(T0, INTERVALS), [f"q{i:03d}" for i in range(QUEUES)], seed=11)
    assert len(frame) == 1_000_000
    window = dict(window_start=T0, window_end=T0 + INTERVALS * QUARTER, time_column="interval_start",
                  account_id=DEFAULT_ACCOUNT_ID)
    started = time.perf_counter()
    result = replace_window(engine, "wfm_contact_volume_interval", frame, **window)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[{engine.dialect.name}] replace_window of {len(frame):,} rows: {elapsed:.1f} s, "
              f"{len(frame) / elapsed:,.0f} rows/s (validation included)")
    assert result.inserted == 1_000_000

    sums = ", ".join(f"sum({name})" for name in SUMMED)
    with engine.connect() as connection:
        row = connection.execute(sa.text(
            f"SELECT count(*), count(DISTINCT queue_id), count(DISTINCT interval_start), {sums} "
            "FROM wfm_contact_volume_interval"
        )).one()
        first_last = connection.execute(sa.text(
            "SELECT min(interval_start), max(interval_start) FROM wfm_contact_volume_interval"
        )).one()
    assert tuple(row[:3]) == (1_000_000, QUEUES, INTERVALS)
    for name, stored in zip(SUMMED, row[3:]):
        expected = frame[name].sum()
        if name.endswith("_count"):
            assert stored == int(expected), name
        else:
            assert stored == pytest.approx(float(expected), rel=1e-12), name
    as_text = [str(value) for value in first_last]
    assert as_text[0].startswith("2025-03-01 12:00:00")
    last = pd.Timestamp(T0 + (INTERVALS - 1) * QUARTER)
    assert as_text[1].startswith(last.strftime("%Y-%m-%d %H:%M:%S"))
