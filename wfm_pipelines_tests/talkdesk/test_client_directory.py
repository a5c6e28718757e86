"""Users, queues (Queues API or Ring Groups) and memberships against the emulator."""

from __future__ import annotations

import pytest
from wfm_pipelines_tests.talkdesk.client_support import ALL_SCOPES, make_client, set_faults


@pytest.fixture
def client(emulator):
    with make_client(emulator.url) as talkdesk:
        yield talkdesk


def test_list_users_returns_every_agent_once(client):
    users = client.list_users()
    assert len(users) == 30
    assert len({user["id"] for user in users}) == 30
    assert all({"id", "name", "email"} <= set(user) for user in users)


def test_hal_paging_across_many_small_pages_matches_one_big_page(client):
    small_pages = list(client.http.iter_hal("/users", "users", {"per_page": 3}))
    assert [user["id"] for user in small_pages] == [user["id"] for user in client.list_users()]
    ring_groups = list(client.http.iter_hal("/ring-groups", "ring_groups", {"per_page": 2}))
    assert sorted(group["name"] for group in ring_groups) == sorted(g["name"] for g in client.list_ring_groups())


def test_queues_come_from_the_queues_api_with_ring_group_thresholds(client):
    listing = client.list_queues()
    assert listing.source_kind == "queue"
    assert len(listing.queues) == 5
    groups = {group["name"]: group for group in client.list_ring_groups()}
    for queue in listing.queues:
        assert queue["id"] and queue["name"] in groups
        assert queue["wait_time_threshold"] == groups[queue["name"]]["wait_time_threshold"]


def test_queues_fall_back_to_ring_groups_when_the_account_has_no_queues_api(emulator, client):
    set_faults(emulator.url, ccaas_enabled=False)
    listing = client.list_queues()
    assert listing.source_kind == "ring_group"
    assert len(listing.queues) == 5 and all("name" in group for group in listing.queues)


def test_queues_fall_back_to_ring_groups_without_the_queues_scope(emulator):
    scopes = tuple(scope for scope in ALL_SCOPES if not scope.startswith("queues"))
    with make_client(emulator.url, scopes=scopes) as talkdesk:
        assert talkdesk.list_queues().source_kind == "ring_group"


def test_members_are_the_same_through_either_api(emulator, client):
    queues = client.list_queues().queues
    by_queue = {queue["name"]: sorted(client.list_queue_member_ids(queue, "queue")) for queue in queues}
    by_group = {queue["name"]: sorted(client.list_queue_member_ids(queue["name"], "ring_group")) for queue in queues}
    assert by_queue == by_group
    user_ids = {user["id"] for user in client.list_users()}
    assert all(members and set(members) <= user_ids for members in by_group.values())


def test_an_unknown_source_kind_is_refused(client):
    with pytest.raises(ValueError, match="source_kind"):
        client.list_queue_member_ids("support", "team")
