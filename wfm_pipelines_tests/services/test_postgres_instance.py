"""The production instance file (deploy/dagster.postgres.yaml) runs and stores events in PostgreSQL."""

import shutil
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

INSTANCE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "dagster.postgres.yaml"


@dg.asset
def tiny_asset() -> int:
    return 42


def test_production_instance_stores_materializations_in_postgres(postgres_url, tmp_path, monkeypatch):
    url = sa.make_url(postgres_url)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_FILE, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_HOST", url.host or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(url.port or 5432))
    monkeypatch.setenv("DAGSTER_PG_USER", url.username or "postgres")
    # The test server trusts local connections; the file still requires the variable.
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", url.password or "unused")
    monkeypatch.setenv("DAGSTER_PG_DB", url.database)

    instance = dg.DagsterInstance.get()
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        result = dg.materialize([tiny_asset], instance=instance)
        assert result.success
        run_id = result.run_id
    finally:
        instance.dispose()

    # A new instance from the same file reads the run and its materialization back from PostgreSQL.
    reopened = dg.DagsterInstance.from_config(str(home))
    try:
        assert reopened.get_run_by_id(run_id).is_success
        event = reopened.get_latest_materialization_event(dg.AssetKey("tiny_asset"))
        assert event is not None and event.run_id == run_id
    finally:
        reopened.dispose()

    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            stored_runs = connection.execute(sa.text("SELECT count(*) FROM runs WHERE run_id = :r"), {"r": run_id}).scalar_one()
            stored_events = connection.execute(
                sa.text("SELECT count(*) FROM event_logs WHERE run_id = :r AND dagster_event_type = 'ASSET_MATERIALIZATION'"),
                {"r": run_id},
            ).scalar_one()
        assert (stored_runs, stored_events) == (1, 1)
    finally:
        engine.dispose()
