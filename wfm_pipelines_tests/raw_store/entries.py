"""Report entries as the raw store takes them, built the way collection builds them (`report_table`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa

from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, OWNER_COLUMN, OWNER_TYPE, entries_to_table

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def calls(count: int, start: datetime, *, every: timedelta = MINUTE, prefix: str = "c",
          **fields: str) -> pa.Table:
    """`count` calls-like entries starting at `start`, one every `every`, keyed `{prefix}-{i}`."""
    entries = [{"call_id": f"{prefix}-{i}", "type": "inbound" if i % 4 else "abandoned", "talk_time": 60 + i,
                "wait_time": i % 30, "ring_groups": "Sales,Support" if i % 3 else "Sales",
                "start_at": (start + i * every).strftime("%Y-%m-%dT%H:%M:%SZ"), **fields}
               for i in range(count)]
    return with_owner(entries_to_table(entries), [start + i * every for i in range(count)],
                      [f"{prefix}-{i}" for i in range(count)])


def with_owner(table: pa.Table, owners: list, keys: list[str]) -> pa.Table:
    table = table.append_column(OWNER_COLUMN, pa.array(owners, type=OWNER_TYPE))
    return table.append_column(KEY_COLUMN, pa.array(keys, type=pa.string()))


def keys_of(table: pa.Table) -> list[str]:
    return table.column(KEY_COLUMN).to_pylist()


def files_on_disk(store: RawStore) -> set[str]:
    """Every file under the store's root, relative ('/'-separated)."""
    root = Path(store.files.base)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def a_day_after_the_newest_file(store: RawStore) -> datetime:
    """A moment past every orphan's grace period, on the clock the files were written by (their modification
    times are the filesystem's, not the test process's, which `WFM_TEST_NOW` may have moved)."""
    root = Path(store.files.base)
    newest = max(p.stat().st_mtime for p in root.rglob("*") if p.is_file())
    return datetime.fromtimestamp(newest, timezone.utc) + timedelta(days=1)


def just_after_the_newest_file(store: RawStore) -> datetime:
    """The moment the newest file was written, on the files' own clock: no orphan is old enough yet."""
    return a_day_after_the_newest_file(store) - timedelta(days=1)


def windows(store: RawStore, engine, report_type: str = "calls") -> list[tuple[datetime, datetime, int]]:
    return [(f.window_start, f.window_end, f.rows) for f in store.catalogued(engine, report_type,
                                                                             account_id=DEFAULT_ACCOUNT_ID)]
