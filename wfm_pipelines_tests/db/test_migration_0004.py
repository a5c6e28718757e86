"""Revision 0004 on a database that holds the 0003 schema with rows in every table and raw files in the raw store:
every row is kept and belongs to account `default`, every key starts with the account, the views lead with it, the
raw files read back unchanged; 0004 can be undone while only `default` rows exist, and refuses otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from wfm_pipelines.db import configuration_upsert, queries, window_writer
from wfm_pipelines.db.engine import create_wfm_engine, current_revision, head_revision
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, metadata
from wfm_pipelines.db.types import SQLITE_TIMESTAMP_FORMAT, UtcDateTime
from wfm_pipelines.raw_store import RawFile, RawStore
from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, OWNER_COLUMN
from wfm_pipelines_tests.db.db_frames import volume_frame
from wfm_pipelines_tests.db.test_migration_0002 import AGENTS, MALFORMED_NEW, OLD, T0, old_rows
from wfm_pipelines_tests.db.test_migration_0003 import RAW_ENTRY, fields_of, migrate, store_contents, stored_rows
from wfm_pipelines_tests.raw_store.entries import files_on_disk

# The 0003 tables as they were (without account_id), written out here: schema.py has the current columns.
BEFORE = {
    **{name: OLD[name] for name in ("wfm_queue", "wfm_agent", "wfm_queue_agent", "wfm_contact_volume_interval",
                                    "wfm_agent_state_transaction", "wfm_agent_state_snapshot")},
    "wfm_agent_state_current": sa.table(
        "wfm_agent_state_current", *[sa.column(c.name, c.type) for c in OLD["wfm_agent_state_current"].c],
        sa.column("stale", sa.Boolean())),
    "talkdesk_malformed_entry": sa.table(
        "talkdesk_malformed_entry", sa.column("id", sa.BigInteger()),
        *[sa.column(c.name, c.type) for c in MALFORMED_NEW.c]),
    "talkdesk_raw_file": sa.table(
        "talkdesk_raw_file", sa.column("report_type", sa.Text()), sa.column("window_start", UtcDateTime()),
        sa.column("window_end", UtcDateTime()), sa.column("path", sa.Text()), sa.column("rows", sa.BigInteger()),
        sa.column("bytes", sa.BigInteger()), sa.column("sha256", sa.Text()),
        sa.column("collected_at", UtcDateTime())),
    "talkdesk_report_behaviour": sa.table(
        "talkdesk_report_behaviour", sa.column("report_type", sa.Text()), sa.column("window_field", sa.Text()),
        sa.column("evidence", sa.Text()), sa.column("observed_at", UtcDateTime())),
}
MALFORMED = [
    dict(report_type="calls", owner_at=T0 + timedelta(minutes=20), reason="start_at: not a timestamp",
         entry='{"id": "c-9"}', entry_hash="0" * 32, collected_at=T0 + timedelta(hours=1)),
    dict(report_type="user_status", owner_at=T0 + timedelta(minutes=20), reason="status_time: not a number",
         entry='{"id": "s-9"}', entry_hash="1" * 32, collected_at=T0 + timedelta(hours=1)),
]
BEHAVIOUR = [dict(report_type="user_status", window_field="end", evidence="a record began before its window",
                  observed_at=T0)]
HISTORICAL_COLUMNS = ["account_id", "interval_start", "queue_id", "sumHandleTime", "enteredCount", "abandonedCount"]
REALTIME_COLUMNS = ["account_id", "agent_id", "agent_status", "since", "snapshot_at"]


def rows_of(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, in the 0003 columns (every table has some)."""
    found = {}
    with engine.connect() as connection:
        for name, table in BEFORE.items():
            found[name] = sorted((tuple(row) for row in connection.execute(sa.select(*table.c))), key=repr)
    return found


