"""WfmTableIOManager and WfmStore through real `dagster.materialize` runs."""
# No `from __future__ import annotations`: Dagster reads the `context` annotations at definition time.


from datetime import datetime, timedelta, timezone

import dagster as dg
import pandas as pd
import pytest

from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db import queries, window_writer
from wfm_pipelines.db.queries import read_table
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.defs.store import WfmStore
from wfm_pipelines.defs.resources import build_resources
from wfm_pipelines.settings import load_settings

from wfm_pipelines_tests.db.db_frames import QUARTER, T0, quarters, volume_frame

FIFTEEN_MINUTES = dg.TimeWindowPartitionsDefinition(
    cron_schedule="*/15 * * * *", start=datetime(2025, 3, 1, tzinfo=timezone.utc), fmt="%Y-%m-%d-%H:%M", timezone="UTC"
)
VOLUME_METADATA = {"wfm/table": "wfm_contact_volume_interval", "wfm/time_column": "interval_start"}


@dg.asset(partitions_def=FIFTEEN_MINUTES, metadata=VOLUME_METADATA, io_manager_key="wfm_io_manager")
def volume(context: dg.AssetExecutionContext) -> pd.DataFrame:
    window = context.partition_time_window
    starts = pd.date_range(window.start, window.end, freq="15min", inclusive="left")
    seed = int(context.run.tags.get("seed", "0"))
    return volume_frame(starts, ["q1", "q2"], seed=seed)


@dg.asset(partitions_def=FIFTEEN_MINUTES, io_manager_key="mem")
def volume_check(volume: pd.DataFrame) -> int:
    assert str(volume["interval_start"].dtype) == "datetime64[ns, UTC]"
    return len(volume)


@dg.asset(metadata={"wfm/table": "wfm_agent", "wfm/key_columns": ["agent_id"]}, io_manager_key="wfm_io_manager")
def agents(context: dg.AssetExecutionContext) -> pd.DataFrame:
    ids = context.run.tags["agents"].split(",")
    return pd.DataFrame({"agent_id": ids, "name": [i.upper() for i in ids],
                         "seen_at": datetime.fromisoformat(context.run.tags["seen_at"])})


@dg.asset(metadata={"wfm/table": "wfm_contact_volume_interval", "wfm/time_column": "interval_start"}, io_manager_key="wfm_io_manager")
def unpartitioned_volume() -> pd.DataFrame:
    return volume_frame([T0], ["q1"])


def resources(url: str) -> dict:
    return {"wfm_io_manager": build_resources(load_settings({"WFM_DATABASE_URL": url}))["wfm_io_manager"],
            "mem": dg.InMemoryIOManager()}


def materializations(result: dg.ExecuteInProcessResult, key: str) -> list[dg.AssetMaterialization]:
    return list(result.asset_materializations_for_node(key))


def materialization(result: dg.ExecuteInProcessResult, key: str) -> dg.AssetMaterialization:
    [event] = materializations(result, key)
    return event


def test_partition_write_rewrite_and_metadata(database_url):
    partition = "2025-03-01-12:00"
    first = dg.materialize([volume, volume_check], partition_key=partition, resources=resources(database_url))
    assert first.success
    assert first.output_for_node("volume_check") == 2
    metadata = materialization(first, "volume").metadata
    assert metadata["table"].value == "wfm_contact_volume_interval"
    assert metadata["row_count"].value == 2 and metadata["rows_deleted"].value == 0
    assert "| queue_id | interval_start |" in metadata["preview"].value

    again = dg.materialize([volume], partition_key=partition, resources=resources(database_url), tags={"seed": "3"})
    assert materialization(again, "volume").metadata["rows_deleted"].value == 2
    stored = read_table(get_engine(database_url), "wfm_contact_volume_interval", account_id=DEFAULT_ACCOUNT_ID)
    assert len(stored) == 2 and set(stored["interval_start"]) == {pd.Timestamp(T0)}
    assert list(stored["handled_count"]) == list(volume_frame([T0], ["q1", "q2"], seed=3)["handled_count"])


def test_ranged_run_writes_the_whole_range_once(database_url):
    tags = {"dagster/asset_partition_range_start": "2025-03-01-12:00",
            "dagster/asset_partition_range_end": "2025-03-01-13:45"}
    for _ in range(2):
        result = dg.materialize([volume], resources=resources(database_url), tags=tags)
        assert result.success
    events = materializations(result, "volume")
    assert sorted(e.partition for e in events) == [t.strftime("%Y-%m-%d-%H:%M") for t in quarters(T0, 8)]
    metadata = events[0].metadata
    assert metadata["row_count"].value == 16 and metadata["rows_deleted"].value == 16
    assert metadata["window_start"].value == T0.isoformat()
    assert metadata["window_end"].value == (T0 + 8 * QUARTER).isoformat()
    stored = read_table(get_engine(database_url), "wfm_contact_volume_interval", account_id=DEFAULT_ACCOUNT_ID)
    assert len(stored) == 16
    assert sorted(set(stored["interval_start"])) == [pd.Timestamp(t) for t in quarters(T0, 8)]


