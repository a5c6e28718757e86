"""Dagster resources for the two Talkdesk integrations (historical and real-time).

Client ids and secrets come in through `dagster.EnvVar`, so run config, the UI and the event log show
only the variable's name. When a variable is unset, the emulator's demo client stands in (it opens
only the local emulator), so the definitions load on a fresh machine with no environment at all.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from wfm_pipelines import settings as wfm_settings
from wfm_pipelines.talkdesk import ExploreSettings, RetrySettings, TalkdeskClient, TalkdeskConnection, Timeouts


class TalkdeskResource(dg.ConfigurableResource):
    """The historical integration's OAuth client (Users, Ring Groups / Queues, Explore reports)."""

    base_url: str = Field(description="Identity host; the token endpoint is {base_url}/oauth/token")
    api_url: str = Field(description="API gateway, e.g. https://api.talkdeskapp.com")
    client_id: str
    client_secret: str = Field(repr=False, description="OAuth client secret; pass it as dagster.EnvVar")
    scopes: list[str] = Field(default_factory=lambda: list(wfm_settings.HISTORICAL_SCOPES))
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    max_attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    report_poll_initial_s: float = 1.0
    report_poll_timeout_s: float = 900.0
    quota_wait_budget_s: float = 900.0
    status_workers: int = 8

    _client: TalkdeskClient | None = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def client(self) -> TalkdeskClient:
        """The resource's one client (pooled session, cached token), created on first use."""
        with self._lock:
            if self._client is None:
                self._client = TalkdeskClient(
                    TalkdeskConnection(self.base_url, self.api_url, self.client_id, self.client_secret,
                                       tuple(self.scopes)),
                    retry=RetrySettings(self.max_attempts, self.backoff_base_s, self.backoff_max_s),
                    timeouts=Timeouts(self.connect_timeout_s, self.read_timeout_s),
                    explore=ExploreSettings(poll_initial_s=self.report_poll_initial_s,
                                            poll_timeout_s=self.report_poll_timeout_s,
                                            quota_wait_budget_s=self.quota_wait_budget_s),
                    status_workers=self.status_workers,
                )
            return self._client

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class TalkdeskRealtimeResource(TalkdeskResource):
    """The real-time adherence integration's own OAuth client (current agent states)."""

    scopes: list[str] = Field(default_factory=lambda: list(wfm_settings.REALTIME_SCOPES))


def _env_or_default(names: tuple[str, ...], default: str) -> str:
    """`EnvVar` of the first variable that is set, else the literal default (the emulator demo client)."""
    for name in names:
        if os.environ.get(name):
            return dg.EnvVar(name)
    return default


def talkdesk_resources_from_env() -> dict[str, dg.ConfigurableResource]:
    """`{"talkdesk": TalkdeskResource, "talkdesk_realtime": TalkdeskRealtimeResource}` from the environment."""
    loaded = wfm_settings.load_settings()  # also reads .env, before the variables are looked at
    historical_id = ("TALKDESK_CLIENT_ID",)
    historical_secret = ("TALKDESK_CLIENT_SECRET",)
    return {
        "talkdesk": TalkdeskResource(
            base_url=loaded.talkdesk_base_url,
            api_url=loaded.talkdesk_api_url,
            client_id=_env_or_default(historical_id, wfm_settings.EMULATOR_CLIENT_ID),
            client_secret=_env_or_default(historical_secret, wfm_settings.EMULATOR_CLIENT_SECRET),
        ),
        "talkdesk_realtime": TalkdeskRealtimeResource(
            base_url=loaded.realtime_base_url,
            api_url=loaded.realtime_api_url,
            client_id=_env_or_default(("TALKDESK_REALTIME_CLIENT_ID", *historical_id), wfm_settings.EMULATOR_CLIENT_ID),
            client_secret=_env_or_default(("TALKDESK_REALTIME_CLIENT_SECRET", *historical_secret),
                                          wfm_settings.EMULATOR_CLIENT_SECRET),
        ),
    }
