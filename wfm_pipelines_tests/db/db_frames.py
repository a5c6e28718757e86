"""Frame builders shared by the database tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
QUARTER = timedelta(minutes=15)


def volume_frame(interval_starts, queue_ids, *, collected_at: datetime = T0, seed: int = 0,
                 with_acw: bool = True) -> pd.DataFrame:
    """A `wfm_contact_volume_interval` frame: one row per (queue, interval), deterministic numbers."""
    rng = np.random.default_rng(seed)
    starts = pd.DatetimeIndex(pd.to_datetime(list(interval_starts), utc=True))
    grid = pd.MultiIndex.from_product([list(queue_ids), starts], names=["queue_id", "interval_start"]).to_frame(index=False)
    n = len(grid)
    handled = rng.integers(0, 50, n)
    abandoned = rng.integers(0, 5, n)
    talk = rng.random(n) * 3000
    hold = rng.random(n) * 300
    acw = rng.random(n) * 600 if with_acw else np.full(n, np.nan)
    return grid.assign(
        interval_minutes=15,
        entered_count=handled + abandoned,
        handled_count=handled,
        abandoned_count=abandoned,
        short_abandoned_count=rng.integers(0, 3, n),
        missed_count=0,
        voicemail_count=0,
        sum_handle_time_s=talk + hold + np.nan_to_num(acw),
        sum_talk_time_s=talk,
        sum_hold_time_s=hold,
        sum_acw_time_s=acw,
        sum_answer_wait_s=rng.random(n) * 100,
        sum_abandon_wait_s=rng.random(n) * 50,
        answered_in_sl_count=handled // 2,
        collected_at=pd.Timestamp(collected_at),
    )


def quarters(start: datetime, count: int) -> list[datetime]:
    return [start + i * QUARTER for i in range(count)]