def test_upsert_mode(database_url):
    def run_agents(ids: str, seen_at: datetime):
        return dg.materialize([agents], resources=resources(database_url),
                              tags={"agents": ids, "seen_at": seen_at.isoformat()})

    run_agents("a1,a2", T0)
    second = run_agents("a2,a3", T0 + timedelta(hours=1))
    metadata = materialization(second, "agents").metadata
    assert (metadata["rows_inserted"].value, metadata["rows_updated"].value, metadata["rows_deactivated"].value) == (1, 1, 1)
    stored = read_table(get_engine(database_url), "wfm_agent", account_id=DEFAULT_ACCOUNT_ID).set_index("agent_id")
    assert stored.loc["a2", "first_seen_at"] == pd.Timestamp(T0)
    assert not stored.loc["a1", "active"]


def test_unpartitioned_replace_window_is_an_error(sqlite_url):
    with pytest.raises(dg.DagsterInvariantViolationError, match="needs a time-partitioned asset"):
        dg.materialize([unpartitioned_volume], resources=resources(sqlite_url))


def test_database_resource_gives_a_migrated_engine(sqlite_url):
    @dg.asset(partitions_def=FIFTEEN_MINUTES)
    def through_resource(context: dg.AssetExecutionContext, wfm_database: WfmStore) -> None:
        window = context.partition_time_window
        frame = volume_frame([window.start], ["q1"])
        engine = wfm_database.engine()
        result = window_writer.replace_window(engine, "wfm_contact_volume_interval", frame, window_start=window.start,
                                              window_end=window.end, time_column="interval_start",
                                              account_id=DEFAULT_ACCOUNT_ID)
        assert result.inserted == 1
        back = queries.read_window(engine, "wfm_contact_volume_interval", window_start=window.start,
                                   window_end=window.end, time_column="interval_start", account_id=DEFAULT_ACCOUNT_ID)
        assert len(back) == 1

    result = dg.materialize([through_resource], partition_key="2025-03-01-12:00",
                            resources={"wfm_database": build_resources(
                                load_settings({"WFM_DATABASE_URL": sqlite_url}))["wfm_database"]})
    assert result.success


def account_assets(account_id: str, seed: int, agent_ids: list[str]) -> list:
    """One account's assets as the accounts file makes them: keys prefixed by the account, `wfm/account_id` set."""

    @dg.asset(key_prefix=[account_id], name="volume", partitions_def=FIFTEEN_MINUTES, io_manager_key="wfm_io_manager",
              metadata={**VOLUME_METADATA, "wfm/account_id": account_id})
    def account_volume(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return volume_frame([context.partition_time_window.start], ["q1", "q2"], seed=seed)

    @dg.asset(key_prefix=[account_id], name="volume_rows", partitions_def=FIFTEEN_MINUTES, io_manager_key="mem",
              ins={"volume": dg.AssetIn(key=[account_id, "volume"])})
    def account_volume_rows(volume: pd.DataFrame) -> list:
        assert "account_id" not in volume.columns  # the frame's shape does not change with accounts
        return volume["handled_count"].tolist()

    @dg.asset(key_prefix=[account_id], name="agents", io_manager_key="wfm_io_manager",
              metadata={"wfm/table": "wfm_agent", "wfm/key_columns": ["agent_id"], "wfm/account_id": account_id})
    def account_agents() -> pd.DataFrame:
        return pd.DataFrame({"agent_id": agent_ids, "seen_at": T0})

    @dg.asset(key_prefix=[account_id], name="agent_ids", io_manager_key="mem",
              ins={"agents": dg.AssetIn(key=[account_id, "agents"])})
    def account_agent_ids(agents: pd.DataFrame) -> list:
        return sorted(agents["agent_id"])

    return [account_volume, account_volume_rows, account_agents, account_agent_ids]


def test_each_asset_writes_and_reads_its_own_accounts_rows(database_url):
    north, south = account_assets("north", 1, ["a1", "a2"]), account_assets("south", 2, ["a1"])
    for assets, account in ((north, "north"), (south, "south")):
        result = dg.materialize(assets[:2], partition_key="2025-03-01-12:00", resources=resources(database_url))
        assert materialization(result, f"{account}__volume").metadata["account_id"].value == account
        assert result.output_for_node(f"{account}__volume_rows") == volume_frame(
            [T0], ["q1", "q2"], seed=1 if account == "north" else 2)["handled_count"].tolist()
        result = dg.materialize(assets[2:], resources=resources(database_url))
        assert result.output_for_node(f"{account}__agent_ids") == (["a1", "a2"] if account == "north" else ["a1"])
    # South's listing of a1 alone deactivated nobody of north's.
    engine = get_engine(database_url)
    assert read_table(engine, "wfm_agent", account_id="north")["active"].tolist() == [True, True]
    assert read_table(engine, "wfm_agent", account_id=DEFAULT_ACCOUNT_ID).empty  # nothing in the default account
    assert len(read_table(engine, "wfm_contact_volume_interval", account_id="north")) == 2
    assert len(read_table(engine, "wfm_contact_volume_interval", account_id="south")) == 2


@dg.asset(partitions_def=FIFTEEN_MINUTES, io_manager_key="wfm_io_manager",
          metadata={**VOLUME_METADATA, "wfm/account_id": "North!"})
def misspelt_account_volume() -> pd.DataFrame:
    return volume_frame([T0], ["q1"])


def test_an_account_id_that_is_not_one_fails_the_asset(sqlite_url):
    with pytest.raises(dg.DagsterInvariantViolationError, match="'wfm/account_id': account id 'North!'"):
        dg.materialize([misspelt_account_volume], partition_key="2025-03-01-12:00", resources=resources(sqlite_url))
    assert read_table(get_engine(sqlite_url), "wfm_contact_volume_interval", account_id=DEFAULT_ACCOUNT_ID).empty
