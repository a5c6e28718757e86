"""Several emulated Talkdesk accounts in one process, each under its own path prefix `/accounts/<id>`.

Each account is a whole `EmulatorApp` (its own data, OAuth clients, tokens, jobs, quota and faults) mounted with
werkzeug's DispatcherMiddleware: the app sees the prefix as SCRIPT_NAME, so every URL it hands out stays
inside the account. The prefix URL is both the account's identity host and its API gateway.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Request, Response

from talkdesk_emulator.app import EmulatorApp
from talkdesk_emulator.config import EmulatorConfig
from talkdesk_emulator.day_cache import SHARED_DAY_CACHE_BYTES, DayCache
from talkdesk_emulator.httputil import json_response

ACCOUNT_ID = re.compile(r"[a-z][a-z0-9_]{0,31}")
ACCOUNTS_ROOT = "/accounts"


def check_account_id(account_id: Any) -> str:
    if not isinstance(account_id, str) or ACCOUNT_ID.fullmatch(account_id) is None:
        raise ValueError(f"account id {account_id!r} must match [a-z][a-z0-9_]{{0,31}} "
                         "(a lowercase letter, then up to 31 lowercase letters, digits or underscores)")
    return account_id


def account_prefix(account_id: str) -> str:
    return f"{ACCOUNTS_ROOT}/{check_account_id(account_id)}"


def check_distinct_clients(accounts: Mapping[str, EmulatorConfig]) -> None:
    """Refuse an OAuth client id used by two accounts: credentials must say which account they open, so a
    pipeline configured with one account's credentials against another's URL fails instead of passing."""
    owner_of: dict[str, str] = {}
    for account_id, config in accounts.items():
        for client_id in config.all_clients():
            if client_id in owner_of:
                raise ValueError(f"account {account_id!r}: client id {client_id!r} is already account "
                                 f"{owner_of[client_id]!r}'s; each account needs its own client ids")
            owner_of[client_id] = account_id


class LazyAccount:
    """One account's EmulatorApp, built on its first request: fifty idle accounts cost only their configs
    (a large center's directory takes over a second and some megabytes to build)."""

    def __init__(self, account_id: str, config: EmulatorConfig, day_cache: DayCache) -> None:
        self.account_id = account_id
        self.config = config
        self._day_cache = day_cache
        self._lock = threading.Lock()
        self._app: EmulatorApp | None = None

    @property
    def built(self) -> bool:
        return self._app is not None

    @property
    def app(self) -> EmulatorApp:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = EmulatorApp(self.config, day_cache=self._day_cache)
        return self._app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        return self.app(environ, start_response)


class AccountsApp:
    """The WSGI application of a multi-account emulator: `/accounts/<id>/...` goes to that account, and
    `GET /_emulator/accounts` lists the accounts (ids, URLs, client ids; never secrets)."""

    def __init__(self, accounts: Mapping[str, EmulatorConfig], day_cache: DayCache | None = None) -> None:
        if not accounts:
            raise ValueError("a multi-account emulator needs at least one account")
        for account_id, config in accounts.items():
            check_account_id(account_id)
            if not isinstance(config, EmulatorConfig):
                raise ValueError(f"account {account_id!r}: expected an EmulatorConfig, not {type(config).__name__}")
        check_distinct_clients(accounts)
        self.day_cache = day_cache if day_cache is not None else DayCache(max_bytes=SHARED_DAY_CACHE_BYTES)
        self._accounts = {account_id: LazyAccount(account_id, config, self.day_cache)
                          for account_id, config in accounts.items()}
        self._dispatch = DispatcherMiddleware(
            self._root, {account_prefix(account_id): account for account_id, account in self._accounts.items()})

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        return self._dispatch(environ, start_response)

    @property
    def account_ids(self) -> tuple[str, ...]:
        return tuple(self._accounts)

    def account(self, account_id: str) -> LazyAccount:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise KeyError(f"no account {account_id!r}; accounts: {', '.join(self._accounts)}") from None

    def reset(self, account_id: str | None = None) -> None:
        """Reset one account, or every account already serving (one never asked has nothing to reset)."""
        targets = [self.account(account_id)] if account_id is not None else self._accounts.values()
        for account in targets:
            if account.built:
                account.app.reset()

    def _root(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """Anything outside an account: the listing, else the gateway's 404 (an unknown account included)."""
        request = Request(environ)
        if request.path.rstrip("/") == "/_emulator/accounts" and request.method in ("GET", "HEAD"):
            response = self._listing(request)
        else:
            response = json_response({"code": "0000404", "message": "Not found"}, 404)
        return response(environ, start_response)

    def _listing(self, request: Request) -> Response:
        root = request.url_root.rstrip("/")
        return json_response({"accounts": [
            {"id": account_id, "url": f"{root}{account_prefix(account_id)}", "client_id": account.config.client_id}
            for account_id, account in self._accounts.items()]})
