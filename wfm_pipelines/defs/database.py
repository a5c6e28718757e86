"""The WFM database as a Dagster resource: assets and checks read and write through the plain `db` layer
with the engine it gives."""

from __future__ import annotations

import dagster as dg
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import get_engine


class WfmDatabase(dg.ConfigurableResource):
    """The WFM database at `url`; the schema is upgraded to head on first use in a process."""

    url: str

    def engine(self) -> Engine:
        return get_engine(self.url)
