"""Scenario 3: `talkdesk_raw_entry` rows into PostgreSQL through `writer.replace_window` (binary COPY) vs
`pandas.DataFrame.to_sql` with its defaults into an identical table (LIKE ... INCLUDING ALL: same columns,
types, primary key)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from wfm_pipelines.db import writer
from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema

TO_SQL_TABLE = "raw_entry_to_sql"


def raw_entry_frame(rows: int, start: datetime) -> pd.DataFrame:
    """`rows` raw `calls` entries over one day from `start`, shaped like the emulator's (about 400 bytes of JSON)."""
    rng = np.random.default_rng(7)
    offsets = np.sort(rng.integers(0, 86_400_000_000, size=rows))
    owner_at = pd.to_datetime(pd.Timestamp(start).value // 1000 + offsets, unit="us", utc=True).astype("datetime64[ns, UTC]")
    talk = rng.integers(0, 900, size=rows)
    keys = [f"call-{i:09d}" for i in range(rows)]
    stamps = owner_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = [json.dumps({"call_id": key, "callsid": f"CA{i:032x}", "type": "inbound", "start_at": stamp,
                           "end_at": stamp, "talk_time": int(t), "hold_time": 0, "wait_time": 12,
                           "ring_groups": f"queue-{i % 300:03d}", "user_id": f"user-{i % 3000:05d}",
                           "phone_number": "+15550100000", "contact_phone_number": "+15550199999",
                           "disposition_code": None, "rating": None})
               for i, (key, stamp, t) in enumerate(zip(keys, stamps, talk))]
    return pd.DataFrame({"report_type": "calls", "owner_at": owner_at, "entry_key": keys, "entry": entries,
                         "collected_at": pd.Timestamp.now(tz="UTC")})


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


def run_load(database_url: str, rows: int, start: datetime) -> LoadResult | None:
    """None when the schema has no talkdesk_raw_entry table (raw entries kept outside the database)."""
    engine = create_wfm_engine(database_url)
    ensure_schema(engine)
    with engine.begin() as connection:
        if not connection.execute(sa.text("select to_regclass('talkdesk_raw_entry') is not null")).scalar_one():
            engine.dispose()
            return None
        connection.execute(sa.text(f"CREATE TABLE {TO_SQL_TABLE} (LIKE talkdesk_raw_entry INCLUDING ALL)"))
    frame = raw_entry_frame(rows, start)
    try:
        began = time.perf_counter()
        result = writer.replace_window(engine, "talkdesk_raw_entry", frame, window_start=start,
                                       window_end=start + timedelta(days=1), time_column="owner_at",
                                       scope={"report_type": "calls"})
        writer_seconds = time.perf_counter() - began
        began = time.perf_counter()
        frame.to_sql(TO_SQL_TABLE, engine, if_exists="append", index=False)
        to_sql_seconds = time.perf_counter() - began
        with engine.connect() as connection:
            counts = [connection.execute(sa.text(f"select count(*) from {name}")).scalar_one()
                      for name in ("talkdesk_raw_entry", TO_SQL_TABLE)]
        if result.inserted != rows or counts != [rows, rows]:
            raise RuntimeError(f"load mismatch: writer inserted {result.inserted}, tables hold {counts}, expected {rows}")
        return LoadResult(rows, writer_seconds, to_sql_seconds)
    finally:
        engine.dispose()
