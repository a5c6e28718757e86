"""Scenario 3: agent state transactions (the WFM database's largest table: a large center's day is ~600,000 rows)
into PostgreSQL through `window_writer.replace_window` (validation + binary COPY) vs `pandas.DataFrame.to_sql` with its
defaults into an identical table (LIKE ... INCLUDING ALL: same columns, types, primary key)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from wfm_pipelines.db import window_writer
from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID

TABLE = "wfm_agent_state_transaction"
TO_SQL_TABLE = "transaction_to_sql"
STATES = ["Available", "On a Call", "After Call Work", "Away", "Lunch", "Training"]


def transaction_frame(rows: int, start: datetime) -> pd.DataFrame:
    """`rows` status records of 3,000 agents ending within one day from `start`, shaped like the collector's."""
    rng = np.random.default_rng(7)
    ends = pd.Timestamp(start).value // 1000 + np.sort(rng.integers(0, 86_400_000_000, size=rows))
    durations = rng.integers(1, 1800, size=rows)
    state_end = pd.to_datetime(ends // 1_000_000 * 1_000_000, unit="us", utc=True).astype("datetime64[ns, UTC]")
    agents = [f"user-{i % 3000:05d}" for i in range(rows)]
    return pd.DataFrame({
        "agent_id": agents,
        # one record per agent and start: the table's key
        "state_start": state_end - pd.to_timedelta(durations, unit="s"),
        "state": [STATES[i % len(STATES)] for i in range(rows)],
        "state_end": state_end,
        "duration_s": durations.astype("float64"),
        "collected_at": pd.Timestamp.now(tz="UTC"),
    }).drop_duplicates(["agent_id", "state_start"])


@dataclass
class LoadResult:
    rows: int
    writer_seconds: float
    to_sql_seconds: float

    @property
    def writer_rows_per_s(self) -> float:
        return self.rows / self.writer_seconds

    @property
    def to_sql_rows_per_s(self) -> float:
        return self.rows / self.to_sql_seconds


def run_load(database_url: str, rows: int, start: datetime) -> LoadResult:
    engine = create_wfm_engine(database_url)
    ensure_schema(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE TABLE {TO_SQL_TABLE} (LIKE {TABLE} INCLUDING ALL)"))
    frame = transaction_frame(rows, start)
    rows = len(frame)
    try:
        began = time.perf_counter()
        result = window_writer.replace_window(engine, TABLE, frame, window_start=start,
                                              window_end=start + timedelta(days=1), time_column="state_end",
                                              account_id=DEFAULT_ACCOUNT_ID)
        writer_seconds = time.perf_counter() - began
        # The writer adds the account itself; to_sql is given the column (untimed), as the table requires it.
        with_account = frame.assign(account_id=DEFAULT_ACCOUNT_ID)
        began = time.perf_counter()
        with_account.to_sql(TO_SQL_TABLE, engine, if_exists="append", index=False)
        to_sql_seconds = time.perf_counter() - began
        with engine.connect() as connection:
            counts = [connection.execute(sa.text(f"select count(*) from {name}")).scalar_one()
                      for name in (TABLE, TO_SQL_TABLE)]
        if result.inserted != rows or counts != [rows, rows]:
            raise RuntimeError(f"load mismatch: writer inserted {result.inserted}, tables hold {counts}, expected {rows}")
        return LoadResult(rows, writer_seconds, to_sql_seconds)
    finally:
        engine.dispose()
