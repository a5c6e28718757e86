"""Raw store: the kept Talkdesk report entries move from `talkdesk_raw_entry` into Parquet files.

- `talkdesk_raw_file`: the catalogue of the raw store's files.
- Every `talkdesk_raw_entry` row moves into a file, one per report type and UTC day, catalogued with that day
  as its window and the latest `collected_at` of its rows; then `talkdesk_raw_entry` is dropped. Each entry's
  JSON text becomes text columns (`report_table.entries_to_table`) with its owning time and key.
- Downgrade recreates `talkdesk_raw_entry` from the catalogued files (each entry as compact JSON of its
  non-null text fields, `collected_at` of its file) and drops the catalogue.

The files are written before the migration's transaction commits and are never deleted here: a migration
that fails and rolls back leaves them as orphans no catalogue row names (`RawStore.remove_orphans` removes
them), never a lost entry. For the same reason a downgrade leaves the files on disk.

The store's root is the Alembic config attribute `raw_store_root` where the caller gives one, else
WFM_RAW_STORE from the environment (`settings.raw_store_root`); it is read only when there are rows to move.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import sqlalchemy as sa
from alembic import op

from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.db.types import UtcDateTime
from wfm_pipelines.raw_store.entries import entries_in_window, unify
from wfm_pipelines.raw_store.files import RawFile, RawFiles
from wfm_pipelines.settings import raw_store_root
from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, NOT_AN_OBJECT, OWNER_COLUMN, OWNER_TYPE, entries_to_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The tables frozen here (not imported from schema.py) so that this revision never changes; the files are
# written and read by the raw store's own file layer, so that they are files the store reads.
RAW_ENTRY = sa.table(
    "talkdesk_raw_entry", sa.column("report_type", sa.Text()), sa.column("owner_at", UtcDateTime()),
    sa.column("entry_key", sa.Text()), sa.column("entry", sa.Text()), sa.column("collected_at", UtcDateTime()))
RAW_FILE = sa.table(
    "talkdesk_raw_file", sa.column("report_type", sa.Text()), sa.column("window_start", UtcDateTime()),
    sa.column("window_end", UtcDateTime()), sa.column("path", sa.Text()), sa.column("rows", sa.BigInteger()),
    sa.column("bytes", sa.BigInteger()), sa.column("sha256", sa.Text()), sa.column("collected_at", UtcDateTime()))
RAW_FILE_INDEX = "ix_talkdesk_raw_file_report_type_window_end"
# Entries decoded and converted at a time: a large center's day is ~400,000 `calls` entries.
BATCH = 20_000
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _raw_files() -> RawFiles:
    config = op.get_context().config
    root = config.attributes.get("raw_store_root") if config is not None else None
    return RawFiles(root or raw_store_root())


def upgrade() -> None:
    op.create_table(
        "talkdesk_raw_file",
        sa.Column("report_type", sa.Text(), nullable=False),
        sa.Column("window_start", UtcDateTime(), nullable=False),
        sa.Column("window_end", UtcDateTime(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("collected_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("window_start < window_end", name=op.f("ck_talkdesk_raw_file_window")),
        sa.PrimaryKeyConstraint("report_type", "window_start", name=op.f("pk_talkdesk_raw_file")),
        sa.UniqueConstraint("path", name=op.f("uq_talkdesk_raw_file_path")),
    )
    op.create_index(op.f(RAW_FILE_INDEX), "talkdesk_raw_file", ["report_type", "window_end"], unique=False)
    connection = op.get_bind()
    # Every file is written before any catalogue row: the read below streams, and is done before writing.
    moved = list(_day_files(connection))
    if moved:
        connection.execute(RAW_FILE.insert(), [
            {"report_type": f.report_type, "window_start": f.window_start, "window_end": f.window_end,
             "path": f.path, "rows": f.rows, "bytes": f.bytes, "sha256": f.sha256, "collected_at": f.collected_at}
            for f in moved])
    op.drop_table("talkdesk_raw_entry")


def _day_files(connection: sa.Connection) -> Iterator[RawFile]:
    """One raw file per report type and UTC day of the stored entries, read in one streamed pass."""
    query = (sa.select(RAW_ENTRY.c.report_type, RAW_ENTRY.c.owner_at, RAW_ENTRY.c.entry_key, RAW_ENTRY.c.entry,
                       RAW_ENTRY.c.collected_at)
             .order_by(RAW_ENTRY.c.report_type, RAW_ENTRY.c.owner_at, RAW_ENTRY.c.entry_key)
             .execution_options(yield_per=BATCH))
    files: RawFiles | None = None
    day: _DayFile | None = None
    for row in connection.execute(query):
        midnight = row.owner_at.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        if day is None or (row.report_type, midnight) != (day.report_type, day.start):
            if day is not None:
                files = files or _raw_files()
                yield day.write(files)
            day = _DayFile(row.report_type, midnight)
        day.add(row)
    if day is not None:
        yield day.write(files or _raw_files())


class _DayFile:
    """A report type's entries of one UTC day, decoded and converted a batch at a time."""

    def __init__(self, report_type: str, start: datetime):
        self.report_type, self.start = report_type, start
        self.tables: list[pa.Table] = []
        self.pending: list = []
        self.collected_at: datetime | None = None

    def add(self, row) -> None:
        self.pending.append(row)
        self.collected_at = row.collected_at if self.collected_at is None else max(self.collected_at, row.collected_at)
        if len(self.pending) >= BATCH:
            self._convert()

    def _convert(self) -> None:
        rows, self.pending = self.pending, []
        table = entries_to_table([json.loads(row.entry) for row in rows])
        table = table.append_column(OWNER_COLUMN, pa.array([row.owner_at for row in rows], type=OWNER_TYPE))
        self.tables.append(table.append_column(KEY_COLUMN, pa.array([row.entry_key for row in rows], type=pa.string())))

    def write(self, files: RawFiles) -> RawFile:
        if self.pending:
            self._convert()
        end = self.start + timedelta(days=1)
        entries, outside = entries_in_window(unify(self.tables), self.start, end)
        assert outside == 0, "every row of a day is owned by that day"
        # Before accounts, every file was the default account's.
        return files.write(entries, report_type=self.report_type, window_start=self.start, window_end=end,
                           collected_at=self.collected_at, account_id=DEFAULT_ACCOUNT_ID)


