"""OAuth 2.0 client-credentials tokens for Talkdesk: one cached bearer token per connection."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from wfm_pipelines.talkdesk.errors import TalkdeskApiError, TalkdeskAuthError, redact_url

logger = logging.getLogger("wfm_pipelines.talkdesk")

# Talkdesk tokens live 10 minutes; renew a minute early so no request leaves with a dying token.
RENEW_BEFORE_EXPIRY_S = 60.0
# The scopes each integration asks for (README "Talkdesk OAuth client" says what each one is used for).
HISTORICAL_SCOPES = (
    "users:read",
    "ring-groups:read",
    "user-ring-groups:read",
    "queues:read",
    "queues-users:read",
    "data-reports:read",
    "data-reports:write",
)
REALTIME_SCOPES = ("users:read", "ccaas-user-status:read", "data-reports:read", "data-reports:write")
# Scopes of APIs an account may lack (Early Access current status; the Queues API). Talkdesk refuses the
# whole token (401) when one requested scope is not granted, so without them we ask again and fall back.
OPTIONAL_SCOPES = frozenset({"ccaas-user-status:read", "queues:read", "queues-users:read"})


@dataclass(frozen=True)
class TalkdeskConnection:
    """Where and as whom to talk to Talkdesk. The secret is left out of repr()."""

    base_url: str
    api_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "api_url", self.api_url.rstrip("/"))
        object.__setattr__(self, "scopes", tuple(self.scopes))

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth/token"


# Sends the token request: (method, url, data=..., auth=...) -> response; retries are the sender's.
TokenSender = Callable[..., requests.Response]


class TokenProvider:
    """Fetches, caches and renews the bearer token. Safe to share between threads."""

    def __init__(self, connection: TalkdeskConnection, send: TokenSender):
        self._connection = connection
        self._send = send
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                self._fetch_locked()
            assert self._token is not None
            return self._token

    def invalidate(self, rejected_token: str) -> None:
        """Forget the token an API call was refused with (unless another thread already renewed it)."""
        with self._lock:
            if self._token == rejected_token:
                self._token = None

    def _fetch_locked(self) -> None:
        conn = self._connection
        started = time.monotonic()
        response = self._request_token(conn.scopes)
        optional = [scope for scope in conn.scopes if scope in OPTIONAL_SCOPES]
        if response.status_code == 401 and optional:
            retry = self._request_token(tuple(s for s in conn.scopes if s not in OPTIONAL_SCOPES))
            if retry.status_code < 300:
                logger.warning("Talkdesk refused a token for client %s with scopes %s; continuing without them "
                               "(their APIs fall back). If they were just added, they become active within minutes.",
                               conn.client_id, optional)
                response = retry
        if response.status_code in (400, 401, 403):
            raise TalkdeskAuthError(self._refusal_message(response)) from None
        if response.status_code >= 300:
            raise TalkdeskAuthError(
                f"Talkdesk token endpoint {redact_url(conn.token_url)} answered HTTP {response.status_code} after retries"
            ) from None
        try:
            body = response.json()
            token = str(body["access_token"])
            expires_in = float(body.get("expires_in") or 600)
        except (ValueError, KeyError, TypeError):
            raise TalkdeskAuthError(
                f"Talkdesk token endpoint {redact_url(conn.token_url)} answered HTTP {response.status_code} "
                "without an access_token"
            ) from None
        self._token = token
        # Short-lived tokens (tests, odd gateways) renew at half-life rather than on every request.
        self._renew_at = started + max(expires_in - RENEW_BEFORE_EXPIRY_S, expires_in / 2)
        logger.info("Talkdesk token obtained for client %s (expires in %.0f s)", conn.client_id, expires_in)

    def _request_token(self, scopes: tuple[str, ...]) -> requests.Response:
        conn = self._connection
        data = {"grant_type": "client_credentials"}
        if scopes:
            data["scope"] = " ".join(scopes)
        try:
            return self._send("POST", conn.token_url, data=data, auth=(conn.client_id, conn.client_secret))
        except TalkdeskApiError as exc:
            raise TalkdeskAuthError(f"Talkdesk token request failed: {self._scrub(str(exc))}") from None

    def _refusal_message(self, response: requests.Response) -> str:
        conn = self._connection
        try:
            body = response.json()
            reason = f"{body.get('error', '')}: {body.get('error_description', '')}".strip(": ")
        except ValueError:
            reason = ""
        reason = self._scrub(reason) or "no reason given"
        hint = ""
        if response.status_code == 401:
            hint = (
                " Check TALKDESK_CLIENT_ID/TALKDESK_CLIENT_SECRET (or the TALKDESK_REALTIME_* pair) and that the "
                f"OAuth client has the scopes {' '.join(conn.scopes) or '(none requested)'}; a scope newly added "
                "to a client takes a few minutes to become active, and until then Talkdesk refuses the token."
            )
        return (f"Talkdesk refused a token for client id '{conn.client_id}' at {redact_url(conn.token_url)} "
                f"(HTTP {response.status_code}, {reason}).{hint}")

    def _scrub(self, text: str) -> str:
        secret = self._connection.client_secret
        return text.replace(secret, "***") if secret else text
