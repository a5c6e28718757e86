"""OAuth 2.0 client-credentials tokens of the emulated identity host."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from talkdesk_emulator.config import EmulatorConfig


@dataclass(frozen=True)
class IssuedToken:
    client_id: str
    scopes: frozenset[str]
    issued_at: float
    expires_at: float


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class TokenIssuer:
    def __init__(self, config: EmulatorConfig) -> None:
        self._clients = config.all_clients()
        self._ttl = config.token_ttl
        self._lock = threading.Lock()
        self._tokens: dict[str, IssuedToken] = {}

    def issue(self, client_id: str | None, client_secret: str | None, grant_type: str | None,
              scope: str | None) -> tuple[str, IssuedToken]:
        """A new token, or OAuthError as Talkdesk's identity host answers."""
        client = self._clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client[0], client_secret or ""):
            raise OAuthError(401, "unauthorized", "Invalid client credentials")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "Missing grant type")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", f"Grant type {grant_type} is not supported for this client")
        granted = client[1]
        requested = scope.split() if scope else list(granted)
        missing = [s for s in requested if s not in granted]
        if missing:
            raise OAuthError(401, "unauthorized", f"Scope not granted to this client: {' '.join(missing)}")
        now = time.time()
        token = secrets.token_urlsafe(32)
        issued = IssuedToken(client_id or "", frozenset(requested), now, now + self._ttl)
        with self._lock:
            self._tokens[token] = issued
            # Forget long-dead tokens so a long-running emulator does not grow without bound.
            if len(self._tokens) > 10_000:
                self._tokens = {t: i for t, i in self._tokens.items() if i.expires_at > now}
        return token, issued

    @property
    def ttl(self) -> int:
        return self._ttl

    def check(self, token: str | None, expiry_override: float | None) -> IssuedToken | None:
        """The token's grant while it is alive; `expiry_override` (a fault) shortens every token's life."""
        if not token:
            return None
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None:
            return None
        now = time.time()
        if now >= issued.expires_at:
            return None
        if expiry_override is not None and now >= issued.issued_at + expiry_override:
            return None
        return issued
