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

from wfm_pipelines.settings import EMULATOR_CLIENT_SECRET, Account, Settings, TalkdeskClientConfig
from wfm_pipelines.talkdesk import ExploreSettings, RetrySettings, TalkdeskClient, TalkdeskConnection, Timeouts
from wfm_pipelines.talkdesk.auth import HISTORICAL_SCOPES, REALTIME_SCOPES

_RETRY, _TIMEOUTS, _EXPLORE = RetrySettings(), Timeouts(), ExploreSettings()
_LONG_LIVED_CLIENTS: dict[tuple, TalkdeskClient] = {}
_LONG_LIVED_LOCK = threading.Lock()


class TalkdeskResource(dg.ConfigurableResource):
    """The historical integration's OAuth client (Users, Ring Groups / Queues, Explore reports)."""

    base_url: str = Field(description="Identity host; the token endpoint is {base_url}/oauth/token")
    api_url: str = Field(description="API gateway, e.g. https://api.talkdeskapp.com")
    client_id: str
    client_secret: str = Field(repr=False, description="OAuth client secret; pass it as dagster.EnvVar")
    scopes: list[str] = Field(default_factory=lambda: list(HISTORICAL_SCOPES))
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
                self._client = self._new_client()
            return self._client

    def long_lived_client(self) -> TalkdeskClient:
        """A client that outlives the resource, one per distinct configuration in this process: a sensor
        collecting every 30 s keeps its token and connections from one evaluation to the next instead of
        asking Talkdesk for a token each time."""
        key = (type(self).__name__,
               *sorted((name, repr(value)) for name, value in self.__dict__.items() if not name.startswith("_")))
        with _LONG_LIVED_LOCK:
            client = _LONG_LIVED_CLIENTS.get(key)
            if client is None:
                client = _LONG_LIVED_CLIENTS[key] = self._new_client()
            return client

    def _new_client(self) -> TalkdeskClient:
        return TalkdeskClient(
            TalkdeskConnection(self.base_url, self.api_url, self.client_id, self.client_secret, tuple(self.scopes)),
            retry=RetrySettings(self.max_attempts, self.backoff_base_s, self.backoff_max_s),
            timeouts=Timeouts(self.connect_timeout_s, self.read_timeout_s),
            explore=ExploreSettings(poll_initial_s=self.report_poll_initial_s,
                                    poll_timeout_s=self.report_poll_timeout_s,
                                    quota_wait_budget_s=self.quota_wait_budget_s),
            status_workers=self.status_workers,
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


# The agent-state sensor never waits long for a collection (it runs on a thread of its own), but the account
# is not collected again while one is in flight: the real-time client's budget ends a collection against a
# Talkdesk that stopped answering within about this, so the account fails its check and is tried again.
REALTIME_COLLECTION_BUDGET_S = 60


class TalkdeskRealtimeResource(TalkdeskResource):
    """The real-time adherence integration's own OAuth client (current agent states), with a tight budget: a
    call to a silent Talkdesk gives up after max_attempts x (connect + read) plus the backoffs, well inside
    REALTIME_COLLECTION_BUDGET_S."""

    scopes: list[str] = Field(default_factory=lambda: list(REALTIME_SCOPES))
    read_timeout_s: float = 10.0
    max_attempts: int = 3
    backoff_max_s: float = 2.0
    report_poll_timeout_s: float = 30.0
    quota_wait_budget_s: float = 10.0

    def worst_case_call_s(self) -> float:
        """How long one call to a Talkdesk that accepts connections and never answers can take."""
        return self.max_attempts * (self.connect_timeout_s + self.read_timeout_s) + \
            (self.max_attempts - 1) * self.backoff_max_s


def _secret_or_demo(variable: str | None, demo: str) -> str:
    """`EnvVar` of the variable that holds the value, else the literal demo value (the emulator's client)."""
    return dg.EnvVar(variable) if variable else demo


def historical_resource_key(account: Account) -> str:
    """`talkdesk`, or `talkdesk__north` with an accounts file: each account's steps need only its own."""
    return account.scoped_name("talkdesk")


def realtime_resource_key(account: Account) -> str:
    return account.scoped_name("talkdesk_realtime")


def _resource(kind: type[TalkdeskResource], client: TalkdeskClientConfig) -> TalkdeskResource:
    client_id = dg.EnvVar(client.client_id_var) if client.client_id_var else client.client_id
    return kind(base_url=client.base_url, api_url=client.api_url, client_id=client_id,
                client_secret=_secret_or_demo(client.client_secret_var, EMULATOR_CLIENT_SECRET))


def talkdesk_resources(settings: Settings) -> dict[str, TalkdeskResource]:
    """Each account's two OAuth clients: `talkdesk` and `talkdesk_realtime` for the one account of a deployment
    without an accounts file, `talkdesk__<id>` and `talkdesk_realtime__<id>` with one."""
    resources: dict[str, TalkdeskResource] = {}
    for account in settings.accounts:
        resources[historical_resource_key(account)] = _resource(TalkdeskResource, account.historical)
        resources[realtime_resource_key(account)] = _resource(TalkdeskRealtimeResource, account.realtime)
    return resources
