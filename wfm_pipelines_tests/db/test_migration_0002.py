"""Revision 0002 on a database that holds the 0001 schema and data: nothing is lost, malformed duplicates are
kept once and then refused, agent states start fresh (not stale), the real-time view gains `snapshot_at`;
and 0002 can be undone and done again. The tests stop at 0002: 0003 moves the raw entries out of the database
(`test_migration_0003.py`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import (
    alembic_config,
    create_wfm_engine,
    current_revision,
    write_connection,
)
from wfm_pipelines.db.types import SQLITE_TIMESTAMP_FORMAT, UtcDateTime
from wfm_pipelines.talkdesk.parsing import stable_hash

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MICRO = timedelta(microseconds=123456)

# The 0001 tables, written out here (schema.py has the current columns); only 0001 columns.
OLD = {
    "wfm_queue": sa.table(
        "wfm_queue", sa.column("queue_id", sa.Text()), sa.column("name", sa.Text()),
        sa.column("source_kind", sa.Text()), sa.column("service_level_threshold_s", sa.Double()),
        sa.column("short_abandon_threshold_s", sa.Double()), sa.column("active", sa.Boolean()),
        sa.column("first_seen_at", UtcDateTime()), sa.column("last_seen_at", UtcDateTime())),
    "wfm_agent": sa.table(
        "wfm_agent", sa.column("agent_id", sa.Text()), sa.column("name", sa.Text()), sa.column("email", sa.Text()),
        sa.column("extension", sa.Text()), sa.column("active", sa.Boolean()),
        sa.column("source_created_at", UtcDateTime()), sa.column("first_seen_at", UtcDateTime()),
        sa.column("last_seen_at", UtcDateTime())),
    "wfm_queue_agent": sa.table(
        "wfm_queue_agent", sa.column("queue_id", sa.Text()), sa.column("agent_id", sa.Text()),
        sa.column("first_seen_at", UtcDateTime()), sa.column("last_seen_at", UtcDateTime())),
    "wfm_contact_volume_interval": sa.table(
        "wfm_contact_volume_interval", sa.column("queue_id", sa.Text()), sa.column("interval_start", UtcDateTime()),
        sa.column("interval_minutes", sa.Integer()), sa.column("entered_count", sa.Integer()),
        sa.column("handled_count", sa.Integer()), sa.column("abandoned_count", sa.Integer()),
        sa.column("short_abandoned_count", sa.Integer()), sa.column("missed_count", sa.Integer()),
        sa.column("voicemail_count", sa.Integer()), sa.column("sum_handle_time_s", sa.Double()),
        sa.column("sum_talk_time_s", sa.Double()), sa.column("sum_hold_time_s", sa.Double()),
        sa.column("sum_acw_time_s", sa.Double()), sa.column("sum_answer_wait_s", sa.Double()),
        sa.column("sum_abandon_wait_s", sa.Double()), sa.column("answered_in_sl_count", sa.Integer()),
        sa.column("collected_at", UtcDateTime())),
    "wfm_agent_state_transaction": sa.table(
        "wfm_agent_state_transaction", sa.column("agent_id", sa.Text()), sa.column("state_start", UtcDateTime()),
        sa.column("state", sa.Text()), sa.column("state_end", UtcDateTime()), sa.column("duration_s", sa.Double()),
        sa.column("collected_at", UtcDateTime())),
    "wfm_agent_state_snapshot": sa.table(
        "wfm_agent_state_snapshot", sa.column("agent_id", sa.Text()), sa.column("snapshot_at", UtcDateTime()),
        sa.column("state", sa.Text())),
    "wfm_agent_state_current": sa.table(
        "wfm_agent_state_current", sa.column("agent_id", sa.Text()), sa.column("state", sa.Text()),
        sa.column("since", UtcDateTime()), sa.column("snapshot_at", UtcDateTime())),
    "talkdesk_raw_entry": sa.table(
        "talkdesk_raw_entry", sa.column("report_type", sa.Text()), sa.column("owner_at", UtcDateTime()),
        sa.column("entry_key", sa.Text()), sa.column("entry", sa.Text()), sa.column("collected_at", UtcDateTime())),
    "talkdesk_malformed_entry": sa.table(
        "talkdesk_malformed_entry", sa.column("id", sa.BigInteger()), sa.column("report_type", sa.Text()),
        sa.column("owner_at", UtcDateTime()), sa.column("reason", sa.Text()), sa.column("entry", sa.Text()),
        sa.column("collected_at", UtcDateTime())),
}
MALFORMED_NEW = sa.table(
    "talkdesk_malformed_entry", sa.column("report_type", sa.Text()), sa.column("owner_at", UtcDateTime()),
    sa.column("reason", sa.Text()), sa.column("entry", sa.Text()), sa.column("entry_hash", sa.Text()),
    sa.column("collected_at", UtcDateTime()))
CURRENT_NEW = sa.table("wfm_agent_state_current", sa.column("agent_id", sa.Text()), sa.column("stale", sa.Boolean()))
REALTIME = sa.table("community_realtime", sa.column("agent_id", sa.Text()), sa.column("agent_status", sa.Text()),
                    sa.column("since", UtcDateTime()), sa.column("snapshot_at", UtcDateTime()))

AGENTS = ["a-001", "a-002", "a-003"]
BAD_ENTRY = json.dumps({"id": "c-9", "start_at": "not a time", "ring_groups": "Sales"}, sort_keys=True)
OTHER_BAD_ENTRY = json.dumps({"id": "c-10", "type": "inbound", "talk_time": "-"}, sort_keys=True)


def old_rows() -> dict[str, list[dict]]:
    """Rows for every 0001 table (malformed entries apart: their ids are the database's)."""
    collected = T0 + timedelta(hours=3) + MICRO
    return {
        "wfm_queue": [
            dict(queue_id="Sales", name="Sales", source_kind="ring_group", service_level_threshold_s=20.0,
                 short_abandon_threshold_s=5.0, active=True, first_seen_at=T0, last_seen_at=collected),
            dict(queue_id="Support", name="Support", source_kind="ring_group", service_level_threshold_s=None,
                 short_abandon_threshold_s=None, active=False, first_seen_at=T0, last_seen_at=T0 + MICRO),
        ],
        "wfm_agent": [
            dict(agent_id=agent, name=f"Agent {i}", email=f"agent{i}@example.com", extension=str(1000 + i),
                 active=i != 2, source_created_at=T0 - timedelta(days=400 + i), first_seen_at=T0,
                 last_seen_at=collected)
            for i, agent in enumerate(AGENTS)
        ],
        "wfm_queue_agent": [
            dict(queue_id="Sales", agent_id="a-001", first_seen_at=T0, last_seen_at=collected),
            dict(queue_id="Support", agent_id="a-002", first_seen_at=T0, last_seen_at=collected),
        ],
        "wfm_contact_volume_interval": [
            dict(queue_id=queue, interval_start=T0 + timedelta(minutes=15 * k), interval_minutes=15,
                 entered_count=10 + k, handled_count=8 + k, abandoned_count=2, short_abandoned_count=1,
                 missed_count=0, voicemail_count=k % 2, sum_handle_time_s=1234.5 + k, sum_talk_time_s=1000.25,
                 sum_hold_time_s=60.0, sum_acw_time_s=None if k == 1 else 42.0, sum_answer_wait_s=88.5,
                 sum_abandon_wait_s=12.75, answered_in_sl_count=7, collected_at=collected)
            for queue in ("Sales", "Support") for k in range(3)
        ],
        "wfm_agent_state_transaction": [
            dict(agent_id="a-001", state_start=T0, state="available", state_end=T0 + timedelta(minutes=7) + MICRO,
                 duration_s=420.123456, collected_at=collected),
            dict(agent_id="a-002", state_start=T0 + timedelta(minutes=3), state="on_call", state_end=None,
                 duration_s=None, collected_at=collected),
        ],
        "wfm_agent_state_snapshot": [
            dict(agent_id=agent, snapshot_at=T0 + timedelta(minutes=m), state=state)
            for m in (0, 1) for agent, state in zip(AGENTS, ["available", "on_call", "away"])
        ],
        "wfm_agent_state_current": [
            dict(agent_id=agent, state=state, since=T0 - timedelta(minutes=5 * i) + MICRO,
                 snapshot_at=T0 + timedelta(minutes=1))
            for i, (agent, state) in enumerate(zip(AGENTS, ["available", "on_call", "away"]))
        ],
        "talkdesk_raw_entry": [
            dict(report_type="calls", owner_at=T0 + timedelta(minutes=k), entry_key=f"c-{k}",
                 entry=json.dumps({"id": f"c-{k}", "type": "inbound"}), collected_at=collected)
            for k in range(3)
        ] + [dict(report_type="user_status", owner_at=T0 + timedelta(minutes=7) + MICRO, entry_key="s-1",
                  entry=json.dumps({"user_id": "a-001", "status_label": "available"}), collected_at=collected)],
    }


MALFORMED = [  # inserted in this order: the first two are exact duplicates
    dict(report_type="calls", owner_at=T0 + timedelta(minutes=20), reason="start_at: not a timestamp",
         entry=BAD_ENTRY, collected_at=T0 + timedelta(hours=1)),
    dict(report_type="calls", owner_at=T0 + timedelta(minutes=20), reason="start_at: not a timestamp",
         entry=BAD_ENTRY, collected_at=T0 + timedelta(hours=2)),
    dict(report_type="calls", owner_at=T0 + timedelta(minutes=20), reason="talk_time: not a number",
         entry=OTHER_BAD_ENTRY, collected_at=T0 + timedelta(hours=1)),
]


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    with write_connection(engine) as connection, connection.begin():
        (command.downgrade if down else command.upgrade)(alembic_config(connection), revision)


def read_all(engine: Engine, name: str) -> list[tuple]:
    table = OLD[name]
    with engine.connect() as connection:
        rows = connection.execute(sa.select(*table.c)).all()
    return sorted((tuple(row) for row in rows), key=repr)


def as_tuples(name: str, rows: list[dict]) -> list[tuple]:
    columns = [c.name for c in OLD[name].c]
    return sorted((tuple(row[c] for c in columns) for row in rows), key=repr)


def malformed_rows(engine: Engine) -> list[tuple]:
    table = OLD["talkdesk_malformed_entry"]
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(*table.c).order_by(table.c.id)).all()]


