"""Agents' names and e-mails never reach Dagster's event log (a preview would put them in run storage for
ever), unless the operator switches `people_preview` on; the counts are there either way."""

from __future__ import annotations

import base64

import dagster as dg
import pytest
import requests

from wfm_pipelines.db import queries
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.defs.io_manager import PREVIEW_ROWS
from wfm_pipelines.settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from wfm_pipelines_tests.defs.support import agents, queue_memberships, queues, resources_for

CONFIGURATION = [agents, queues, queue_memberships]


def served_people(url: str) -> list[tuple[str, str]]:
    """(name, email) of every user the emulator's Users API lists, read over plain HTTP page by page."""
    basic = base64.b64encode(f"{EMULATOR_CLIENT_ID}:{EMULATOR_CLIENT_SECRET}".encode()).decode()
    token = requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials", "scope": "users:read"},
                          headers={"Authorization": f"Basic {basic}"}, timeout=10).json()["access_token"]
    people, next_url = [], f"{url}/users?per_page=7"
    while next_url:
        body = requests.get(next_url, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        people += [(user["name"], user["email"]) for user in body["_embedded"]["users"]]
        href = body["_links"].get("next", {}).get("href")
        next_url = (href if href.startswith("http") else url + href) if href else None
    return people


def run_text(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """Every event of the run as stored by the instance, in both its repr and its serialized form."""
    entries = instance.all_logs(result.run_id)
    assert len(entries) > 10
    parts = []
    for entry in entries:
        parts.append(str(entry))
        parts.append(dg.serialize_value(entry))
    for event in result.all_events:
        parts.append(str(event))
    return "\n".join(parts)


def materialization(result: dg.ExecuteInProcessResult, node: str) -> dict:
    events = result.asset_materializations_for_node(node)
    assert len(events) == 1
    return events[0].metadata


@pytest.fixture
def people(emulator) -> list[tuple[str, str]]:
    people = served_people(emulator.url)
    # the same people as the emulator's directory: the HTTP listing is complete
    assert sorted(people) == sorted((a.name, a.email) for a in emulator.app.directory.agents)
    assert len(people) == 30
    return people


def test_no_name_or_email_reaches_the_event_log_by_default(emulator, sqlite_url, people):
    resources = resources_for(emulator.url, sqlite_url)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(CONFIGURATION, resources=resources, instance=instance)
    assert result.success

    # the people are in the WFM table, where they belong
    stored = queries.read_table(get_engine(sqlite_url), "wfm_agent", account_id=DEFAULT_ACCOUNT_ID)
    assert sorted(zip(stored["name"], stored["email"])) == sorted(people)

    text = run_text(instance, result)
    leaked = [value for person in people for value in person if value in text]
    assert leaked == []
    # nor any piece of an e-mail address the emulator hands out
    assert "@example.com" not in text

    agents_meta = materialization(result, "agents")
    assert agents_meta["row_count"].value == 30
    assert agents_meta["talkdesk_users"].value == 30
    assert agents_meta["table"].value == "wfm_agent"
    assert "preview" not in agents_meta
    # the counts are stored by the instance as well, not only held by the in-process result
    stored = instance.get_latest_materialization_event(dg.AssetKey("agents")).asset_materialization.metadata
    assert stored["row_count"].value == 30 and stored["talkdesk_users"].value == 30
    assert "preview" not in stored

    queues_meta = materialization(result, "queues")
    assert queues_meta["row_count"].value == 5
    assert "preview" in queues_meta
    assert queues_meta["preview"].value.startswith("| queue_id")
    memberships_meta = materialization(result, "queue_memberships")
    assert memberships_meta["row_count"].value > 0
    assert "preview" in memberships_meta


def test_people_preview_switch_puts_the_preview_and_so_names_into_the_event_log(emulator, sqlite_url, people):
    resources = resources_for(emulator.url, sqlite_url, WFM_METADATA_PEOPLE_PREVIEW="on")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(CONFIGURATION, resources=resources, instance=instance)
    assert result.success

    agents_meta = materialization(result, "agents")
    assert agents_meta["row_count"].value == 30
    assert agents_meta["talkdesk_users"].value == 30
    preview = agents_meta["preview"].value
    shown = [name for name, _ in people if name in preview]
    assert len(shown) == PREVIEW_ROWS == 10
    assert any(email in preview for _, email in people)

    text = run_text(instance, result)
    assert all(name in text for name in shown)


REFUSE_AGENT_INSERTS = {
    # A real trigger stands in for a database that refuses the write (disk full, a constraint, a failover).
    "sqlite": ["CREATE TRIGGER refuse_agents BEFORE INSERT ON wfm_agent "
               "BEGIN SELECT RAISE(ABORT, 'could not extend file: No space left on device'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse_agents() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$",
        "CREATE TRIGGER refuse_agents BEFORE INSERT ON wfm_agent FOR EACH ROW EXECUTE FUNCTION refuse_agents()",
    ],
}


def test_a_failed_write_of_the_agents_keeps_names_out_of_the_event_log_too(emulator, database_url, people):
    """The failure is recorded in the event log (as it must be), but without the rows it failed to write."""
    engine = get_engine(database_url)  # the schema at head
    with engine.begin() as connection:
        for statement in REFUSE_AGENT_INSERTS[engine.dialect.name]:
            connection.exec_driver_sql(statement)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([agents], resources=resources_for(emulator.url, database_url), instance=instance,
                            raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error.to_string()
    assert "No space left on device" in failure  # the operator still sees why

    text = run_text(instance, result)
    assert "No space left on device" in text
    leaked = [value for person in people for value in person if value in text]
    assert leaked == []
