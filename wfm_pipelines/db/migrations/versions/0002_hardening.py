"""Hardening: malformed entries kept once per window, stale real-time states, remembered report behaviour.

- `talkdesk_malformed_entry.entry_hash` with a unique index on (report_type, owner_at, entry_hash); existing
  duplicates are removed (the oldest row of each is kept).
- `wfm_agent_state_current.stale`, and `community_realtime` shows the collection time and leaves stale
  states out.
- `talkdesk_report_behaviour`: which timestamp the account's reports filter a window on, once seen.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

from wfm_pipelines.db.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen here (not imported from schema.py) so that this revision never changes.
REALTIME_BEFORE = "SELECT agent_id, state AS agent_status, since FROM wfm_agent_state_current"
REALTIME_AFTER = (
    "SELECT agent_id, state AS agent_status, since, snapshot_at "
    "FROM wfm_agent_state_current WHERE NOT stale"
)
MALFORMED_INDEX_BEFORE = "ix_talkdesk_malformed_entry_report_type_owner_at"
MALFORMED_INDEX_AFTER = "ix_talkdesk_malformed_entry_report_type_owner_at_entry_hash"


def entry_hash(entry: str | None) -> str:
    return hashlib.blake2b((entry or "").encode("utf-8", errors="surrogatepass"), digest_size=16).hexdigest()


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table("talkdesk_malformed_entry") as batch:
        batch.add_column(sa.Column("entry_hash", sa.Text(), nullable=True))
    malformed = sa.table("talkdesk_malformed_entry", sa.column("id", sa.BigInteger()),
                         sa.column("report_type", sa.Text()), sa.column("owner_at", UtcDateTime()),
                         sa.column("entry", sa.Text()), sa.column("entry_hash", sa.Text()))
    seen: set[tuple] = set()
    duplicates: list[int] = []
    rows = connection.execute(sa.select(malformed.c.id, malformed.c.report_type, malformed.c.owner_at,
                                        malformed.c.entry).order_by(malformed.c.id)).all()
    updates = []
    for row in rows:
        digest = entry_hash(row.entry)
        key = (row.report_type, row.owner_at, digest)
        if key in seen:
            duplicates.append(row.id)
            continue
        seen.add(key)
        updates.append({"row_id": row.id, "digest": digest})
    if duplicates:
        connection.execute(malformed.delete().where(malformed.c.id.in_(duplicates)))
    if updates:
        connection.execute(malformed.update().where(malformed.c.id == sa.bindparam("row_id"))
                           .values(entry_hash=sa.bindparam("digest")), updates)
    with op.batch_alter_table("talkdesk_malformed_entry") as batch:
        batch.alter_column("entry_hash", existing_type=sa.Text(), nullable=False)
        batch.drop_index(MALFORMED_INDEX_BEFORE)
        batch.create_index(MALFORMED_INDEX_AFTER, ["report_type", "owner_at", "entry_hash"], unique=True)

    op.execute("DROP VIEW IF EXISTS community_realtime")
    with op.batch_alter_table("wfm_agent_state_current") as batch:
        batch.add_column(sa.Column("stale", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(f"CREATE VIEW community_realtime AS {REALTIME_AFTER}")

    op.create_table(
        "talkdesk_report_behaviour",
        sa.Column("report_type", sa.Text(), nullable=False),
        sa.Column("window_field", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("observed_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("window_field IN ('end', 'start')", name=op.f("ck_talkdesk_report_behaviour_window_field")),
        sa.PrimaryKeyConstraint("report_type", name=op.f("pk_talkdesk_report_behaviour")),
    )


def downgrade() -> None:
    op.drop_table("talkdesk_report_behaviour")
    op.execute("DROP VIEW IF EXISTS community_realtime")
    with op.batch_alter_table("wfm_agent_state_current") as batch:
        batch.drop_column("stale")
    op.execute(f"CREATE VIEW community_realtime AS {REALTIME_BEFORE}")
    with op.batch_alter_table("talkdesk_malformed_entry") as batch:
        batch.drop_index(MALFORMED_INDEX_AFTER)
        batch.create_index(MALFORMED_INDEX_BEFORE, ["report_type", "owner_at"], unique=False)
        batch.drop_column("entry_hash")
