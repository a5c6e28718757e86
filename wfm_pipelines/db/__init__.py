"""The WFM database layer: schema, migrations, engine, writers and reads (no Dagster here)."""

from wfm_pipelines.db.agent_state_writer import SnapshotResult, append_agent_state_snapshot
from wfm_pipelines.db.configuration_upsert import UpsertResult, upsert_configuration
from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema, get_engine
from wfm_pipelines.db.queries import read_table, read_window
from wfm_pipelines.db.schema import metadata
from wfm_pipelines.db.validation import FrameValidationError
from wfm_pipelines.db.window_writer import WriteResult, replace_window

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
