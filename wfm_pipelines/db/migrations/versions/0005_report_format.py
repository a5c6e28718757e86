"""The file format each account's Explore reports are asked for, remembered per report type beside the window
field (WFM_REPORT_FORMAT=auto, issue 21).

`talkdesk_report_behaviour` gains `report_format` (`csv` or `json`), `report_format_reason` and
`report_format_observed_at`. A report type whose format is remembered need not have shown its window field (the
contact reports never do), so `window_field`, `evidence` and `observed_at` may now be null; a row remembers one
of the two or both (check `remembers_something`). The rows stored are kept as they are.

Downgrade drops the three columns again; rows that remembered only a format are deleted (0004 cannot hold them,
and a later run finds the format again), and the others keep their window field.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from wfm_pipelines.db.types import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE = "talkdesk_report_behaviour"
# Written out here (not taken from schema.py) so that this revision never changes.
WINDOW_COLUMNS = ("window_field", "evidence", "observed_at")


def _existing_types() -> dict[str, sa.types.TypeEngine]:
    return {column["name"]: column["type"] for column in sa.inspect(op.get_bind()).get_columns(TABLE)}


def upgrade() -> None:
    types = _existing_types()
    # SQLite rebuilds the table (batch mode), its named checks included; PostgreSQL alters it in place.
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("report_format", sa.Text()))
        batch.add_column(sa.Column("report_format_reason", sa.Text()))
        batch.add_column(sa.Column("report_format_observed_at", UtcDateTime()))
        for name in WINDOW_COLUMNS:
            batch.alter_column(name, existing_type=types[name], existing_nullable=False, nullable=True)
        batch.create_check_constraint(op.f("ck_talkdesk_report_behaviour_report_format"),
                                      "report_format IN ('csv', 'json')")
        batch.create_check_constraint(op.f("ck_talkdesk_report_behaviour_remembers_something"),
                                      "window_field IS NOT NULL OR report_format IS NOT NULL")


def downgrade() -> None:
    types = _existing_types()
    op.execute(sa.text(f"DELETE FROM {TABLE} WHERE window_field IS NULL"))
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f("ck_talkdesk_report_behaviour_remembers_something"), type_="check")
        batch.drop_constraint(op.f("ck_talkdesk_report_behaviour_report_format"), type_="check")
        for name in WINDOW_COLUMNS:
            batch.alter_column(name, existing_type=types[name], existing_nullable=True, nullable=False)
        batch.drop_column("report_format_observed_at")
        batch.drop_column("report_format_reason")
        batch.drop_column("report_format")
