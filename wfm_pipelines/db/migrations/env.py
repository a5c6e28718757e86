"""Alembic environment: runs on the connection that `wfm_pipelines.db.engine` hands over."""

from __future__ import annotations

from alembic import context

from wfm_pipelines.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "WFM migrations run through `wfm-db upgrade` or wfm_pipelines.db.engine.ensure_schema(), "
        "which pass the database connection in; offline (SQL script) mode is not supported"
    )


def _render_item(type_, obj, autogen_context):
    if type_ == "type" and type(obj).__name__ == "UtcDateTime":
        return "UtcDateTime()"
    return False


context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    render_item=_render_item,
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()
