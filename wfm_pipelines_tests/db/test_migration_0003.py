"""Revision 0003 on a database that holds the 0002 schema and raw entries: every entry moves into the raw store's
Parquet files (one per report type and UTC day) and reads back exactly; 0003 can be undone (the entries come back
into `talkdesk_raw_entry`) and done again; a migration that fails leaves the entries where they were."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import alembic_config, create_wfm_engine, current_revision, head_revision, write_connection
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.db.types import UtcDateTime
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.talkdesk.report_table import BROKEN_COLUMN, KEY_COLUMN, OWNER_COLUMN, value_text
from wfm_pipelines_tests.db.test_migration_0002 import OLD, old_rows, read_all
from wfm_pipelines_tests.raw_store.entries import a_day_after_the_newest_file, files_on_disk

UTC = timezone.utc
DAY1 = datetime(2026, 3, 1, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
RAW_ENTRY = sa.table(
    "talkdesk_raw_entry", sa.column("report_type", sa.Text()), sa.column("owner_at", UtcDateTime()),
    sa.column("entry_key", sa.Text()), sa.column("entry", sa.Text()), sa.column("collected_at", UtcDateTime()))


def stored_rows() -> list[dict]:
    """Raw entries as 0002 kept them: JSON text of every shape a report gives, over two days and two types."""
    calls = [
        (DAY1 + timedelta(hours=9), "c-1", {"call_id": "c-1", "type": "inbound", "talk_time": 120, "wait_time": 4.5,
                                            "ring_groups": "Sales,Support", "is_transfer": False, "notes": None}),
        (DAY1 + timedelta(hours=9), "c-2", {"call_id": "c-2", "type": "abandoned", "csat_score": None,
                                            "ivr_options": ["1", "2"], "extra": {"a": 1}}),
        (DAY1 + timedelta(hours=23, minutes=59, seconds=59, microseconds=999999), "c-3",
         {"call_id": "c-3", "type": "inbound", "user_name": "Zoë Ñandú 雪", "notes": "a\nb\t\"c\""}),
        (DAY2, "c-4", {"call_id": "c-4", "type": "missed", "user_name": "Ana \ud83d", "talk_time": 1e-05}),
        (DAY2 + timedelta(hours=5), "c-5", {"call_id": "c-5", "type": "voicemail", "big": 12345678901234567890}),
    ]
    statuses = [
        (DAY1 + timedelta(hours=10, minutes=7), "s-1", {"user_id": "a-1", "status_label": "Available",
                                                        "status_time": 420}),
        (DAY2 + timedelta(hours=1), "s-2", {"user_id": "a-2", "status_label": "On a Call", "is_user_active": True}),
    ]
    rows = []
    for report_type, entries in (("calls", calls), ("user_status", statuses)):
        for k, (owner_at, key, entry) in enumerate(entries):
            rows.append(dict(report_type=report_type, owner_at=owner_at, entry_key=key, entry=json.dumps(entry),
                             collected_at=owner_at.replace(hour=0, minute=0, second=0, microsecond=0)
                             + timedelta(days=1, minutes=k)))
    return rows


def kept_fields(entry_text: str) -> dict[str, str]:
    """An entry as the raw store keeps it: each non-null field as its text (`report_table.value_text`), a lone
    surrogate (which UTF-8 cannot hold) replaced by U+FFFD and its field named in BROKEN_COLUMN."""
    fields, broken = {}, []
    for name, value in json.loads(entry_text).items():
        if value is None:
            continue
        text = value_text(value)
        fields[name] = "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)
        if fields[name] != text:
            broken.append(name)
    return fields | ({BROKEN_COLUMN: ",".join(broken)} if broken else {})


def fields_of(row: dict) -> dict[str, str]:
    return {name: text for name, text in row.items() if text is not None and name not in (OWNER_COLUMN, KEY_COLUMN)}


def migrate(engine: Engine, revision: str, root, *, down: bool = False) -> None:
    with write_connection(engine) as connection, connection.begin():
        config = alembic_config(connection, raw_store_root=None if root is None else str(root))
        (command.downgrade if down else command.upgrade)(config, revision)


def store_contents(engine: Engine, store: RawStore) -> dict[tuple, dict]:
    """(report type, owning time, key) -> the entry's fields, over everything the store holds."""
    found = {}
    for report_type in ("calls", "user_status"):
        table = store.read_window(engine, report_type, DAY1 - timedelta(days=30), DAY2 + timedelta(days=30),
                                  account_id=DEFAULT_ACCOUNT_ID)
        for row in table.to_pylist():
            found[(report_type, row[OWNER_COLUMN], row[KEY_COLUMN])] = fields_of(row)
    return found