def downgrade() -> None:
    op.create_table(
        "talkdesk_raw_entry",
        sa.Column("report_type", sa.Text(), nullable=False),
        sa.Column("owner_at", UtcDateTime(), nullable=False),
        sa.Column("entry_key", sa.Text(), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("collected_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("report_type", "owner_at", "entry_key", name=op.f("pk_talkdesk_raw_entry")),
    )
    connection = op.get_bind()
    catalogued = connection.execute(sa.select(*RAW_FILE.c).order_by(RAW_FILE.c.report_type,
                                                                     RAW_FILE.c.window_start)).all()
    files = _raw_files() if catalogued else None
    for row in catalogued:
        raw_file = RawFile(**row._mapping)
        for batch in files.read(raw_file).to_batches(max_chunksize=BATCH):
            entries = []
            for entry in batch.to_pylist():
                owner_at, entry_key = entry.pop(OWNER_COLUMN), entry.pop(KEY_COLUMN)
                fields = {name: text for name, text in entry.items() if text is not None}
                # An entry that was not a JSON object was kept as its JSON text: give that text back.
                text = fields[NOT_AN_OBJECT] if list(fields) == [NOT_AN_OBJECT] else _ENCODE(fields)
                entries.append({"report_type": raw_file.report_type, "owner_at": owner_at, "entry_key": entry_key,
                                "entry": text, "collected_at": raw_file.collected_at})
            if entries:
                connection.execute(RAW_ENTRY.insert(), entries)
    op.drop_index(op.f(RAW_FILE_INDEX), table_name="talkdesk_raw_file")
    op.drop_table("talkdesk_raw_file")
