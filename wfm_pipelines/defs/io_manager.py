"""Dagster IO manager that stores asset frames in the WFM tables.

An asset says where and how in its definition metadata:

- `wfm/table`: the table name;
- `wfm/write_mode`:
  - `replace_window` (partitioned assets only): the partition's (or the run's partition range's)
    time window is replaced; needs `wfm/time_column`, optional `wfm/scope` (column -> value) and
    `wfm/shrink_guard` (`{"group": column, "measure": column, "label": text}`: the write is refused when
    the measure, per group or in all, would shrink past the shrink guard);
  - `upsert_configuration`: needs `wfm/key_columns`; optional `wfm/deactivate_missing` (default true);
    the time of the import is the frame's single-valued `seen_at` column if present, else now; a listing
    that would deactivate most active rows is refused by the shrink guard;
- `wfm/personal_data`: the rows describe people (names, e-mails): no preview of them in the event log
  unless `people_preview` is on.
- `wfm/account_id`: the Talkdesk account the asset's rows belong to (absent: `DEFAULT_ACCOUNT_ID`, the one
  account of a deployment without an accounts file). Every write and every read of the asset is that account's
  alone: a window replaced, a configuration imported (and its missing keys deactivated) or a snapshot appended
  never touches another account's rows. Frames neither need nor return an `account_id` column.

A run tagged `wfm/accept_shrink=true` writes without the shrink guard.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import dagster as dg
import pandas as pd

from wfm_pipelines.db import configuration_upsert, guards, queries, window_writer
from wfm_pipelines.db.engine import DatabaseTimeouts, get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, check_account_id, table_named
from wfm_pipelines.defs.collection_settings import shrink_guard_for

WRITE_MODES = ("replace_window", "upsert_configuration")
PREVIEW_ROWS = 10


def _plain(value: Any) -> Any:
    """Definition metadata may come back wrapped in MetadataValue objects."""
    return value.value if isinstance(value, dg.MetadataValue) else value


def _definition_metadata(context: dg.OutputContext | dg.InputContext) -> dict[str, Any]:
    metadata = getattr(context, "definition_metadata", None)
    if metadata is None:
        metadata = getattr(context, "metadata", None)
    return {key: _plain(value) for key, value in (metadata or {}).items()}


def _required(metadata: dict[str, Any], key: str, asset: str) -> Any:
    if metadata.get(key) in (None, "", [], {}):
        raise dg.DagsterInvariantViolationError(f"asset {asset}: definition metadata {key!r} is required by WfmTableIOManager")
    return metadata[key]


def _utc(moment: datetime) -> datetime:
    return datetime.fromtimestamp(moment.timestamp(), tz=timezone.utc)


def _single_time(frame: pd.DataFrame, column: str, asset: str) -> datetime:
    values = pd.to_datetime(frame[column], utc=True).dropna().unique()
    if len(values) != 1:
        raise dg.DagsterInvariantViolationError(
            f"asset {asset}: column {column!r} must hold one timestamp for every row, found {len(values)}"
        )
    return pd.Timestamp(values[0]).to_pydatetime()


def _account_id(metadata: dict[str, Any], asset: str) -> str:
    account_id = metadata.get("wfm/account_id", DEFAULT_ACCOUNT_ID)
    try:
        return check_account_id(account_id)
    except ValueError as exc:
        raise dg.DagsterInvariantViolationError(f"asset {asset}: definition metadata 'wfm/account_id': {exc}") from None


def _run_tags(context: dg.OutputContext) -> dict[str, str]:
    try:
        return dict(context.step_context.run_tags)
    except dg.DagsterInvariantViolationError:  # an output context built outside a run (tests)
        return {}


def _markdown_preview(frame: pd.DataFrame) -> str:
    head = frame.head(PREVIEW_ROWS)
    if head.empty:
        return "(no rows)"

    def cell(value: Any) -> str:
        text = "" if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")[:80]

    lines = ["| " + " | ".join(map(str, head.columns)) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in head.itertuples(index=False)]
    return "\n".join(lines)


class WfmTableIOManager(dg.ConfigurableIOManager):
    """Writes asset frames into the WFM database at `database_url` (see the module docstring)."""

    database_url: str
    connect_timeout_s: int
    statement_timeout_s: int
    # WFM_SHRINK_GUARD: None switches the guard off.
    shrink_guard_share: float | None
    shrink_guard_min_drop: int
    # WFM_METADATA_PEOPLE_PREVIEW: previews of rows that describe people (names, e-mails) in the event log.
    people_preview: bool

    def _shrink_guard(self, context: dg.OutputContext) -> guards.ShrinkGuard | None:
        return shrink_guard_for(_run_tags(context), self.shrink_guard_share, self.shrink_guard_min_drop)

    def _engine(self):
        return get_engine(self.database_url, DatabaseTimeouts(self.connect_timeout_s, self.statement_timeout_s))

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        asset = context.asset_key.to_user_string() if context.has_asset_key else context.name
        metadata = _definition_metadata(context)
        table = table_named(_required(metadata, "wfm/table", asset))
        mode = _required(metadata, "wfm/write_mode", asset)
        if not isinstance(obj, pd.DataFrame):
            raise dg.DagsterInvariantViolationError(f"asset {asset}: WfmTableIOManager stores pandas DataFrames, got {type(obj).__name__}")
        engine = self._engine()
        try:
            counts = self._write(context, asset, metadata, table, mode, engine, obj)
        except guards.ShrinkRefusedError as refused:
            # A Failure shows its description in the UI; the next retry or healing attempt asks Talkdesk again.
            raise dg.Failure(description=str(refused), metadata={
                "refused_by": "shrink guard", "findings": dg.MetadataValue.md(
                    "\n".join(f"- {finding}" for finding in refused.findings[:50])),
                "accept_on_purpose": f"rerun with the run tag {guards.ACCEPT_SHRINK_TAG}=true",
            }) from None
        people = bool(metadata.get("wfm/personal_data")) and not self.people_preview
        context.add_output_metadata({
            "table": table.name,
            "account_id": _account_id(metadata, asset),
            "row_count": len(obj),
            **counts,
            **({} if people else {"preview": dg.MetadataValue.md(_markdown_preview(obj))}),
        })

    def _write(self, context: dg.OutputContext, asset: str, metadata: dict[str, Any], table, mode: str, engine,
               obj: pd.DataFrame) -> dict[str, Any]:
        account_id = _account_id(metadata, asset)
        if mode == "replace_window":
            if not context.has_asset_partitions:
                raise dg.DagsterInvariantViolationError(
                    f"asset {asset}: write mode replace_window needs a time-partitioned asset (the partition is the window)"
                )
            window = context.asset_partitions_time_window
            start, end = _utc(window.start), _utc(window.end)
            shrink = self._shrink_guard(context)
            rule = metadata.get("wfm/shrink_guard")
            guard = guards.group_sum_guard(
                shrink, f"{table.name} {guards.window_text(start, end)}", **rule) if shrink and rule else None
            result = window_writer.replace_window(
                engine, table, obj, window_start=start, window_end=end,
                time_column=_required(metadata, "wfm/time_column", asset), scope=metadata.get("wfm/scope"),
                guard=guard, account_id=account_id,
            )
            counts = {"rows_deleted": result.deleted, "rows_inserted": result.inserted,
                      "window_start": _utc(window.start).isoformat(), "window_end": _utc(window.end).isoformat()}
        elif mode == "upsert_configuration":
            frame = obj
            seen_at = datetime.now(timezone.utc)
            if "seen_at" in frame.columns:
                seen_at = _single_time(frame, "seen_at", asset) if len(frame) else seen_at
                frame = frame.drop(columns=["seen_at"])
            shrink = self._shrink_guard(context)
            result = configuration_upsert.upsert_configuration(
                engine, table, frame, key_columns=list(_required(metadata, "wfm/key_columns", asset)),
                seen_at=seen_at, deactivate_missing=bool(metadata.get("wfm/deactivate_missing", True)),
                deactivation_guard=guards.deactivation_guard(shrink, f"the {table.name} rows") if shrink else None,
                account_id=account_id,
            )
            counts = {"rows_inserted": result.inserted, "rows_updated": result.updated,
                      "rows_deactivated": result.deactivated, "rows_reactivated": result.reactivated}
        else:
            raise dg.DagsterInvariantViolationError(f"asset {asset}: wfm/write_mode {mode!r} is not one of {WRITE_MODES}")
        return counts

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.upstream_output
        metadata = _definition_metadata(upstream) if upstream is not None else {}
        asset = context.asset_key.to_user_string() if context.has_asset_key else context.name
        table = table_named(_required(metadata, "wfm/table", asset))
        mode = metadata.get("wfm/write_mode")
        account_id = _account_id(metadata, asset)  # the upstream asset's account: its rows are the input
        engine = self._engine()
        if mode == "replace_window" and context.has_asset_partitions:
            window = context.asset_partitions_time_window
            return queries.read_window(engine, table, window_start=_utc(window.start), window_end=_utc(window.end),
                                       time_column=_required(metadata, "wfm/time_column", asset),
                                       scope=metadata.get("wfm/scope"), account_id=account_id)
        return queries.read_table(engine, table, account_id=account_id)