@pytest.fixture
def engine_at_0001(database_url) -> Iterator[Engine]:
    """A database at revision 0001, holding rows in every table."""
    engine = create_wfm_engine(database_url)
    try:
        assert current_revision(engine) is None
        migrate(engine, "0001")
        assert current_revision(engine) == "0001"
        with engine.begin() as connection:
            for name, rows in old_rows().items():
                connection.execute(OLD[name].insert(), rows)
            for row in MALFORMED:  # one at a time: the ids follow the insertion order
                connection.execute(OLD["talkdesk_malformed_entry"].insert(), [row])
        yield engine
    finally:
        engine.dispose()


def test_0002_keeps_every_row_and_keeps_a_malformed_duplicate_once(engine_at_0001):
    engine = engine_at_0001
    before = {name: read_all(engine, name) for name in OLD}
    for name, rows in old_rows().items():
        assert before[name] == as_tuples(name, rows), name  # what was inserted reads back unchanged at 0001
    malformed_before = malformed_rows(engine)
    assert len(malformed_before) == 3

    migrate(engine, "0002")
    assert current_revision(engine) == "0002"

    for name in OLD:
        if name != "talkdesk_malformed_entry":
            assert read_all(engine, name) == before[name], name
    # the duplicate is gone; the oldest of the two (lowest id) and the distinct entry are kept unchanged
    assert malformed_rows(engine) == [malformed_before[0], malformed_before[2]]

    if engine.dialect.name == "sqlite":  # timestamps are still fixed-width UTC text after the table rebuilds
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT owner_at FROM talkdesk_malformed_entry ORDER BY id")).scalars().all()
            since = connection.execute(sa.text("SELECT since FROM wfm_agent_state_current ORDER BY agent_id")).scalars().all()
        assert stored == [(T0 + timedelta(minutes=20)).strftime(SQLITE_TIMESTAMP_FORMAT)] * 2
        assert since[0] == (T0 + MICRO).strftime(SQLITE_TIMESTAMP_FORMAT)


