"""The check queries count and list in the database, alike on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone

import pandas as pd
import sqlalchemy as sa

from wfm_pipelines.db import queries
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.db.window_writer import replace_window

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)


def transactions(ends: list[datetime]) -> pd.DataFrame:
    return pd.DataFrame({
        "agent_id": [f"a{i}" for i in range(len(ends))],
        "state_start": pd.to_datetime([e - timedelta(seconds=30) for e in ends], utc=True),
        "state": "Available",
        "state_end": pd.to_datetime(ends, utc=True),
        "duration_s": [30.0] * (len(ends) - 1) + [-1.0],
        "collected_at": pd.Timestamp(T0),
    })


def test_interval_counts_and_offending_rows(engine):
    ends = [T0 + timedelta(seconds=1), T0 + timedelta(minutes=14, seconds=59, microseconds=999_999),
            T0 + timedelta(minutes=15), T0 + timedelta(minutes=44)]
    replace_window(engine, "wfm_agent_state_transaction", transactions(ends), window_start=T0,
                   window_end=T0 + timedelta(hours=1), time_column="state_end", account_id=DEFAULT_ACCOUNT_ID)
    counts = queries.interval_counts(engine, "wfm_agent_state_transaction", "state_end",
                                     window_start=T0, window_end=T0 + timedelta(hours=1), account_id=DEFAULT_ACCOUNT_ID)
    assert counts.to_dict() == {pd.Timestamp(T0): 2, pd.Timestamp(T0 + timedelta(minutes=15)): 1,
                                pd.Timestamp(T0 + timedelta(minutes=30)): 1}
    count, rows = queries.offending_rows(engine, "wfm_agent_state_transaction", lambda t: t.c.duration_s < 0,
                                         window_start=T0, window_end=T0 + timedelta(hours=1), time_column="state_end",
                                         columns=["agent_id", "duration_s"], account_id=DEFAULT_ACCOUNT_ID)
    assert count == 1 and rows.to_dict("records") == [{"agent_id": "a3", "duration_s": -1.0}]
    none, _ = queries.offending_rows(engine, "wfm_agent_state_transaction", lambda t: sa.false(),
                                     window_start=T0, window_end=T0 + timedelta(hours=1), time_column="state_end",
                                     columns=["agent_id"], account_id=DEFAULT_ACCOUNT_ID)
    assert none == 0
