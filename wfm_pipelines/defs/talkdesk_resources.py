"""Dagster resources for the two Talkdesk integrations (historical and real-time).

Client ids and secrets come in through `dagster.EnvVar`, so run config, the UI and the event log show
only the variable's name. When a variable is unset, the emulator's demo client stands in (it opens
only the local emulator), so the definitions load on a fresh machine with no environment at all.
Tuning fields default to the client's own defaults (`RetrySettings`, `Timeouts`, `ExploreSettings`).
"""

from __future__ import annotations

import threading
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from wfm_pipelines import settings as wfm_settings
from wfm_pipelines.settings import Settings
from wfm_pipelines.talkdesk import ExploreSettings, RetrySettings, TalkdeskClient, TalkdeskConnection, Timeouts

_RETRY, _TIMEOUTS, _EXPLORE = RetrySettings(), Timeouts(), ExploreSettings()


class TalkdeskResource(dg.ConfigurableResource):
    """The historical integration's OAuth client (Users, Ring Groups / Queues, Explore reports)."""

    base_url: str = Field(description="Identity host; the token endpoint is {base_url}/oauth/token")
    api_url: str = Field(description="API gateway, e.g. https://api.talkdeskapp.com")
    client_id: str
    client_secret: str = Field(repr=False, description="OAuth client secret; pass it as dagster.EnvVar")
    scopes: list[str] = Field(default_factory=lambda: list(wfm_settings.HISTORICAL_SCOPES))
    connect_timeout_s: float = _TIMEOUTS.connect_s
    read_timeout_s: float = _TIMEOUTS.read_s
    max_attempts: int = _RETRY.max_attempts
    backoff_base_s: float = _RETRY.backoff_base_s
    backoff_max_s: float = _RETRY.backoff_max_s
    report_poll_initial_s: float = _EXPLORE.poll_initial_s
    report_poll_timeout_s: float = _EXPLORE.poll_timeout_s
    quota_wait_budget_s: float = _EXPLORE.quota_wait_budget_s
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


def _secret_or_demo(variable: str | None, demo: str) -> str:
    """`EnvVar` of the variable that holds the value, else the literal demo value (the emulator's client)."""
    return dg.EnvVar(variable) if variable else demo


def talkdesk_resources(settings: Settings) -> dict[str, TalkdeskResource]:
    """`{"talkdesk": TalkdeskResource, "talkdesk_realtime": TalkdeskRealtimeResource}` from the settings."""
    return {
        "talkdesk": TalkdeskResource(
            base_url=settings.talkdesk_base_url,
            api_url=settings.talkdesk_api_url,
            client_id=_secret_or_demo(settings.client_id_var, wfm_settings.EMULATOR_CLIENT_ID),
            client_secret=_secret_or_demo(settings.client_secret_var, wfm_settings.EMULATOR_CLIENT_SECRET),
        ),
        "talkdesk_realtime": TalkdeskRealtimeResource(
            base_url=settings.realtime_base_url,
            api_url=settings.realtime_api_url,
            client_id=_secret_or_demo(settings.realtime_client_id_var, wfm_settings.EMULATOR_CLIENT_ID),
            client_secret=_secret_or_demo(settings.realtime_client_secret_var, wfm_settings.EMULATOR_CLIENT_SECRET),
        ),
    }