def accounts_of(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as connection:
        return {name: connection.execute(sa.text(f"SELECT DISTINCT account_id FROM {name}")).scalars().all()
                for name in BEFORE}


def raw_contents_at_0003(engine: Engine, store: RawStore) -> dict[tuple, dict]:
    """What `store_contents` gives, read at 0003 (its catalogue has no account) through the store's file layer."""
    found = {}
    with engine.connect() as connection:
        catalogue = connection.execute(sa.select(*BEFORE["talkdesk_raw_file"].c)).all()
    for row in catalogue:
        for entry in store.files.read(RawFile(**row._mapping)).to_pylist():
            found[(row.report_type, entry[OWNER_COLUMN], entry[KEY_COLUMN])] = fields_of(entry)
    return found


def view(engine: Engine, name: str) -> tuple[list[str], list[tuple]]:
    with engine.connect() as connection:
        result = connection.execute(sa.text(f"SELECT * FROM {name}"))
        return list(result.keys()), sorted((tuple(row) for row in result), key=repr)


@pytest.fixture
def at_0003(database_url, tmp_path) -> Iterator[tuple[Engine, RawStore]]:
    """A database at 0003 with rows in every table, its raw entries moved into files by 0003 itself."""
    engine, store = create_wfm_engine(database_url), RawStore(tmp_path / "raw")
    try:
        migrate(engine, "0002", None)
        with engine.begin() as connection:
            connection.execute(RAW_ENTRY.insert(), stored_rows())
            for name in ("wfm_queue", "wfm_agent", "wfm_queue_agent", "wfm_contact_volume_interval",
                         "wfm_agent_state_transaction", "wfm_agent_state_snapshot", "wfm_agent_state_current"):
                connection.execute(OLD[name].insert(), old_rows()[name])
            connection.execute(MALFORMED_NEW.insert(), MALFORMED)
            connection.execute(BEFORE["talkdesk_report_behaviour"].insert(), BEHAVIOUR)
            current = BEFORE["wfm_agent_state_current"]
            connection.execute(current.update().where(current.c.agent_id == AGENTS[2]).values(stale=True))
        migrate(engine, "0003", store.root)
        assert current_revision(engine) == "0003"
        yield engine, store
    finally:
        engine.dispose()


def test_0004_keeps_every_row_under_the_default_account_and_the_raw_files_readable(at_0003):
    engine, store = at_0003
    before, raw_before = rows_of(engine), raw_contents_at_0003(engine, store)
    paths_before, files_before = {row[3] for row in before["talkdesk_raw_file"]}, files_on_disk(store)
    _, historical_before = view(engine, "community_historical")
    _, realtime_before = view(engine, "community_realtime")
    assert all(before.values()), [name for name, rows in before.items() if not rows]
    assert len(raw_before) == len(stored_rows())

    migrate(engine, "0004", store.root)
    assert current_revision(engine) == "0004"

    assert rows_of(engine) == before  # malformed entries keep their ids, timestamps their microseconds
    assert accounts_of(engine) == {name: [DEFAULT_ACCOUNT_ID] for name in BEFORE}
    assert store_contents(engine, store) == raw_before
    assert {f.path for f in store.catalogued(engine, account_id=DEFAULT_ACCOUNT_ID)} == paths_before
    assert files_on_disk(store) == files_before
    assert {f.account_id for f in store.catalogued(engine, account_id=DEFAULT_ACCOUNT_ID)} == {DEFAULT_ACCOUNT_ID}
    assert store.verify(engine, account_id=DEFAULT_ACCOUNT_ID) == []

    columns, historical = view(engine, "community_historical")
    assert columns == HISTORICAL_COLUMNS
    assert historical == sorted(((DEFAULT_ACCOUNT_ID, *row) for row in historical_before), key=repr)
    columns, realtime = view(engine, "community_realtime")
    assert columns == REALTIME_COLUMNS
    assert realtime == sorted(((DEFAULT_ACCOUNT_ID, *row) for row in realtime_before), key=repr)
    assert len(realtime) == len(AGENTS) - 1  # the stale state stays out

    migrate(engine, "head", store.root)  # the later revisions leave what 0004 did as it is
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    assert differences == []
    inspector = sa.inspect(engine)
    for name in BEFORE:
        [account] = [c for c in inspector.get_columns(name) if c["name"] == "account_id"]
        assert account["default"] is None and not account["nullable"], name
    if engine.dialect.name == "sqlite":  # rebuilt tables: the account first, timestamps still fixed-width text
        assert all(inspector.get_columns(name)[0]["name"] == "account_id" for name in BEFORE)
        with engine.connect() as connection:
            since = connection.execute(sa.text("SELECT since FROM wfm_agent_state_current ORDER BY agent_id")).scalars()
            assert next(since) == old_rows()["wfm_agent_state_current"][0]["since"].strftime(SQLITE_TIMESTAMP_FORMAT)


def test_0004_keys_lead_with_the_account_and_nothing_lands_in_default_by_omission(at_0003):
    engine, store = at_0003
    migrate(engine, "0004", store.root)
    queue = dict(old_rows()["wfm_queue"][0])
    with engine.begin() as connection:  # the same queue id in another account is another row
        connection.execute(metadata.tables["wfm_queue"].insert(), [dict(queue, account_id="north")])
    for row, refused in ((dict(queue, account_id=DEFAULT_ACCOUNT_ID), "the same key twice"),
                         (queue, "no account"),
                         (dict(queue, account_id="south", source_kind="bogus"), "the source_kind check")):
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as connection:
                connection.execute(metadata.tables["wfm_queue"].insert(), [row])
            pytest.fail(f"accepted a queue row despite {refused}")

    # The writers work on the migrated rows: the default account's window is replaced, north's written beside it.
    volume = old_rows()["wfm_contact_volume_interval"]
    start, end = T0, T0 + timedelta(hours=1)
    frame = volume_frame([row["interval_start"] for row in volume if row["queue_id"] == "Sales"], ["Sales"])
    window_writer.replace_window(engine, "wfm_contact_volume_interval", frame, window_start=start, window_end=end,
                                 time_column="interval_start", account_id="north")
    assert len(queries.read_window(engine, "wfm_contact_volume_interval", window_start=start, window_end=end,
                                   time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID)) == len(volume)
    assert len(queries.read_window(engine, "wfm_contact_volume_interval", window_start=start, window_end=end,
                                   time_column="interval_start", account_id="north")) == len(frame)
    _, historical = view(engine, "community_historical")
    assert sorted({row[0] for row in historical}) == [DEFAULT_ACCOUNT_ID, "north"]


def test_0004_can_be_undone_and_done_again_while_only_the_default_account_has_rows(at_0003):
    engine, store = at_0003
    before, raw_before = rows_of(engine), raw_contents_at_0003(engine, store)
    historical_before, realtime_before = view(engine, "community_historical"), view(engine, "community_realtime")
    migrate(engine, "0004", store.root)

    migrate(engine, "0003", store.root, down=True)
    assert current_revision(engine) == "0003"
    assert raw_contents_at_0003(engine, store) == raw_before  # 0003's catalogue names the same files again
    inspector = sa.inspect(engine)
    assert all("account_id" not in {c["name"] for c in inspector.get_columns(name)} for name in BEFORE)
    assert rows_of(engine) == before
    assert view(engine, "community_historical") == historical_before
    assert view(engine, "community_realtime") == realtime_before
    volume_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("wfm_contact_volume_interval")}
    assert volume_indexes == {("interval_start",)}
    assert inspector.get_pk_constraint("wfm_queue_agent")["constrained_columns"] == ["queue_id", "agent_id"]

    migrate(engine, "0004", store.root)
    assert rows_of(engine) == before
    assert store_contents(engine, store) == raw_before and store.verify(engine, account_id=DEFAULT_ACCOUNT_ID) == []


def test_0004_refuses_to_be_undone_while_another_account_has_rows(at_0003):
    engine, store = at_0003
    migrate(engine, "0004", store.root)
    default_agents = queries.read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID)
    configuration_upsert.upsert_configuration(engine, "wfm_agent", default_agents.drop(
        columns=["first_seen_at", "last_seen_at"]), key_columns=["agent_id"], seen_at=T0, account_id="north")
    before = rows_of(engine)

    with pytest.raises(RuntimeError, match=r"accounts other than 'default'.*wfm_agent: north") as refused:
        migrate(engine, "0003", store.root, down=True)
    assert "wfm_queue" not in str(refused.value)  # names the tables that hold them, and only those
    assert current_revision(engine) == "0004"
    assert rows_of(engine) == before
    assert sorted(accounts_of(engine)["wfm_agent"]) == [DEFAULT_ACCOUNT_ID, "north"]
