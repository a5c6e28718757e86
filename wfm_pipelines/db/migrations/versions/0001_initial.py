"""Initial WFM schema: the tables of docs/tables.md, raw Talkdesk entries, CommunityWFM views.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from wfm_pipelines.db.types import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen here (not imported from schema.py) so that this revision never changes.
VIEWS = {
    "community_historical": (
        "SELECT interval_start, queue_id, "
        'sum_handle_time_s AS "sumHandleTime", '
        'entered_count AS "enteredCount", '
        'abandoned_count AS "abandonedCount" '
        "FROM wfm_contact_volume_interval"
    ),
    "community_realtime": "SELECT agent_id, state AS agent_status, since FROM wfm_agent_state_current",
}


def upgrade() -> None:
    op.create_table('talkdesk_malformed_entry',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('report_type', sa.Text(), nullable=False),
        sa.Column('owner_at', UtcDateTime(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('entry', sa.Text(), nullable=True),
        sa.Column('collected_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_talkdesk_malformed_entry'))
    )
    op.create_index(op.f('ix_talkdesk_malformed_entry_report_type_owner_at'), 'talkdesk_malformed_entry', ['report_type', 'owner_at'], unique=False)
    op.create_table('talkdesk_raw_entry',
        sa.Column('report_type', sa.Text(), nullable=False),
        sa.Column('owner_at', UtcDateTime(), nullable=False),
        sa.Column('entry_key', sa.Text(), nullable=False),
        sa.Column('entry', sa.Text(), nullable=False),
        sa.Column('collected_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('report_type', 'owner_at', 'entry_key', name=op.f('pk_talkdesk_raw_entry'))
    )
    op.create_table('wfm_agent',
        sa.Column('agent_id', sa.Text(), nullable=False),
        sa.Column('name', sa.Text(), nullable=True),
        sa.Column('email', sa.Text(), nullable=True),
        sa.Column('extension', sa.Text(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('source_created_at', UtcDateTime(), nullable=True),
        sa.Column('first_seen_at', UtcDateTime(), nullable=False),
        sa.Column('last_seen_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_wfm_agent'))
    )
    op.create_table('wfm_agent_state_current',
        sa.Column('agent_id', sa.Text(), nullable=False),
        sa.Column('state', sa.Text(), nullable=False),
        sa.Column('since', UtcDateTime(), nullable=False),
        sa.Column('snapshot_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_wfm_agent_state_current'))
    )
    op.create_table('wfm_agent_state_snapshot',
        sa.Column('agent_id', sa.Text(), nullable=False),
        sa.Column('snapshot_at', UtcDateTime(), nullable=False),
        sa.Column('state', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('agent_id', 'snapshot_at', name=op.f('pk_wfm_agent_state_snapshot'))
    )
    op.create_index(op.f('ix_wfm_agent_state_snapshot_snapshot_at'), 'wfm_agent_state_snapshot', ['snapshot_at'], unique=False)
    op.create_table('wfm_agent_state_transaction',
        sa.Column('agent_id', sa.Text(), nullable=False),
        sa.Column('state_start', UtcDateTime(), nullable=False),
        sa.Column('state', sa.Text(), nullable=False),
        sa.Column('state_end', UtcDateTime(), nullable=True),
        sa.Column('duration_s', sa.Double(), nullable=True),
        sa.Column('collected_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('agent_id', 'state_start', name=op.f('pk_wfm_agent_state_transaction'))
    )
    op.create_index(op.f('ix_wfm_agent_state_transaction_state_end'), 'wfm_agent_state_transaction', ['state_end'], unique=False)
    op.create_index(op.f('ix_wfm_agent_state_transaction_state_start'), 'wfm_agent_state_transaction', ['state_start'], unique=False)
    op.create_table('wfm_contact_volume_interval',
        sa.Column('queue_id', sa.Text(), nullable=False),
        sa.Column('interval_start', UtcDateTime(), nullable=False),
        sa.Column('interval_minutes', sa.Integer(), server_default=sa.text('15'), nullable=False),
        sa.Column('entered_count', sa.Integer(), nullable=False),
        sa.Column('handled_count', sa.Integer(), nullable=False),
        sa.Column('abandoned_count', sa.Integer(), nullable=False),
        sa.Column('short_abandoned_count', sa.Integer(), nullable=False),
        sa.Column('missed_count', sa.Integer(), nullable=False),
        sa.Column('voicemail_count', sa.Integer(), nullable=False),
        sa.Column('sum_handle_time_s', sa.Double(), nullable=False),
        sa.Column('sum_talk_time_s', sa.Double(), nullable=False),
        sa.Column('sum_hold_time_s', sa.Double(), nullable=False),
        sa.Column('sum_acw_time_s', sa.Double(), nullable=True),
        sa.Column('sum_answer_wait_s', sa.Double(), nullable=False),
        sa.Column('sum_abandon_wait_s', sa.Double(), nullable=False),
        sa.Column('answered_in_sl_count', sa.Integer(), nullable=False),
        sa.Column('collected_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('queue_id', 'interval_start', name=op.f('pk_wfm_contact_volume_interval'))
    )
    op.create_index(op.f('ix_wfm_contact_volume_interval_interval_start'), 'wfm_contact_volume_interval', ['interval_start'], unique=False)
    op.create_table('wfm_queue',
        sa.Column('queue_id', sa.Text(), nullable=False),
        sa.Column('name', sa.Text(), nullable=True),
        sa.Column('source_kind', sa.Text(), nullable=False),
        sa.Column('service_level_threshold_s', sa.Double(), nullable=True),
        sa.Column('short_abandon_threshold_s', sa.Double(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('first_seen_at', UtcDateTime(), nullable=False),
        sa.Column('last_seen_at', UtcDateTime(), nullable=False),
        sa.CheckConstraint("source_kind IN ('ring_group', 'queue')", name=op.f('ck_wfm_queue_source_kind')),
        sa.PrimaryKeyConstraint('queue_id', name=op.f('pk_wfm_queue'))
    )
    op.create_table('wfm_queue_agent',
        sa.Column('queue_id', sa.Text(), nullable=False),
        sa.Column('agent_id', sa.Text(), nullable=False),
        sa.Column('first_seen_at', UtcDateTime(), nullable=False),
        sa.Column('last_seen_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('queue_id', 'agent_id', name=op.f('pk_wfm_queue_agent'))
    )
    for name, select in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {select}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_table('wfm_queue_agent')
    op.drop_table('wfm_queue')
    op.drop_index(op.f('ix_wfm_contact_volume_interval_interval_start'), table_name='wfm_contact_volume_interval')
    op.drop_table('wfm_contact_volume_interval')
    op.drop_index(op.f('ix_wfm_agent_state_transaction_state_start'), table_name='wfm_agent_state_transaction')
    op.drop_index(op.f('ix_wfm_agent_state_transaction_state_end'), table_name='wfm_agent_state_transaction')
    op.drop_table('wfm_agent_state_transaction')
    op.drop_index(op.f('ix_wfm_agent_state_snapshot_snapshot_at'), table_name='wfm_agent_state_snapshot')
    op.drop_table('wfm_agent_state_snapshot')
    op.drop_table('wfm_agent_state_current')
    op.drop_table('wfm_agent')
    op.drop_table('talkdesk_raw_entry')
    op.drop_index(op.f('ix_talkdesk_malformed_entry_report_type_owner_at'), table_name='talkdesk_malformed_entry')
    op.drop_table('talkdesk_malformed_entry')
