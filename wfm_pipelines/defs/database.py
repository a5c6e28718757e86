"""The WFM database as a Dagster resource: assets and checks read and write through the plain `db` layer
with the engine it gives."""

from __future__ import annotations

import dagster as dg
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import DatabaseTimeouts, get_engine
from wfm_pipelines.raw_store import RawStore


class WfmDatabase(dg.ConfigurableResource):
    """The WFM database at `url`, and the raw store beside it (`raw_store_root`, WFM_RAW_STORE) holding the raw
    report entries it catalogues; the schema is upgraded to head on first use in a process."""

    url: str
    connect_timeout_s: int
    statement_timeout_s: int
    raw_store_root: str

    def raw_store(self) -> RawStore:
        return RawStore(self.raw_store_root)

    def engine(self) -> Engine:
        return get_engine(self.url, DatabaseTimeouts(self.connect_timeout_s, self.statement_timeout_s))
