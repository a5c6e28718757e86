"""Data-quality rules behind the asset checks: plain functions over frames, returning the offending rows."""

from __future__ import annotations

import pandas as pd

from wfm_pipelines.db.schema import VOLUME_COUNT_COLUMNS, VOLUME_SUM_COLUMNS

VOLUME_KEY = ["queue_id", "interval_start"]
# Every measure of an interval row: what the checks test for negatives and reconcile.
VOLUME_MEASURES = [*VOLUME_COUNT_COLUMNS, "answered_in_sl_count", *VOLUME_SUM_COLUMNS]
TRANSACTION_KEY = ["agent_id", "state_start"]


def negative_values(frame: pd.DataFrame, key: list[str], columns: list[str]) -> pd.DataFrame:
    """Rows (key, column, value) where a count or a duration is below zero."""
    present = [c for c in columns if c in frame.columns]
    long = frame[key + present].melt(id_vars=key, var_name="column", value_name="value")
    return long[long["value"] < 0].reset_index(drop=True)


def frame_mismatches(stored: pd.DataFrame, expected: pd.DataFrame, key: list[str], columns: list[str],
                     tolerance: float = 1e-6) -> pd.DataFrame:
    """Rows (key, column, stored, expected) where the two frames disagree, a row missing on either side
    included. Sums of seconds compare within `tolerance`; NULL equals NULL."""
    merged = stored[key + columns].merge(expected[key + columns], on=key, how="outer",
                                         suffixes=("_stored", "_expected"), indicator=True)
    problems = []
    for column in columns:
        left, right = merged[f"{column}_stored"], merged[f"{column}_expected"]
        both_null = left.isna() & right.isna()
        if pd.api.types.is_numeric_dtype(left) and pd.api.types.is_numeric_dtype(right):
            # A value on one side only (a row missing on the other) differs; NaN > x would say False.
            differs = ~both_null & (left.isna() | right.isna() | ((left - right).abs() > tolerance))
        else:
            differs = ~both_null & (left.isna() | right.isna() | (left.astype(str) != right.astype(str)))
        rows = merged[differs]
        if len(rows):
            problems.append(pd.DataFrame({
                **{k: rows[k].to_numpy() for k in key},
                "column": column,
                "stored": rows[f"{column}_stored"].astype(object).to_numpy(),
                "expected": rows[f"{column}_expected"].astype(object).to_numpy(),
            }))
    if not problems:
        return pd.DataFrame(columns=key + ["column", "stored", "expected"])
    return pd.concat(problems, ignore_index=True).sort_values(key).reset_index(drop=True)


def describe_rows(rows: pd.DataFrame, limit: int = 20) -> str:
    """A short markdown table of the first offending rows, for check metadata."""
    if rows.empty:
        return "none"
    shown = rows.head(limit).astype(str)
    header = "| " + " | ".join(shown.columns) + " |\n|" + "---|" * len(shown.columns) + "\n"
    body = "\n".join("| " + " | ".join(r) + " |" for r in shown.itertuples(index=False))
    more = f"\n\n… and {len(rows) - limit} more" if len(rows) > limit else ""
    return header + body + more
