"""Row selections on a report's raw entries (Arrow tables of text columns, `talkdesk.report_table`): by owning
time, by the last entry of each key, and two tables of one report type put together."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, OWNER_COLUMN


def owners(raw: pa.Table) -> np.ndarray:
    """Owning times of a raw table as UTC datetime64[us] (comparable with `bound`)."""
    return raw.column(OWNER_COLUMN).to_numpy().astype("datetime64[us]") if raw.num_rows else np.empty(0, "datetime64[us]")


def bound(moment: datetime) -> np.datetime64:
    return np.datetime64(pd.Timestamp(moment).tz_convert("UTC").tz_localize(None), "us")


def owned_in(raw: pa.Table, start: datetime, end: datetime) -> np.ndarray:
    owning = owners(raw)
    return (owning >= bound(start)) & (owning < bound(end))


def rows(raw: pa.Table, mask: np.ndarray) -> pa.Table:
    return raw.filter(pa.array(mask, pa.bool_()))


def last_of_each_key(raw: pa.Table) -> pa.Table:
    if raw.num_rows == 0:
        return raw
    repeated = pd.Series(raw.column(KEY_COLUMN).to_numpy(zero_copy_only=False)).duplicated(keep="last").to_numpy()
    return rows(raw, ~repeated) if repeated.any() else raw


def concat(first: pa.Table, second: pa.Table) -> pa.Table:
    """Two tables of one report type's entries; a field one of them lacks is null in its rows."""
    if second.num_rows == 0 and first.num_columns:
        return first
    if first.num_rows == 0 and second.num_columns:
        return second
    return pa.concat_tables([first, second], promote_options="default")
