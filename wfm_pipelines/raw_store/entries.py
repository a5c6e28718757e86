"""The entries one raw file holds: report entries as an Arrow table of text columns (`talkdesk.report_table`)
with the pipeline's owner and key columns, checked, cut to the file's window and sorted by owning time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wfm_pipelines.db.types import to_utc
from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, OWNER_COLUMN, OWNER_TYPE


class RawEntriesError(ValueError):
    """The entries handed to the raw store are not shaped as a raw file holds them; nothing was written."""


def owner_scalar(moment: datetime, what: str) -> pa.Scalar:
    return pa.scalar(to_utc(moment, what=what), type=OWNER_TYPE)


def _text_column(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
        raise RawEntriesError(f"column {name!r} is {column.type}; entry fields are text (string) columns")
    return column.cast(pa.string())


def entries_in_window(entries: pa.Table, window_start: datetime, window_end: datetime) -> tuple[pa.Table, int]:
    """(the entries owned by [window_start, window_end), as a raw file holds them; how many were left out).

    Left out are the rows another window owns and rows without an owning time: a report chunk's entries
    may reach past the chunk, and each window keeps only its own. The result has the owner column
    (timestamp[us, UTC]) and the key column first, then every other column as text, in the given order,
    sorted by owning time (stable: entries of one time keep their order). An owning time and key given twice is
    refused, as the database's primary key refused it before.
    """
    if isinstance(entries, pa.RecordBatch):
        entries = pa.Table.from_batches([entries])
    if not isinstance(entries, pa.Table):
        raise RawEntriesError(f"expected a pyarrow Table of entries, got {type(entries).__name__}")
    names = entries.column_names
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise RawEntriesError(f"columns named more than once: {', '.join(map(repr, repeated))}")
    for name in (OWNER_COLUMN, KEY_COLUMN):
        if name not in names:
            raise RawEntriesError(f"the entries have no {name!r} column")
    owner = entries.column(OWNER_COLUMN)
    if not pa.types.is_timestamp(owner.type) or owner.type.tz is None:
        raise RawEntriesError(f"column {OWNER_COLUMN!r} is {owner.type}; expected {OWNER_TYPE} (a naive time is "
                              "refused rather than guessed)")
    # Talkdesk times have whole seconds; a nanosecond part would only be an artefact of a pandas round trip.
    owner = owner.cast(OWNER_TYPE, safe=False)
    key = _text_column(KEY_COLUMN, entries.column(KEY_COLUMN))
    if key.null_count:
        raise RawEntriesError(f"column {KEY_COLUMN!r} has {key.null_count} null keys")
    others = [name for name in names if name not in (OWNER_COLUMN, KEY_COLUMN)]
    table = pa.table([owner, key, *(_text_column(name, entries.column(name)) for name in others)],
                     names=[OWNER_COLUMN, KEY_COLUMN, *others])

    start, end = owner_scalar(window_start, "window_start"), owner_scalar(window_end, "window_end")
    if not start.value < end.value:
        raise RawEntriesError(f"empty window [{window_start}, {window_end})")
    mine = pc.fill_null(pc.and_(pc.greater_equal(owner, start), pc.less(owner, end)), False)
    if not pc.all(mine).as_py():  # usually every entry is the window's own: no copy then
        table = table.filter(mine)
    left_out = entries.num_rows - table.num_rows
    _refuse_repeated_keys(table)
    # Sorted by owning time only (reports mostly arrive in that order already): a sort on the text keys as well
    # cost more than the rest of the write.
    owners = table.column(OWNER_COLUMN).cast(pa.int64()).to_numpy()
    if len(owners) > 1 and (np.diff(owners) < 0).any():
        table = table.take(pa.array(np.argsort(owners, kind="stable")))
    return table, left_out


def _refuse_repeated_keys(table: pa.Table) -> None:
    if table.num_rows < 2:
        return
    # Grouped by Arrow's hash table: no Python object per key (a day of status records is half a million).
    pairs = pa.table({"owner": table.column(OWNER_COLUMN), "key": table.column(KEY_COLUMN)})
    groups = pairs.group_by(["owner", "key"]).aggregate([([], "count_all")])
    count = table.num_rows - groups.num_rows
    if count:
        repeated = groups.filter(pc.greater(groups.column("count_all"), 1))
        key, owner = repeated.column("key")[0].as_py(), repeated.column("owner")[0].as_py()
        raise RawEntriesError(f"{count} entries repeat an owning time and key, e.g. key {key!r} at "
                              f"{owner.isoformat()}; keep one of each (the last received)")


def empty_entries(columns: Sequence[str] | None = None) -> pa.Table:
    """No entries, with the owner and key columns (or the given columns: the owner's typed, the rest text)."""
    names = [OWNER_COLUMN, KEY_COLUMN] if columns is None else list(columns)
    return pa.table({name: pa.array([], type=OWNER_TYPE if name == OWNER_COLUMN else pa.string())
                     for name in names})


def unify(tables: Sequence[pa.Table], columns: Sequence[str] | None = None) -> pa.Table:
    """Tables of different files as one: columns in order of first appearance (or as asked), a column a
    file lacks is null in its rows, a column no file has is a null text column."""
    if not tables:
        return empty_entries(columns)
    table = pa.concat_tables([t.replace_schema_metadata(None) for t in tables], promote_options="default")
    if columns is None:
        return table
    missing = [name for name in columns if name not in table.column_names]
    for name in missing:
        table = table.append_column(name, pa.nulls(table.num_rows, type=pa.string()))
    return table.select(list(columns))
