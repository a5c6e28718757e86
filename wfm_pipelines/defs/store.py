"""The WFM store as one Dagster resource: the database engine, the raw store beside it and the shrink guard,
configured once. Assets, checks, the sensor and the IO manager all write and read through it, so a URL or a
guard setting has one home."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import DatabaseTimeouts, get_engine
from wfm_pipelines.db.guards import ShrinkGuard, accepts_shrink
from wfm_pipelines.raw_store import RawStore


class WfmStore(dg.ConfigurableResource):
    """The WFM database at `url` (its schema upgraded to head on first use in a process), the raw store at
    `raw_store_root` (WFM_RAW_STORE) holding the raw report entries the database catalogues, refusing to write with
    less than `min_free_disk_mb` free on its volume (WFM_MIN_FREE_DISK_MB), and the shrink
    guard every write of a run goes under (WFM_SHRINK_GUARD: `shrink_guard_share` None switches it off)."""

    url: str
    connect_timeout_s: int
    statement_timeout_s: int
    raw_store_root: str
    min_free_disk_mb: int
    shrink_guard_share: float | None
    shrink_guard_min_drop: int

    def engine(self) -> Engine:
        return get_engine(self.url, DatabaseTimeouts(self.connect_timeout_s, self.statement_timeout_s))

    def raw_store(self) -> RawStore:
        return RawStore(self.raw_store_root, min_free_mb=self.min_free_disk_mb)

    def shrink_guard(self, run_tags: Mapping[str, str]) -> ShrinkGuard | None:
        """The guard a run writes under: none when switched off, or when the run is tagged
        `wfm/accept_shrink=true` (a re-collection that may shrink on purpose)."""
        if self.shrink_guard_share is None or accepts_shrink(run_tags):
            return None
        return ShrinkGuard(self.shrink_guard_share, self.shrink_guard_min_drop)
