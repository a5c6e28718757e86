"""Reading a parsed report's raw table (`report_table`) in tests."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, OWNER_COLUMN, value_text


def raw_keys(raw: pa.Table) -> list[str]:
    return raw.column(KEY_COLUMN).to_pylist()


def raw_owners(raw: pa.Table) -> list[pd.Timestamp]:
    return [pd.Timestamp(value) for value in raw.column(OWNER_COLUMN).to_pylist()]


def raw_entries(raw: pa.Table) -> list[dict[str, Any]]:
    """Each kept entry as its non-null text fields, without the pipeline's columns."""
    fields = [name for name in raw.column_names if not name.startswith("_wfm_")]
    return [{key: value for key, value in row.items() if value is not None} for row in raw.select(fields).to_pylist()]


def as_text(entry: dict[str, Any]) -> dict[str, str]:
    """A JSON entry as the raw store keeps it: every value as its text, nulls left out."""
    return {key: value_text(value) for key, value in entry.items() if value is not None}