def raw_entry_rows(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(*RAW_ENTRY.c)).all()
    return sorted((dict(row._mapping) for row in rows), key=lambda r: (r["report_type"], r["owner_at"], r["entry_key"]))


# The WFM tables 0003 leaves alone, with the rows test_migration_0002 uses.
OTHER_TABLES = [name for name in OLD if name not in ("talkdesk_raw_entry", "talkdesk_malformed_entry")]


def other_tables(engine: Engine) -> dict[str, list[tuple]]:
    return {name: read_all(engine, name) for name in OTHER_TABLES}


@pytest.fixture
def engine_at_0002(database_url) -> Iterator[Engine]:
    engine = create_wfm_engine(database_url)
    try:
        migrate(engine, "0002", None)
        with engine.begin() as connection:
            connection.execute(RAW_ENTRY.insert(), stored_rows())
            for name in OTHER_TABLES:  # 0001's columns: 0002 added only defaulted ones to these tables
                connection.execute(OLD[name].insert(), old_rows()[name])
        yield engine
    finally:
        engine.dispose()


def test_0003_moves_every_raw_entry_into_one_file_per_report_type_and_day(engine_at_0002, tmp_path):
    engine, store = engine_at_0002, RawStore(tmp_path / "raw")
    migrate(engine, "head", store.root)
    assert current_revision(engine) == head_revision()
    assert "talkdesk_raw_entry" not in sa.inspect(engine).get_table_names()

    rows = stored_rows()
    catalogued = store.catalogued(engine, account_id=DEFAULT_ACCOUNT_ID)
    assert [(f.report_type, f.window_start, f.window_end, f.rows) for f in catalogued] == [
        ("calls", DAY1, DAY2, 3), ("calls", DAY2, DAY2 + timedelta(days=1), 2),
        ("user_status", DAY1, DAY2, 1), ("user_status", DAY2, DAY2 + timedelta(days=1), 1)]
    assert [f.collected_at for f in catalogued] == [  # the latest of the day's rows
        max(r["collected_at"] for r in rows if r["report_type"] == f.report_type
            and f.window_start <= r["owner_at"] < f.window_end) for f in catalogued]
    assert files_on_disk(store) == {f.path for f in catalogued}
    assert store.verify(engine, account_id=DEFAULT_ACCOUNT_ID) == []

    contents = store_contents(engine, store)
    assert contents == {(r["report_type"], r["owner_at"], r["entry_key"]): kept_fields(r["entry"]) for r in rows}
    broken = store.read_window(engine, "calls", DAY2, DAY2 + timedelta(hours=1), account_id=DEFAULT_ACCOUNT_ID)
    assert broken.column(BROKEN_COLUMN).to_pylist() == ["user_name"]  # the lone surrogate, marked as collection does
    assert contents[("calls", DAY2 + timedelta(hours=5), "c-5")]["big"] == "12345678901234567890"


