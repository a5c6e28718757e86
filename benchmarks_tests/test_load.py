"""The load scenario (agent state transactions through the writer vs `DataFrame.to_sql`) against a real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

from benchmarks import load
from benchmarks.environment import fresh_databases


def test_the_load_scenario_lands_every_row_through_the_writer_and_through_to_sql():
    with fresh_databases("load_test") as urls:
        result = load.run_load(urls["load_test"], 2_000, datetime(2026, 12, 2, tzinfo=timezone.utc))
    assert result.rows > 1_000  # run_load itself fails when either table holds other than every row
    assert result.writer_seconds > 0 and result.to_sql_seconds > 0
