"""The catalogue of raw files (`talkdesk_raw_file`): which file holds an account's entries of a report type and
window. A path is unique in the whole store (whichever account's it is), so paths are looked up across accounts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wfm_pipelines.db.schema import talkdesk_raw_file
from wfm_pipelines.db.types import to_utc
from wfm_pipelines.raw_store.files import RawFile

TABLE = talkdesk_raw_file
_COLUMNS = [TABLE.c[name] for name in ("account_id", "report_type", "window_start", "window_end", "path", "rows", "bytes",
                                       "sha256", "collected_at")]


def _raw_file(row) -> RawFile:
    return RawFile(account_id=row.account_id, report_type=row.report_type, window_start=row.window_start, window_end=row.window_end,
                   path=row.path, rows=int(row.rows), bytes=int(row.bytes), sha256=row.sha256,
                   collected_at=row.collected_at)


def overlapping(connection: Connection, report_type: str | None, window_start: datetime | None = None,
                window_end: datetime | None = None, *, account_id: str) -> list[RawFile]:
    """The account's files whose window shares an instant with [window_start, window_end) (an open side: no
    bound), of one report type (None: every type), in order of report type and window."""
    condition = TABLE.c.account_id == account_id
    if report_type is not None:
        condition = sa.and_(condition, TABLE.c.report_type == report_type)
    if window_end is not None:
        condition = sa.and_(condition, TABLE.c.window_start < to_utc(window_end, what="window_end"))
    if window_start is not None:
        condition = sa.and_(condition, TABLE.c.window_end > to_utc(window_start, what="window_start"))
    query = sa.select(*_COLUMNS).where(condition).order_by(TABLE.c.report_type, TABLE.c.window_start)
    return [_raw_file(row) for row in connection.execute(query)]


def catalogued_paths(connection: Connection, paths: Iterable[str] | None = None) -> set[str]:
    """The paths (of those given; None: all) that a catalogue row names."""
    query = sa.select(TABLE.c.path)
    if paths is not None:
        paths = list(paths)
        if not paths:
            return set()
        query = query.where(TABLE.c.path.in_(paths))
    return set(connection.execute(query).scalars())


def swap(connection: Connection, old: Iterable[RawFile], new: Iterable[RawFile]) -> None:
    """Uncatalogue `old` and catalogue `new`, in the caller's transaction (old rows go first: a new file
    may start where an old one did)."""
    old = list(old)
    if old:
        connection.execute(TABLE.delete().where(TABLE.c.path.in_([f.path for f in old])))
    rows = [{column.name: getattr(f, column.name) for column in _COLUMNS} for f in new]
    if rows:
        connection.execute(TABLE.insert(), rows)
