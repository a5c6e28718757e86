"""The raw store: Talkdesk report entries kept as Parquet files under a root, catalogued in the WFM database.

Replacing a window never leaves it without a file. The new file is written (temporary name, fsync, rename)
before the database is touched; then one transaction takes the writers' lock of the report type, runs the
shrink guard and swaps the catalogue rows; the replaced files are deleted only after the commit. A crash
at any point leaves the old file and row or the new ones, and at worst a file no row names (an orphan:
harmless, read by nothing, removed by `remove_orphans`).

Every window, read and check is one account's (`account_id`, a required keyword): two
accounts' entries of the same report type and window are two files, and their writers never wait for each other.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Engine

from wfm_pipelines.db import guards
from wfm_pipelines.db.engine import write_connection
from wfm_pipelines.db.schema import check_account_id
from wfm_pipelines.db.types import to_utc
from wfm_pipelines.db.window_writer import lock_writers
from wfm_pipelines.raw_store import catalogue
from wfm_pipelines.raw_store.entries import entries_in_window, owner_scalar, unify
from wfm_pipelines.raw_store.files import RawFile, RawFileError, RawFiles, check_report_type, in_account_folder
from wfm_pipelines.raw_store.free_space import RawStoreFullError, free_mib
from wfm_pipelines.talkdesk.report_table import OWNER_COLUMN

log = logging.getLogger("wfm_pipelines.raw_store")

# A file no catalogue row names is deleted only when older than this: a writer's new file exists before its
# row commits, and a writer may wait on another's lock (up to the statement timeout) in between.
ORPHAN_MIN_AGE = timedelta(hours=6)


@dataclass(frozen=True)
class RawWrite:
    """What `replace_window` did."""

    file: RawFile  # the new file, now catalogued
    stored_rows: int  # entries the window held before (what the shrink guard compared with)
    rows_outside_window: int  # given entries that another window owns (or none): not written
    replaced: list[RawFile] = field(default_factory=list)  # files uncatalogued (and deleted)
    # Files rewritten from a replaced file's entries outside the window, so that they keep a file.
    remainders: list[RawFile] = field(default_factory=list)


def _window(window_start: datetime, window_end: datetime) -> tuple[datetime, datetime]:
    start, end = to_utc(window_start, what="window_start"), to_utc(window_end, what="window_end")
    if not start < end:
        raise ValueError(f"empty window [{start.isoformat()}, {end.isoformat()})")
    return start, end


def _cut(table: pa.Table, start: datetime, end: datetime) -> pa.Table:
    owner = table.column(OWNER_COLUMN)
    return table.filter(pc.and_(pc.greater_equal(owner, owner_scalar(start, "start")),
                                pc.less(owner, owner_scalar(end, "end"))))


class RawStore:
    """Report entries of each report type, by owning time, as Parquet files under `root` (a local directory
    as a path or file:// URL; any pyarrow filesystem URL would do) catalogued in `talkdesk_raw_file`."""

    def __init__(self, root: str | os.PathLike, *, min_free_mb: int = 0):
        self.files = RawFiles(root)
        self.root = self.files.root
        # Free space a write leaves on the volume (WFM_MIN_FREE_DISK_MB); 0: none kept. Object stores have no volume.
        self.min_free_mb = min_free_mb

    def free_mb(self) -> int | None:
        """Free MiB on the store's local volume; None for an object store."""
        return free_mib(self.files.base) if self.files.local else None

    def ensure_room(self) -> None:
        """Raise `RawStoreFullError` when the volume holds less free space than `min_free_mb`."""
        if self.min_free_mb <= 0:
            return
        free = self.free_mb()
        if free is not None and free < self.min_free_mb:
            raise RawStoreFullError(self.root, free, self.min_free_mb)

    # --- writing -----------------------------------------------------------------------------------

    def replace_window(self, engine: Engine, report_type: str, window_start: datetime, window_end: datetime,
                       entries: pa.Table, *, collected_at: datetime,
                       guard: guards.ShrinkGuard | None = None, account_id: str) -> RawWrite:
        """Make the account's entries of `report_type` owned by [window_start, window_end) exactly those of
        `entries`; other accounts' files are neither read nor replaced.

        `entries`: text columns (the entry's fields) plus `report_table.OWNER_COLUMN` (a UTC timestamp) and
        `KEY_COLUMN`; rows owned outside the window are not written (counted in `rows_outside_window`), an
        owning time and key given twice is refused (`RawEntriesError`). No entries still writes a file:
        the window is then "collected, empty". A catalogued file lying wholly in the window is replaced; one
        reaching past it keeps its entries outside the window in a rewritten file per side.

        A volume with less free space than `min_free_mb` refuses (`RawStoreFullError`) before anything is written.
        `guard` refuses (`guards.ShrinkRefusedError`) when the window would keep much fewer entries than it
        holds; then nothing changes and the new file is removed. Writers of one account and report type take
        turns.
        """
        report_type = check_report_type(report_type)
        account_id = check_account_id(account_id)
        start, end = _window(window_start, window_end)
        collected_at = to_utc(collected_at, what="collected_at")
        self.ensure_room()
        prepared, outside = entries_in_window(entries, start, end)
        new = self.files.write(prepared, report_type=report_type, window_start=start, window_end=end,
                               collected_at=collected_at, account_id=account_id)
        written = [new]
        try:
            with write_connection(engine) as connection, connection.begin():
                lock_writers(connection, catalogue.TABLE, {"account_id": account_id, "report_type": report_type})
                replaced = catalogue.overlapping(connection, report_type, start, end, account_id=account_id)
                stored, remainders = self._split_replaced(replaced, start, end, written)
                if guard is not None and guard.refuses(stored, new.rows):
                    raise guards.ShrinkRefusedError(
                        f"the raw '{report_type}' entries of {guards.window_text(start, end)}",
                        [f"{new.rows} entries where {stored} are stored"], guard)
                catalogue.swap(connection, replaced, [new, *remainders])
        except BaseException:
            self._discard_uncatalogued(engine, written)
            raise
        for old in replaced:
            self._delete_replaced(old)
        return RawWrite(file=new, stored_rows=stored, rows_outside_window=outside, replaced=replaced,
                        remainders=remainders)

    def _split_replaced(self, replaced: list[RawFile], start: datetime, end: datetime,
                        written: list[RawFile]) -> tuple[int, list[RawFile]]:
        """(entries the replaced files hold in the window, the files that keep their entries outside it)."""
        stored, remainders = 0, []
        for old in replaced:
            if start <= old.window_start and old.window_end <= end:
                stored += old.rows
                continue
            table = self.files.read(old)
            stored += _cut(table, max(start, old.window_start), min(end, old.window_end)).num_rows
            for piece_start, piece_end in ((old.window_start, start), (end, old.window_end)):
                if piece_start < piece_end:
                    piece = self.files.write(_cut(table, piece_start, piece_end), report_type=old.report_type,
                                             window_start=piece_start, window_end=piece_end,
                                             collected_at=old.collected_at, account_id=old.account_id)
                    written.append(piece)
                    remainders.append(piece)
        return stored, remainders

    def _discard_uncatalogued(self, engine: Engine, written: list[RawFile]) -> None:
        """After a failed write, remove its new files, unless a catalogue row names them after all (a commit
        whose answer was lost). Where the catalogue cannot be asked, the files stay as orphans."""
        try:
            with engine.connect() as connection:
                kept = catalogue.catalogued_paths(connection, [f.path for f in written])
        except Exception:  # noqa: BLE001 - the write's own error is the one to raise
            log.warning("raw store: could not tell whether %d new file(s) were catalogued; left as orphans",
                        len(written))
            return
        for raw_file in written:
            if raw_file.path not in kept:
                try:
                    self.files.delete(raw_file.path)
                except OSError as exc:
                    log.warning("raw store: could not remove uncatalogued file %s: %s", raw_file.path, exc)

    def _delete_replaced(self, raw_file: RawFile) -> None:
        try:
            self.files.delete(raw_file.path)
        except OSError as exc:  # the catalogue no longer names it: an orphan, removed later
            log.warning("raw store: replaced file %s not deleted (%s); remove_orphans will", raw_file.path, exc)

    # --- reading -----------------------------------------------------------------------------------

    def catalogued(self, engine: Engine, report_type: str | None = None, window_start: datetime | None = None,
                   window_end: datetime | None = None, *, account_id: str) -> list[RawFile]:
        """Catalogue rows of the account's files overlapping the window (open sides: no bound), in order of type
        and time. A time no file covers was never collected; one covered by a file of zero rows was, and was
        empty."""
        account_id = check_account_id(account_id)
        with engine.connect() as connection:
            return catalogue.overlapping(connection, report_type, window_start, window_end, account_id=account_id)

    def read_window(self, engine: Engine, report_type: str, window_start: datetime, window_end: datetime,
                    columns: Sequence[str] | None = None, *, account_id: str) -> pa.Table:
        """The account's entries of `report_type` owned by [window_start, window_end), sorted by owning time.

        Files may hold different fields: the columns are unified (first appearance first), a field a file
        lacks is null. `columns` picks columns (a name no file has comes back as nulls). Each file is checked
        against its catalogue row first (`RawFileError`)."""
        start, end = _window(window_start, window_end)
        reading = None if columns is None else list(dict.fromkeys([*columns, OWNER_COLUMN]))
        tables = []
        for raw_file in self.catalogued(engine, report_type, start, end, account_id=account_id):
            table = self.files.read(raw_file, reading)
            if not (start <= raw_file.window_start and raw_file.window_end <= end):
                table = _cut(table, max(start, raw_file.window_start), min(end, raw_file.window_end))
            tables.append(table)
        return unify(tables, None if columns is None else list(dict.fromkeys(columns)))

    def interval_counts(self, engine: Engine, report_type: str, window_start: datetime, window_end: datetime,
                        minutes: int = 15, *, account_id: str) -> pd.Series:
        """The account's entries per interval of `minutes` (int64, indexed by the interval's UTC start; intervals
        without entries are absent), like `db.queries.interval_counts` over the old raw entry table."""
        if minutes <= 0:
            raise ValueError(f"minutes must be positive, not {minutes}")
        owners = self.read_window(engine, report_type, window_start, window_end, [OWNER_COLUMN],
                                  account_id=account_id).column(OWNER_COLUMN)
        micros = owners.cast(pa.int64()).to_numpy() if len(owners) else np.array([], dtype="int64")
        step = minutes * 60 * 1_000_000
        buckets, counts = np.unique(micros // step * step, return_counts=True)
        index = pd.to_datetime(buckets, unit="us", utc=True).as_unit("ns")
        return pd.Series(counts.astype("int64"), index=index, dtype="int64")

    def verify(self, engine: Engine, report_type: str | None = None, window_start: datetime | None = None,
               window_end: datetime | None = None, *, account_id: str) -> list[RawFileError]:
        """Check every catalogued file of the account overlapping the window against its row; the problems
        found."""
        problems = []
        for raw_file in self.catalogued(engine, report_type, window_start, window_end, account_id=account_id):
            try:
                self.files.read(raw_file)
            except RawFileError as problem:
                problems.append(problem)
        return problems

    # --- housekeeping ------------------------------------------------------------------------------

    def remove_orphans(self, engine: Engine, *, older_than: timedelta = ORPHAN_MIN_AGE,
                       now: datetime | None = None, account_id: str) -> list[str]:
        """Delete the account's files (those in its folder) that no catalogue row names (left by a crash, a failed
        delete or a downgrade) and older than `older_than`, with leftover temporary files; their relative paths.
        A path any account's row names is kept, whichever folder it lies in."""
        account_id = check_account_id(account_id)
        cutoff = (now or datetime.now(timezone.utc)) - older_than
        # Listed before the catalogue is read: a file catalogued in between is then seen as catalogued.
        found = [f for f in self.files.listing() if f.modified is not None and f.modified < cutoff
                 and in_account_folder(f.path, account_id)]
        with engine.connect() as connection:
            named = catalogue.catalogued_paths(connection)
        removed = []
        for stored in found:
            if stored.path not in named:
                self.files.delete(stored.path)
                removed.append(stored.path)
        return removed