def test_0003_can_be_undone_and_done_again_and_the_entries_survive_exactly(engine_at_0002, tmp_path):
    engine, store = engine_at_0002, RawStore(tmp_path / "raw")
    untouched = other_tables(engine)
    assert all(untouched.values())
    migrate(engine, "head", store.root)
    assert other_tables(engine) == untouched
    first_files = {f.path for f in store.catalogued(engine, account_id=DEFAULT_ACCOUNT_ID)}
    after_upgrade = store_contents(engine, store)

    migrate(engine, "0002", store.root, down=True)
    assert current_revision(engine) == "0002"
    assert "talkdesk_raw_file" not in sa.inspect(engine).get_table_names()
    restored = raw_entry_rows(engine)
    originals = sorted(stored_rows(), key=lambda r: (r["report_type"], r["owner_at"], r["entry_key"]))
    assert [(r["report_type"], r["owner_at"], r["entry_key"]) for r in restored] == [
        (r["report_type"], r["owner_at"], r["entry_key"]) for r in originals]
    for back, original in zip(restored, originals):
        # The same fields with the same text: a JSON number comes back as its text, as the store keeps it.
        assert kept_fields(back["entry"]) == kept_fields(original["entry"])
        assert back["collected_at"] == max(r["collected_at"] for r in originals if r["report_type"] ==
                                           original["report_type"] and r["owner_at"].date() == original["owner_at"].date())
    assert kept_fields(restored[3]["entry"])["user_name"] == "Ana \ufffd"
    assert json.loads(restored[0]["entry"]) == {"call_id": "c-1", "type": "inbound", "talk_time": "120",
                                                "wait_time": "4.5", "ring_groups": "Sales,Support",
                                                "is_transfer": "false"}
    assert files_on_disk(store) == first_files  # left on disk (orphans now), never deleted inside the migration
    assert other_tables(engine) == untouched

    migrate(engine, "head", store.root)
    assert store_contents(engine, store) == after_upgrade
    assert {f.path for f in store.catalogued(engine, account_id=DEFAULT_ACCOUNT_ID)}.isdisjoint(first_files)
    # The replaced files were just left behind; a day on they are past the orphans' grace period.
    assert sorted(store.remove_orphans(engine, now=a_day_after_the_newest_file(store),
                                       account_id=DEFAULT_ACCOUNT_ID)) == sorted(first_files)
    assert store.verify(engine, account_id=DEFAULT_ACCOUNT_ID) == []
    assert other_tables(engine) == untouched


def test_0003_finds_the_raw_store_in_the_environment(engine_at_0002, tmp_path, monkeypatch):
    monkeypatch.setenv("WFM_RAW_STORE", f"file://{tmp_path / 'from env'}")
    migrate(engine_at_0002, "head", None)
    store = RawStore(tmp_path / "from env")
    assert len(files_on_disk(store)) == 4 and store.verify(engine_at_0002, account_id=DEFAULT_ACCOUNT_ID) == []


def test_a_failed_0003_leaves_the_entries_in_the_database(engine_at_0002, tmp_path):
    (tmp_path / "not-a-directory").write_text("a file where the raw store should be")
    with pytest.raises(OSError):
        migrate(engine_at_0002, "head", tmp_path / "not-a-directory" / "raw")
    assert current_revision(engine_at_0002) == "0002"
    inspector = sa.inspect(engine_at_0002)
    assert "talkdesk_raw_file" not in inspector.get_table_names()
    assert raw_entry_rows(engine_at_0002) == sorted(stored_rows(), key=lambda r: (r["report_type"], r["owner_at"],
                                                                                 r["entry_key"]))


def test_0003_on_a_database_without_raw_entries_needs_no_raw_store(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("WFM_RAW_STORE", "s3://not-checked/raw")  # read only when there is something to move
    engine = create_wfm_engine(database_url)
    try:
        migrate(engine, "0002", None)
        migrate(engine, "head", None)
        assert current_revision(engine) == head_revision()
        migrate(engine, "0002", None, down=True)
        assert raw_entry_rows(engine) == []
    finally:
        engine.dispose()
