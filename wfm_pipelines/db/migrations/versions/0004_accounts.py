"""Accounts: every WFM row, raw file, malformed entry and remembered report behaviour belongs to one Talkdesk
account (docs/counting-rules.md#accounts).

- Every table gains `account_id` (text, not null); every row already stored belongs to account `default`, the
  one account of a deployment without an accounts file. The column is added with that value as its server
  default (PostgreSQL 11+ stores it once, without rewriting the table), then the default is dropped: a writer
  that forgets the account must fail, not land in `default`.
- Every key and every index that serves a window lookup gets `account_id` in front, so two accounts may use the
  same queue and agent ids, and a window of one account is read without touching another's.
- `community_historical` and `community_realtime` gain `account_id` as their first column.
- Raw files keep their paths (the default account's layout is unchanged); their catalogue rows get `default`.

SQLite rebuilds each table (Alembic batch mode), with `account_id` as its first column; PostgreSQL alters the
tables in place, where the new column comes last (a column's position is not part of the contract: every
read names its columns).

Downgrade removes `account_id` again; it refuses while any row belongs to an account other than `default`,
since those rows could no longer be told apart from the default account's.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen here (not imported from schema.py) so that this revision never changes.
DEFAULT_ACCOUNT_ID = "default"


# A NamedTuple, not a dataclass: Alembic loads this module without registering it, which dataclasses need.
class Keyed(NamedTuple):
    """A table's primary key and indexes before and after: (index name, columns, unique)."""

    table: str
    primary_key: tuple[str, ...] | None  # the key's columns before; None where the key stays (an id)
    indexes_before: tuple[tuple[str, tuple[str, ...], bool], ...] = ()
    indexes_after: tuple[tuple[str, tuple[str, ...], bool], ...] = ()


TABLES = (
    Keyed("wfm_queue", ("queue_id",)),
    Keyed("wfm_agent", ("agent_id",)),
    Keyed("wfm_queue_agent", ("queue_id", "agent_id")),
    Keyed("wfm_contact_volume_interval", ("queue_id", "interval_start"),
          (("ix_wfm_contact_volume_interval_interval_start", ("interval_start",), False),),
          (("ix_wfm_contact_volume_interval_account_id_interval_start", ("account_id", "interval_start"), False),)),
    Keyed("wfm_agent_state_transaction", ("agent_id", "state_start"),
          (("ix_wfm_agent_state_transaction_state_end", ("state_end",), False),
           ("ix_wfm_agent_state_transaction_state_start", ("state_start",), False)),
          (("ix_wfm_agent_state_transaction_account_id_state_end", ("account_id", "state_end"), False),
           ("ix_wfm_agent_state_transaction_account_id_state_start", ("account_id", "state_start"), False))),
    Keyed("wfm_agent_state_snapshot", ("agent_id", "snapshot_at"),
          (("ix_wfm_agent_state_snapshot_snapshot_at", ("snapshot_at",), False),),
          (("ix_wfm_agent_state_snapshot_account_id_snapshot_at", ("account_id", "snapshot_at"), False),)),
    Keyed("wfm_agent_state_current", ("agent_id",)),
    Keyed("talkdesk_raw_file", ("report_type", "window_start"),
          (("ix_talkdesk_raw_file_report_type_window_end", ("report_type", "window_end"), False),),
          (("ix_talkdesk_raw_file_account_id_report_type_window_end", ("account_id", "report_type", "window_end"),
            False),)),
    Keyed("talkdesk_malformed_entry", None,
          (("ix_talkdesk_malformed_entry_report_type_owner_at_entry_hash", ("report_type", "owner_at", "entry_hash"),
            True),),
          (("ix_talkdesk_malformed_entry_account_report_owner_hash",
            ("account_id", "report_type", "owner_at", "entry_hash"), True),)),
    Keyed("talkdesk_report_behaviour", ("report_type",)),
)