def test_0002_fills_entry_hash_and_refuses_the_same_malformed_entry_twice(engine_at_0001):
    engine = engine_at_0001
    migrate(engine, "0002")
    with engine.connect() as connection:
        hashes = connection.execute(sa.select(MALFORMED_NEW.c.entry, MALFORMED_NEW.c.entry_hash)
                                    .order_by(MALFORMED_NEW.c.entry)).all()
    assert sorted(hashes) == sorted([(BAD_ENTRY, stable_hash(BAD_ENTRY)), (OTHER_BAD_ENTRY, stable_hash(OTHER_BAD_ENTRY))])
    assert all(len(digest) == 32 for _, digest in hashes)

    again = dict(MALFORMED[0], entry_hash=stable_hash(BAD_ENTRY), collected_at=T0 + timedelta(hours=5))
    with pytest.raises(sa.exc.IntegrityError) as refused:
        with engine.begin() as connection:
            connection.execute(MALFORMED_NEW.insert(), [again])
    assert "entry_hash" in str(refused.value)
    # the same entry owned by another time is a different row, and is accepted
    with engine.begin() as connection:
        connection.execute(MALFORMED_NEW.insert(), [dict(again, owner_at=T0 + timedelta(minutes=35))])
    assert len(malformed_rows(engine)) == 3


