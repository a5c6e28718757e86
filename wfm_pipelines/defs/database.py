"""The WFM database as a Dagster resource: assets and checks read and write through the plain `db` layer
with the engine it gives."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import DatabaseTimeouts, get_engine
from wfm_pipelines.db.guards import ShrinkGuard, accepts_shrink


class WfmDatabase(dg.ConfigurableResource):
    """The WFM database at `url`; the schema is upgraded to head on first use in a process."""

    url: str
    connect_timeout_s: int = DatabaseTimeouts.connect_s
    statement_timeout_s: int = DatabaseTimeouts.statement_s

    def engine(self) -> Engine:
        return get_engine(self.url, DatabaseTimeouts(self.connect_timeout_s, self.statement_timeout_s))


def shrink_guard_for(run_tags: Mapping[str, str], share: float | None, min_drop: int) -> ShrinkGuard | None:
    """The shrink guard a run writes under: none when it is switched off (WFM_SHRINK_GUARD=off) or the run
    is tagged `wfm/accept_shrink=true` (a re-collection that may shrink on purpose)."""
    if share is None or accepts_shrink(run_tags):
        return None
    return ShrinkGuard(share, min_drop)