VIEWS_BEFORE = {
    "community_historical": (
        "SELECT interval_start, queue_id, "
        'sum_handle_time_s AS "sumHandleTime", '
        'entered_count AS "enteredCount", '
        'abandoned_count AS "abandonedCount" '
        "FROM wfm_contact_volume_interval"
    ),
    "community_realtime": (
        "SELECT agent_id, state AS agent_status, since, snapshot_at "
        "FROM wfm_agent_state_current WHERE NOT stale"
    ),
}
VIEWS_AFTER = {
    "community_historical": (
        "SELECT account_id, interval_start, queue_id, "
        'sum_handle_time_s AS "sumHandleTime", '
        'entered_count AS "enteredCount", '
        'abandoned_count AS "abandonedCount" '
        "FROM wfm_contact_volume_interval"
    ),
    "community_realtime": (
        "SELECT account_id, agent_id, state AS agent_status, since, snapshot_at "
        "FROM wfm_agent_state_current WHERE NOT stale"
    ),
}


def _column_names(table: str) -> list[str]:
    return [column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)]


def _drop_views(views: dict[str, str]) -> None:
    for name in views:
        op.execute(f"DROP VIEW IF EXISTS {name}")


def upgrade() -> None:
    # The views read the tables being rebuilt: dropped first, made again over the new columns.
    _drop_views(VIEWS_BEFORE)
    for keyed in TABLES:
        columns = _column_names(keyed.table)
        # Added on its own (no table rebuild, on either backend): the server default fills the stored rows.
        with op.batch_alter_table(keyed.table) as batch:
            batch.add_column(sa.Column("account_id", sa.Text(), nullable=False,
                                       server_default=sa.text(f"'{DEFAULT_ACCOUNT_ID}'")))
        # SQLite rebuilds the table here, with account_id first; PostgreSQL alters it in place.
        with op.batch_alter_table(keyed.table, partial_reordering=[("account_id", *columns)]) as batch:
            batch.alter_column("account_id", existing_type=sa.Text(), existing_nullable=False, server_default=None)
            for name, _, _ in keyed.indexes_before:
                batch.drop_index(name)
            if keyed.primary_key is not None:
                batch.drop_constraint(f"pk_{keyed.table}", type_="primary")
                batch.create_primary_key(f"pk_{keyed.table}", ["account_id", *keyed.primary_key])
            for name, columns, unique in keyed.indexes_after:
                batch.create_index(name, list(columns), unique=unique)
    for name, select in VIEWS_AFTER.items():
        op.execute(f"CREATE VIEW {name} AS {select}")


def _other_accounts() -> dict[str, list[str]]:
    """Table -> the accounts other than `default` it holds rows of (a few, for the message)."""
    connection = op.get_bind()
    found = {}
    for keyed in TABLES:
        account = sa.column("account_id", sa.Text())
        accounts = connection.execute(
            sa.select(account).distinct().select_from(sa.table(keyed.table, account))
            .where(account != DEFAULT_ACCOUNT_ID).order_by(account).limit(5)).scalars().all()
        if accounts:
            found[keyed.table] = accounts
    return found


def downgrade() -> None:
    others = _other_accounts()
    if others:
        held = "; ".join(f"{table}: {', '.join(accounts)}" for table, accounts in others.items())
        raise RuntimeError(
            "cannot downgrade below revision 0004: rows of accounts other than 'default' are stored "
            f"({held}); before 0004 the tables have no account column, so they could not be told apart from "
            "the default account's. Delete those accounts' rows first (or keep revision 0004).")
    _drop_views(VIEWS_AFTER)
    for keyed in TABLES:
        with op.batch_alter_table(keyed.table) as batch:
            for name, _, _ in keyed.indexes_after:
                batch.drop_index(name)
            if keyed.primary_key is not None:
                batch.drop_constraint(f"pk_{keyed.table}", type_="primary")
                batch.create_primary_key(f"pk_{keyed.table}", list(keyed.primary_key))
            batch.drop_column("account_id")
            for name, columns, unique in keyed.indexes_before:
                batch.create_index(name, list(columns), unique=unique)
    for name, select in VIEWS_BEFORE.items():
        op.execute(f"CREATE VIEW {name} AS {select}")
