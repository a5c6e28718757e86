"""Dagster IO manager that stores asset frames in the WFM tables, through the WFM store resource.

An asset says where and how in its definition metadata; what it declares decides how its frame is written:

- `wfm/table`: the table name;
- `wfm/time_column` (time-partitioned assets): the frame replaces the partition's (or the run's partition
  range's) time window of the table; optional `wfm/scope` (column -> value) and `wfm/shrink_guard`
  (`{"group": column, "measure": column, "label": text}`: the write is refused when the measure, per group or
  in all, would shrink past the shrink guard);
- `wfm/key_columns` (configuration): the frame is upserted by those keys; optional `wfm/deactivate_missing`
  (default true); the time of the import is the frame's single-valued `seen_at` column if present, else now;
  a listing that would deactivate most active rows is refused by the shrink guard;
- `wfm/personal_data`: the rows describe people (names, e-mails): no preview of them in the event log
  unless `people_preview` is on.
- `wfm/account_id`: the Talkdesk account the asset's rows belong to (absent: `DEFAULT_ACCOUNT_ID`, the one
  account of a deployment without an accounts file). Every write and every read of the asset is that account's
  alone: a window replaced or a configuration imported (and its missing keys deactivated) never touches another
  account's rows. Frames neither need nor return an `account_id` column.

A run tagged `wfm/accept_shrink=true` writes without the shrink guard.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import dagster as dg
import pandas as pd

from wfm_pipelines.db import configuration_upsert, guards, queries, window_writer
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, check_account_id, table_named
from wfm_pipelines.defs.store import WfmStore

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
        raise dg.DagsterInvariantViolationError(
            f"asset {asset}: definition metadata {key!r} is required by WfmTableIOManager (an interval asset names its "
            "wfm/time_column, a configuration asset its wfm/key_columns)")
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
    """Writes asset frames into the WFM database of `store` (see the module docstring)."""

    store: WfmStore
    # WFM_METADATA_PEOPLE_PREVIEW: previews of rows that describe people (names, e-mails) in the event log.
    people_preview: bool

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        asset = context.asset_key.to_user_string() if context.has_asset_key else context.name
        metadata = _definition_metadata(context)
        table = table_named(_required(metadata, "wfm/table", asset))
        if not isinstance(obj, pd.DataFrame):
            raise dg.DagsterInvariantViolationError(f"asset {asset}: WfmTableIOManager stores pandas DataFrames, got {type(obj).__name__}")
        write = _upsert_configuration if "wfm/key_columns" in metadata else _replace_window
        shrink = self.store.shrink_guard(_run_tags(context))
        try:
            counts = write(context, asset, metadata, table, self.store.engine(), obj, shrink)
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

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.upstream_output
        metadata = _definition_metadata(upstream) if upstream is not None else {}
        asset = context.asset_key.to_user_string() if context.has_asset_key else context.name
        table = table_named(_required(metadata, "wfm/table", asset))
        account_id = _account_id(metadata, asset)  # the upstream asset's account: its rows are the input
        engine = self.store.engine()
        if "wfm/time_column" in metadata and context.has_asset_partitions:
            window = context.asset_partitions_time_window
            return queries.read_window(engine, table, window_start=_utc(window.start), window_end=_utc(window.end),
                                      time_column=metadata["wfm/time_column"], scope=metadata.get("wfm/scope"),
                                      account_id=account_id)
        return queries.read_table(engine, table, account_id=account_id)


def _replace_window(context: dg.OutputContext, asset: str, metadata: dict[str, Any], table, engine,
                    obj: pd.DataFrame, shrink: guards.ShrinkGuard | None) -> dict[str, Any]:
    """An interval asset's frame replaces its partitions' time window."""
    time_column = _required(metadata, "wfm/time_column", asset)
    if not context.has_asset_partitions:
        raise dg.DagsterInvariantViolationError(
            f"asset {asset}: replacing a time window (wfm/time_column) needs a time-partitioned asset (the partition "
            "is the window)")
    window = context.asset_partitions_time_window
    start, end = _utc(window.start), _utc(window.end)
    rule = metadata.get("wfm/shrink_guard")
    guard = guards.group_sum_guard(shrink, f"{table.name} {guards.window_text(start, end)}", **rule) if shrink and rule else None
    result = window_writer.replace_window(
        engine, table, obj, window_start=start, window_end=end,
        time_column=time_column, scope=metadata.get("wfm/scope"), guard=guard, account_id=_account_id(metadata, asset),
    )
    return {"rows_deleted": result.deleted, "rows_inserted": result.inserted,
            "window_start": start.isoformat(), "window_end": end.isoformat()}


def _upsert_configuration(context: dg.OutputContext, asset: str, metadata: dict[str, Any], table, engine,
                          obj: pd.DataFrame, shrink: guards.ShrinkGuard | None) -> dict[str, Any]:
    """A configuration asset's listing is upserted by its keys; keys missing from it are deactivated."""
    frame, seen_at = obj, datetime.now(timezone.utc)
    if "seen_at" in frame.columns:
        seen_at = _single_time(frame, "seen_at", asset) if len(frame) else seen_at
        frame = frame.drop(columns=["seen_at"])
    result = configuration_upsert.upsert_configuration(
        engine, table, frame, key_columns=list(_required(metadata, "wfm/key_columns", asset)),
        seen_at=seen_at, deactivate_missing=bool(metadata.get("wfm/deactivate_missing", True)),
        deactivation_guard=guards.deactivation_guard(shrink, f"the {table.name} rows") if shrink else None,
        account_id=_account_id(metadata, asset),
    )
    return {"rows_inserted": result.inserted, "rows_updated": result.updated,
            "rows_deactivated": result.deactivated, "rows_reactivated": result.reactivated}
