"""Helpers shared by the Talkdesk client tests (no tests here): fast retry settings and client factories."""

from __future__ import annotations


import requests

from wfm_pipelines.settings import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
from wfm_pipelines.talkdesk import ExploreSettings, RetrySettings, TalkdeskClient, TalkdeskConnection

ALL_SCOPES = (
    "users:read", "ring-groups:read", "user-ring-groups:read", "queues:read", "queues-users:read",
    "data-reports:read", "data-reports:write", "ccaas-user-status:read",
)
FAST_RETRY = RetrySettings(max_attempts=8, backoff_base_s=0.01, backoff_max_s=0.1, retry_after_max_s=2.0)
FAST_EXPLORE = ExploreSettings(poll_initial_s=0.05, poll_max_s=0.2, poll_timeout_s=30.0, quota_wait_budget_s=60.0,
                               quota_backoff=RetrySettings(max_attempts=1, backoff_base_s=0.2, backoff_max_s=1.0))


def make_client(url: str, *, scopes: tuple[str, ...] = ALL_SCOPES, client_id: str = EMULATOR_CLIENT_ID,
                client_secret: str = EMULATOR_CLIENT_SECRET, retry: RetrySettings = FAST_RETRY,
                explore: ExploreSettings = FAST_EXPLORE, **kwargs) -> TalkdeskClient:
    return TalkdeskClient(TalkdeskConnection(url, url, client_id, client_secret, scopes),
                          retry=retry, explore=explore, **kwargs)


def set_faults(url: str, **faults) -> None:
    """Switch faults over the emulator's HTTP control endpoint (what an operator would do)."""
    response = requests.post(f"{url}/_emulator/faults", json=faults, timeout=5)
    assert response.status_code < 300, response.text
