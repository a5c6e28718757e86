"""Migrations from an empty database, the `wfm-db` command, and the migration matching schema.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from wfm_pipelines.db.engine import (
    alembic_config,
    create_wfm_engine,
    current_revision,
    ensure_schema,
    head_revision,
    normalise_url,
    write_connection,
)
from wfm_pipelines.db.schema import VIEWS, metadata

EXPECTED_TABLES = {
    "wfm_queue",
    "wfm_agent",
    "wfm_queue_agent",
    "wfm_contact_volume_interval",
    "wfm_agent_state_transaction",
    "wfm_agent_state_snapshot",
    "wfm_agent_state_current",
    "talkdesk_raw_file",
    "talkdesk_malformed_entry",
}


def wfm_db_command() -> list[str]:
    script = Path(sys.executable).with_name("wfm-db")
    return [str(script)] if script.exists() else [sys.executable, "-m", "wfm_pipelines.db.cli"]


def run_wfm_db(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*wfm_db_command(), *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_upgrade_from_empty_creates_every_table_and_view(database_url):
    engine = create_wfm_engine(database_url)
    try:
        assert current_revision(engine) is None
        ensure_schema(engine)
        inspector = sa.inspect(engine)
        assert EXPECTED_TABLES <= set(inspector.get_table_names())
        assert set(VIEWS) <= set(inspector.get_view_names())
        assert current_revision(engine) == head_revision()
        volume_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("wfm_contact_volume_interval")}
        assert ("account_id", "interval_start") in volume_indexes  # a window of one account
        # Every key starts with the account, in that order, on both backends.
        for name, table in metadata.tables.items():
            if name != "talkdesk_malformed_entry":  # keyed by its id
                assert inspector.get_pk_constraint(name)["constrained_columns"] == [
                    c.name for c in table.primary_key.columns], name
                assert table.primary_key.columns[0].name == "account_id", name
    finally:
        engine.dispose()


def test_migrated_schema_matches_schema_module(database_url):
    engine = create_wfm_engine(database_url)
    try:
        ensure_schema(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_downgrade_to_base_then_upgrade_again(database_url):
    engine = create_wfm_engine(database_url)
    try:
        ensure_schema(engine)
        with write_connection(engine) as connection, connection.begin():
            command.downgrade(alembic_config(connection), "base")
        assert not EXPECTED_TABLES & set(sa.inspect(engine).get_table_names())
        with write_connection(engine) as connection, connection.begin():
            command.upgrade(alembic_config(connection), "head")
        assert EXPECTED_TABLES <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_cli_upgrade_then_current(database_url):
    first = run_wfm_db("--url", database_url, "upgrade")
    assert first.returncode == 0, first.stderr
    assert f"revision {head_revision()} (upgraded from empty)" in first.stdout
    again = run_wfm_db("--url", database_url, "upgrade")
    assert "already at head" in again.stdout
    current = run_wfm_db("current", env={"WFM_DATABASE_URL": database_url})
    assert current.returncode == 0, current.stderr
    assert f"revision {head_revision()} (head)" in current.stdout
    engine = create_wfm_engine(database_url)
    try:
        assert EXPECTED_TABLES <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_cli_never_prints_the_password(postgres_url):
    # The test server trusts local connections, so any password is accepted and must stay hidden.
    with_password = sa.make_url(postgres_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    result = run_wfm_db("--url", with_password, "upgrade")
    assert result.returncode == 0, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "***" in result.stdout


def test_cli_default_url_is_the_sqlite_file_under_dagster_home(tmp_path, monkeypatch):
    env = {"DAGSTER_HOME": str(tmp_path / "home"), "WFM_DATABASE_URL": ""}
    result = subprocess.run([*wfm_db_command(), "upgrade"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, **env}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "home" / "wfm.db").exists()


def test_two_processes_upgrading_at_once_both_succeed(database_url):
    processes = [
        subprocess.Popen([*wfm_db_command(), "--url", database_url, "upgrade"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    engine = create_wfm_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_urls_are_normalised_to_psycopg_and_other_drivers_refused():
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(ValueError, match="psycopg"):
        normalise_url("postgresql+psycopg2://u@h/db")
    with pytest.raises(ValueError, match="unsupported"):
        normalise_url("mysql://u@h/db")


def test_sqlite_engine_creates_its_directory_and_sets_pragmas(tmp_path):
    engine = create_wfm_engine(f"sqlite:///{tmp_path / 'deep' / 'dir' / 'wfm.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert (tmp_path / "deep" / "dir" / "wfm.db").exists()
    finally:
        engine.dispose()
