"""The WFM database layer: schema, migrations, engine and writers (no Dagster here)."""

from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema, get_engine
from wfm_pipelines.db.schema import metadata
from wfm_pipelines.db.validation import FrameValidationError
from wfm_pipelines.db.writer import (
    SnapshotResult,
    UpsertResult,
    WriteResult,
    append_agent_state_snapshot,
    read_table,
    read_window,
    replace_window,
    upsert_configuration,
)

__all__ = [
    "FrameValidationError",
    "SnapshotResult",
    "UpsertResult",
    "WriteResult",
    "append_agent_state_snapshot",
    "create_wfm_engine",
    "ensure_schema",
    "get_engine",
    "metadata",
    "read_table",
    "read_window",
    "replace_window",
    "upsert_configuration",
]
