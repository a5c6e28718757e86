"""The WFM database as a Dagster resource: assets and checks read and write through the plain `db` layer
with the engine it gives."""

from __future__ import annotations

import dagster as dg
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import DatabaseTimeouts, get_engine


class WfmDatabase(dg.ConfigurableResource):
    """The WFM database at `url`; the schema is upgraded to head on first use in a process."""

    url: str
    connect_timeout_s: int
    statement_timeout_s: int

    def engine(self) -> Engine:
        return get_engine(self.url, DatabaseTimeouts(self.connect_timeout_s, self.statement_timeout_s))
