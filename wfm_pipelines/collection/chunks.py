"""What both collectors share: the result they count into, the keeping of a finished chunk's raw and malformed
entries (`ChunkKeeper`), and the set-up before the first report (`start_collection`).

A bad answer never destroys what is stored: a chunk's raw entries are replaced only past the shrink guard
(`db.guards`); an entry that cannot be stored (unreadable, a NUL or broken character where it is used, an
absurd duration, a time far outside its report's window) is kept aside as malformed with its reason, once per
window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Engine

from wfm_pipelines.collection import arrow_masks, windows
from wfm_pipelines.collection.options import CollectionOptions, chunk_sizer
from wfm_pipelines.collection.report_prefetch import ReportRunner, ReportsAhead
from wfm_pipelines.db import guards, window_writer
from wfm_pipelines.db.schema import check_account_id
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.talkdesk import parsing

MALFORMED_TABLE = "talkdesk_malformed_entry"


@dataclass
class CollectionResult:
    frame: pd.DataFrame
    reports_requested: int = 0
    entries_received: int = 0
    raw_kept: int = 0
    malformed: int = 0
    malformed_reasons: dict[str, int] = field(default_factory=dict)
    windows_fetched: list[tuple[datetime, datetime]] = field(default_factory=list)
    # Entries received that belong to no interval of the range (before it, after it, or looked back at).
    entries_outside_range: int = 0
    # Contacts per queue name that no known queue spells (queue name -> contacts).
    unmatched_queue_names: dict[str, int] = field(default_factory=dict)
    # Which record timestamp the status reports filter a window on, as configured or seen.
    report_window_field: str | None = None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def count_fetch(result: CollectionResult, sizer: windows.ChunkSizer, start: datetime, end: datetime,
                table: pa.Table) -> pa.Table:
    """A fetched report, counted in the result and in the sizer's entry rate."""
    result.reports_requested += 1
    result.windows_fetched.append((start, end))
    result.entries_received += table.num_rows
    sizer.observe(table.num_rows, end - start)
    return table


class ChunkKeeper:
    """Writes a finished chunk's raw and malformed entries, each replacing the chunk's window, and counts them."""

    def __init__(self, engine: Engine, raw_store: RawStore, report_type: str, result: CollectionResult,
                 collected_at: datetime, shrink_guard: guards.ShrinkGuard | None, *, account_id: str):
        self.engine, self.raw_store, self.report_type, self.result = engine, raw_store, report_type, result
        self.collected_at, self.shrink_guard, self.account_id = collected_at, shrink_guard, account_id

    def keep(self, chunk_start: datetime, chunk_end: datetime, parsed: parsing.ParsedReport) -> None:
        start, end = pd.Timestamp(chunk_start), pd.Timestamp(chunk_end)
        raw = arrow_masks.last_of_each_key(
            arrow_masks.rows(parsed.raw, arrow_masks.owned_in(parsed.raw, chunk_start, chunk_end)))
        malformed = self._malformed_frame(parsed.malformed, start, end)
        self.raw_store.replace_window(
            self.engine, self.report_type, chunk_start, chunk_end, raw, collected_at=self.collected_at,
            guard=self.shrink_guard, account_id=self.account_id)
        window_writer.replace_window(
            self.engine, MALFORMED_TABLE, malformed, window_start=chunk_start, window_end=chunk_end,
            time_column="owner_at", scope={"report_type": self.report_type}, account_id=self.account_id)
        self.result.raw_kept += raw.num_rows
        self.result.malformed += len(malformed)
        for reason, count in malformed["reason"].value_counts().items():
            self.result.malformed_reasons[str(reason)] = self.result.malformed_reasons.get(str(reason), 0) + int(count)

    def _malformed_frame(self, malformed: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """The chunk's malformed entries, each once. One whose owning time cannot be read stays with the chunk
        it was fetched for; one that can be read but belongs to another chunk is left to that chunk."""
        owner = pd.to_datetime(malformed["owner_at"], utc=True)
        mine = malformed[(owner.isna() | ((owner >= start) & (owner < end))).to_numpy()]
        entries = mine["entry"].astype(str)
        frame = pd.DataFrame({
            "report_type": self.report_type,
            "owner_at": pd.to_datetime(mine["owner_at"], utc=True).fillna(start).to_numpy(),
            "reason": mine["reason"].astype(str).to_numpy(),
            "entry": entries.to_numpy(),
            "entry_hash": [parsing.stable_hash(text) for text in entries],
            "collected_at": pd.Timestamp(self.collected_at),
        })
        frame["owner_at"] = pd.to_datetime(frame["owner_at"], utc=True)
        return frame.drop_duplicates(["owner_at", "entry_hash"], keep="last").reset_index(drop=True)


@dataclass
class CollectionRun:
    """One collection of one report type under way: what it counts into, keeps with, and fetches through."""

    result: CollectionResult
    collected_at: datetime
    # Talkdesk serves nothing past this yet: windows are asked for up to it.
    available_until: datetime
    keeper: ChunkKeeper
    sizer: windows.ChunkSizer
    reports: ReportsAhead
    account_id: str

    def count_fetch(self, start: datetime, end: datetime, table: pa.Table) -> pa.Table:
        return count_fetch(self.result, self.sizer, start, end, table)


def start_collection(run_report: ReportRunner, engine: Engine, raw_store: RawStore, *, report_type: str,
                     options: CollectionOptions, available_until: datetime | None, account_id: str) -> CollectionRun:
    """The set-up of a collection, the account checked, and the raw store's room, before any report is asked for."""
    account_id = check_account_id(account_id)
    raw_store.ensure_room()
    available_until = available_until or utc_now()
    collected_at = utc_now()
    result = CollectionResult(frame=pd.DataFrame())
    sizer = chunk_sizer(options.chunk, options.target_entries)
    keeper = ChunkKeeper(engine, raw_store, report_type, result, collected_at, options.shrink_guard,
                         account_id=account_id)
    return CollectionRun(result=result, collected_at=collected_at, available_until=available_until, keeper=keeper,
                         sizer=sizer, reports=ReportsAhead(run_report, report_type, options.reports_ahead, sizer),
                         account_id=account_id)