def test_0002_migrated_agent_states_are_not_stale_and_show_in_the_realtime_view(engine_at_0001):
    engine = engine_at_0001
    migrate(engine, "0002")
    with engine.connect() as connection:
        stale = connection.execute(sa.select(CURRENT_NEW.c.agent_id, CURRENT_NEW.c.stale)
                                   .order_by(CURRENT_NEW.c.agent_id)).all()
        view = connection.execute(sa.text("SELECT * FROM community_realtime"))
        view_columns = list(view.keys())
        view.close()
        realtime = connection.execute(sa.select(*REALTIME.c).order_by(REALTIME.c.agent_id)).all()
        behaviour_count = connection.execute(sa.text("SELECT count(*) FROM talkdesk_report_behaviour")).scalar_one()
    assert [(agent, bool(flag)) for agent, flag in stale] == [(agent, False) for agent in AGENTS]
    assert all(flag is False for _, flag in stale)
    assert view_columns == ["agent_id", "agent_status", "since", "snapshot_at"]
    expected = old_rows()["wfm_agent_state_current"]
    assert [tuple(r) for r in realtime] == [(r["agent_id"], r["state"], r["since"], r["snapshot_at"]) for r in expected]
    assert "talkdesk_report_behaviour" in sa.inspect(engine).get_table_names()
    assert behaviour_count == 0


def test_0002_can_be_undone_and_done_again(engine_at_0001):
    engine = engine_at_0001
    migrate(engine, "0002")
    at_head = {name: read_all(engine, name) for name in OLD}

    migrate(engine, "0001", down=True)
    assert current_revision(engine) == "0001"
    inspector = sa.inspect(engine)
    assert "talkdesk_report_behaviour" not in inspector.get_table_names()
    assert "entry_hash" not in {c["name"] for c in inspector.get_columns("talkdesk_malformed_entry")}
    assert "stale" not in {c["name"] for c in inspector.get_columns("wfm_agent_state_current")}
    with engine.connect() as connection:
        view = connection.execute(sa.text("SELECT * FROM community_realtime"))
        assert list(view.keys()) == ["agent_id", "agent_status", "since"]
        assert len(view.all()) == len(AGENTS)
    assert {name: read_all(engine, name) for name in OLD} == at_head

    migrate(engine, "0002")
    assert current_revision(engine) == "0002"
    assert {name: read_all(engine, name) for name in OLD} == at_head
    with engine.connect() as connection:
        hashes = connection.execute(sa.select(MALFORMED_NEW.c.entry, MALFORMED_NEW.c.entry_hash)).all()
        stale = connection.execute(sa.select(CURRENT_NEW.c.stale)).scalars().all()
    assert sorted(hashes) == sorted([(BAD_ENTRY, stable_hash(BAD_ENTRY)), (OTHER_BAD_ENTRY, stable_hash(OTHER_BAD_ENTRY))])
    assert [bool(s) for s in stale] == [False] * len(AGENTS)
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as connection:
            connection.execute(MALFORMED_NEW.insert(), [dict(MALFORMED[0], entry_hash=stable_hash(BAD_ENTRY))])
