"""Revision 0005 on a database that holds the 0004 schema with rows in every table: every row is kept, the
remembered window field stays, and a report format can be remembered per account and report type, alone or beside
a window field; 0005 can be undone (rows that remembered only a format go) and done again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from wfm_pipelines.db import report_behaviour
from wfm_pipelines.db.engine import current_revision, head_revision
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, metadata
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines_tests.db.test_migration_0002 import T0
from wfm_pipelines_tests.db.test_migration_0003 import migrate
from wfm_pipelines_tests.db.test_migration_0004 import at_0003, rows_of  # noqa: F401 - at_0003 is a fixture

BEHAVIOUR = sa.table("talkdesk_report_behaviour", sa.column("account_id"), sa.column("report_type"),
                     sa.column("window_field"), sa.column("evidence"), sa.column("observed_at"))


@pytest.fixture
def at_0004(at_0003) -> Iterator[tuple[Engine, RawStore]]:
    engine, store = at_0003
    migrate(engine, "0004", store.root)
    with engine.begin() as connection:  # a second account's window field beside the default account's
        connection.execute(sa.text("INSERT INTO talkdesk_report_behaviour (account_id, report_type, window_field, "
                                   "evidence, observed_at) SELECT 'north', report_type, 'start', 'a record ended "
                                   "after its window', observed_at FROM talkdesk_report_behaviour"))
    assert current_revision(engine) == "0004"
    yield engine, store


def behaviour_rows(engine: Engine) -> list[tuple]:
    with engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(sa.select(*BEHAVIOUR.c)))


def test_0005_keeps_every_row_and_remembers_a_format_beside_the_window_field_or_alone(at_0004):
    engine, store = at_0004
    before, behaviour_before = rows_of(engine), behaviour_rows(engine)
    assert len(behaviour_before) == 2

    migrate(engine, "head", store.root)
    assert current_revision(engine) == head_revision() == "0005"
    assert rows_of(engine) == before and behaviour_rows(engine) == behaviour_before
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id="north") == "start"
    assert report_behaviour.remembered_report_format(engine, "user_status", account_id="north") is None
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    assert differences == []

    at = T0 + timedelta(days=3)
    report_behaviour.remember_report_format(engine, "calls", "json", "CSV header named no documented field", at,
                                            account_id=DEFAULT_ACCOUNT_ID)
    report_behaviour.remember_report_format(engine, "user_status", "json", "CSV header named no documented field",
                                            at, account_id="north")
    calls = report_behaviour.remembered_report_format(engine, "calls", account_id=DEFAULT_ACCOUNT_ID)
    assert (calls.report_format, calls.reason, calls.observed_at) == ("json", "CSV header named no documented field",
                                                                      at)
    assert report_behaviour.remembered_report_format(engine, "calls", account_id="north") is None
    assert report_behaviour.remembered_window_field(engine, "calls", account_id=DEFAULT_ACCOUNT_ID) is None
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id="north") == "start"
    assert report_behaviour.remembered_report_format(engine, "user_status", account_id="north").report_format == "json"
    # A window field learnt later joins the format in the same row.
    report_behaviour.remember_window_field(engine, "calls", "end", "a record began before its window", at,
                                           account_id=DEFAULT_ACCOUNT_ID)
    assert report_behaviour.remembered_report_format(engine, "calls",
                                                     account_id=DEFAULT_ACCOUNT_ID).report_format == "json"
    with pytest.raises(ValueError, match="report_format must be"):
        report_behaviour.remember_report_format(engine, "calls", "xml", "no", at, account_id=DEFAULT_ACCOUNT_ID)
    for refused in ("INSERT INTO talkdesk_report_behaviour (account_id, report_type) VALUES ('south', 'calls')",
                    "INSERT INTO talkdesk_report_behaviour (account_id, report_type, report_format) "
                    "VALUES ('south', 'calls', 'xml')",
                    "INSERT INTO talkdesk_report_behaviour (account_id, report_type, window_field) "
                    "VALUES ('south', 'calls', 'middle')"):  # 0002's check survives the rebuild
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as connection:
                connection.execute(sa.text(refused))


def test_0005_can_be_undone_and_done_again(at_0004):
    engine, store = at_0004
    before, behaviour_before = rows_of(engine), behaviour_rows(engine)
    migrate(engine, "head", store.root)
    at = T0 + timedelta(days=3)
    report_behaviour.remember_report_format(engine, "calls", "json", "CSV header named no documented field", at,
                                            account_id=DEFAULT_ACCOUNT_ID)
    report_behaviour.remember_report_format(engine, "user_status", "json", "CSV header named no documented field", at,
                                            account_id=DEFAULT_ACCOUNT_ID)

    migrate(engine, "0004", store.root, down=True)
    assert current_revision(engine) == "0004"
    # The default account's calls row remembered only a format: 0004 cannot hold it. Window fields stay.
    assert rows_of(engine) == before and behaviour_rows(engine) == behaviour_before
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("talkdesk_report_behaviour")}
    assert "report_format" not in columns and not columns["window_field"]["nullable"]
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO talkdesk_report_behaviour (account_id, report_type, evidence, "
                                       "observed_at) VALUES ('south', 'calls', 'x', '2026-12-02')"))

    migrate(engine, "head", store.root)
    assert rows_of(engine) == before and behaviour_rows(engine) == behaviour_before
    assert report_behaviour.remembered_report_format(engine, "user_status", account_id=DEFAULT_ACCOUNT_ID) is None
