"""The WFM database as a Dagster resource."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import dagster as dg
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wfm_pipelines.db import writer
from wfm_pipelines.db.engine import get_engine


class WfmDatabase(dg.ConfigurableResource):
    """The WFM database at `url`; the schema is upgraded to head on first use in a process."""

    url: str

    def engine(self) -> Engine:
        return get_engine(self.url)

    def replace_window(
        self,
        table: sa.Table | str,
        frame: pd.DataFrame,
        *,
        window_start: datetime,
        window_end: datetime,
        time_column: str,
        scope: Mapping[str, object] | None = None,
    ) -> writer.WriteResult:
        return writer.replace_window(self.engine(), table, frame, window_start=window_start,
                                     window_end=window_end, time_column=time_column, scope=scope)

    def read_window(
        self,
        table: sa.Table | str,
        *,
        window_start: datetime,
        window_end: datetime,
        time_column: str,
        scope: Mapping[str, object] | None = None,
    ) -> pd.DataFrame:
        return writer.read_window(self.engine(), table, window_start=window_start, window_end=window_end,
                                  time_column=time_column, scope=scope)

    def read_table(self, table: sa.Table | str) -> pd.DataFrame:
        return writer.read_table(self.engine(), table)

    def upsert_configuration(
        self, table: sa.Table | str, frame: pd.DataFrame, *, key_columns: list[str], seen_at: datetime,
        deactivate_missing: bool = True,
    ) -> writer.UpsertResult:
        return writer.upsert_configuration(self.engine(), table, frame, key_columns=key_columns,
                                           seen_at=seen_at, deactivate_missing=deactivate_missing)

    def append_agent_state_snapshot(self, frame: pd.DataFrame, *, snapshot_at: datetime) -> writer.SnapshotResult:
        return writer.append_agent_state_snapshot(self.engine(), frame, snapshot_at=snapshot_at)
