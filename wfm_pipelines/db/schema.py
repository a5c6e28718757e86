"""The WFM tables (docs/tables.md), the raw store's catalogue and the malformed
Talkdesk entries, as SQLAlchemy Core.

All times are UTC instants (`UtcDateTime`). Counts are integers; sums of seconds are doubles because
Talkdesk durations can be fractional. The migrations in `migrations/versions/` create exactly this;
a test compares the two.

Every row belongs to one Talkdesk account (`account_id`, docs/counting-rules.md#accounts): it is the first column and
the first part of every key, so two accounts may use the same queue and agent ids. It has no server default on
purpose: a writer that forgets the account fails instead of writing into `default`.
"""

from __future__ import annotations

import sqlalchemy as sa

from wfm_pipelines.account_ids import (  # noqa: F401 - re-exported for the database layer
    ACCOUNT_ID_PATTERN,
    DEFAULT_ACCOUNT_ID,
    check_account_id,
)
from wfm_pipelines.db.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

Seconds = sa.Double

def _account_column() -> sa.Column:
    return sa.Column("account_id", sa.Text, primary_key=True)


def _seen_columns() -> list[sa.Column]:
    return [
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    ]


wfm_queue = sa.Table(
    "wfm_queue",
    metadata,
    _account_column(),
    sa.Column("queue_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("source_kind", sa.Text, nullable=False),
    sa.Column("service_level_threshold_s", Seconds),
    sa.Column("short_abandon_threshold_s", Seconds),
    sa.Column("active", sa.Boolean, nullable=False),
    *_seen_columns(),
    sa.CheckConstraint("source_kind IN ('ring_group', 'queue')", name="source_kind"),
)

wfm_agent = sa.Table(
    "wfm_agent",
    metadata,
    _account_column(),
    sa.Column("agent_id", sa.Text, primary_key=True),
    # Personal data: never shown in error texts or run metadata (db/validation.py, the IO manager).
    sa.Column("name", sa.Text, info={"personal": True}),
    sa.Column("email", sa.Text, info={"personal": True}),
    sa.Column("extension", sa.Text, info={"personal": True}),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("source_created_at", UtcDateTime()),
    *_seen_columns(),
)

# No foreign keys to wfm_queue / wfm_agent: a membership may be imported before (or without) the
# agent it names, and history rows are never deleted, so there is nothing for a cascade to do.
wfm_queue_agent = sa.Table(
    "wfm_queue_agent",
    metadata,
    _account_column(),
    sa.Column("queue_id", sa.Text, primary_key=True),
    sa.Column("agent_id", sa.Text, primary_key=True),
    *_seen_columns(),
)

# The measures of an interval, in table order: the transforms compute them and the checks test them.
VOLUME_COUNT_COLUMNS = (
    "entered_count",
    "handled_count",
    "abandoned_count",
    "short_abandoned_count",
    "missed_count",
    "voicemail_count",
)
VOLUME_SUM_COLUMNS = (
    "sum_handle_time_s",
    "sum_talk_time_s",
    "sum_hold_time_s",
    "sum_acw_time_s",  # NULL where the report has no after-call work
    "sum_answer_wait_s",
    "sum_abandon_wait_s",
)

wfm_contact_volume_interval = sa.Table(
    "wfm_contact_volume_interval",
    metadata,
    _account_column(),
    sa.Column("queue_id", sa.Text, primary_key=True),
    sa.Column("interval_start", UtcDateTime(), primary_key=True),
    sa.Column("interval_minutes", sa.Integer, nullable=False, server_default=sa.text("15")),
    *[sa.Column(name, sa.Integer, nullable=False) for name in VOLUME_COUNT_COLUMNS],
    *[sa.Column(name, Seconds, nullable=name == "sum_acw_time_s") for name in VOLUME_SUM_COLUMNS],
    sa.Column("answered_in_sl_count", sa.Integer, nullable=False),
    sa.Column("collected_at", UtcDateTime(), nullable=False),
    sa.Index(None, "account_id", "interval_start"),
)

wfm_agent_state_transaction = sa.Table(
    "wfm_agent_state_transaction",
    metadata,
    _account_column(),
    sa.Column("agent_id", sa.Text, primary_key=True),
    sa.Column("state_start", UtcDateTime(), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("state_end", UtcDateTime()),  # NULL while the status is still open
    sa.Column("duration_s", Seconds),
    sa.Column("collected_at", UtcDateTime(), nullable=False),
    sa.Index(None, "account_id", "state_end"),
    sa.Index(None, "account_id", "state_start"),
)

wfm_agent_state_snapshot = sa.Table(
    "wfm_agent_state_snapshot",
    metadata,
    _account_column(),
    sa.Column("agent_id", sa.Text, primary_key=True),
    sa.Column("snapshot_at", UtcDateTime(), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Index(None, "account_id", "snapshot_at"),
)

wfm_agent_state_current = sa.Table(
    "wfm_agent_state_current",
    metadata,
    _account_column(),
    sa.Column("agent_id", sa.Text, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("since", UtcDateTime(), nullable=False),
    # The collection that last saw the agent; `stale` once the last N collections did not (the agent left
    # the active list, or Talkdesk stopped answering for it): its state is no longer shown as current.
    sa.Column("snapshot_at", UtcDateTime(), nullable=False),
    sa.Column("stale", sa.Boolean, nullable=False, server_default=sa.false()),
)

# The raw store's catalogue: one row per Parquet file of kept Talkdesk report entries (`wfm_pipelines.raw_store`),
# so that an interval can be re-aggregated after Talkdesk has dropped the report file (30 days). The windows
# of one report type never overlap: every owning time is in at most one file. A file of zero rows says
# "collected, and empty"; a time in no window was never collected.
talkdesk_raw_file = sa.Table(
    "talkdesk_raw_file",
    metadata,
    _account_column(),
    sa.Column("report_type", sa.Text, primary_key=True),
    sa.Column("window_start", UtcDateTime(), primary_key=True),
    sa.Column("window_end", UtcDateTime(), nullable=False),
    sa.Column("path", sa.Text, nullable=False),  # relative to the store's root, '/'-separated
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),  # of the whole file, hex
    sa.Column("collected_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("path"),
    sa.CheckConstraint("window_start < window_end", name="window"),
    # Overlap lookups: files of an account's report type ending after a window's start.
    sa.Index(None, "account_id", "report_type", "window_end"),
)

talkdesk_malformed_entry = sa.Table(
    "talkdesk_malformed_entry",
    metadata,
    sa.Column("account_id", sa.Text, nullable=False),
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("report_type", sa.Text, nullable=False),
    sa.Column("owner_at", UtcDateTime(), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("entry", sa.Text),
    # blake2b of `entry`: the same entry is kept once per owning time, however often it was fetched.
    sa.Column("entry_hash", sa.Text, nullable=False),
    sa.Column("collected_at", UtcDateTime(), nullable=False),
    # Named: the convention's name would pass PostgreSQL's 63-character limit.
    sa.Index("ix_talkdesk_malformed_entry_account_report_owner_hash", "account_id", "report_type", "owner_at",
             "entry_hash", unique=True),
)

# What was learnt of an account's Explore reports, per report type, so that later runs need not learn it again:
# which timestamp they filter a window on (`end` or `start`, with the evidence; a quiet window, which shows none,
# then does not trigger the month look-back again), and which file format to ask for (`json` once the account's
# CSV header named no documented field; WFM_REPORT_FORMAT=auto). A row remembers one of them or both.
talkdesk_report_behaviour = sa.Table(
    "talkdesk_report_behaviour",
    metadata,
    _account_column(),
    sa.Column("report_type", sa.Text, primary_key=True),
    sa.Column("window_field", sa.Text),
    sa.Column("evidence", sa.Text),
    sa.Column("observed_at", UtcDateTime()),
    sa.Column("report_format", sa.Text),
    sa.Column("report_format_reason", sa.Text),
    sa.Column("report_format_observed_at", UtcDateTime()),
    sa.CheckConstraint("window_field IN ('end', 'start')", name="window_field"),
    sa.CheckConstraint("report_format IN ('csv', 'json')", name="report_format"),
    sa.CheckConstraint("window_field IS NOT NULL OR report_format IS NOT NULL", name="remembers_something"),
)

# The column sets of the CommunityWFM Talkdesk integration spec (docs/tables.md#views), each led by the account
# the row belongs to.
VIEWS: dict[str, str] = {
    "community_historical": (
        "SELECT account_id, interval_start, queue_id, "
        'sum_handle_time_s AS "sumHandleTime", '
        'entered_count AS "enteredCount", '
        'abandoned_count AS "abandonedCount" '
        "FROM wfm_contact_volume_interval"
    ),
    # Stale states are left out: an agent no collection confirms is not shown "On a Call" hours later.
    "community_realtime": (
        "SELECT account_id, agent_id, state AS agent_status, since, snapshot_at "
        "FROM wfm_agent_state_current WHERE NOT stale"
    ),
}

# Columns the configuration upsert maintains (a frame may carry `active`, the source's own flag).
HISTORY_COLUMNS = ("first_seen_at", "last_seen_at", "active")


def table_named(table: sa.Table | str) -> sa.Table:
    """Accept a Table or its name; unknown names are a clear error."""
    if isinstance(table, sa.Table):
        return table
    try:
        return metadata.tables[table]
    except KeyError:
        raise KeyError(f"no WFM table named {table!r}; known: {', '.join(sorted(metadata.tables))}") from None
