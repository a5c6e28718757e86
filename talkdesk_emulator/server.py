"""Run the emulator in a background thread: `EmulatorServer(EmulatorConfig(...)).start()` serves one account at
the root path; `EmulatorServer(accounts={"north": EmulatorConfig(...), ...})` serves each account under
`/accounts/<id>` on the same port (`server.account("north").url`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from talkdesk_emulator.accounts import AccountsApp, account_prefix
from talkdesk_emulator.app import EmulatorApp
from talkdesk_emulator.config import EmulatorConfig
from talkdesk_emulator.day_cache import DayCache

__all__ = ["EmulatorAccount", "EmulatorConfig", "EmulatorServer"]

request_log = logging.getLogger("talkdesk_emulator.requests")


class _RequestLogHandler(WSGIRequestHandler):
    """One line per request on our own logger (werkzeug's default handler would configure logging itself)."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        request_log.info('%s "%s %s" %s', self.address_string(), self.command, self.path, getattr(code, "value", code))

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        getattr(request_log, type if type in ("info", "warning", "error") else "info")(message, *args)


class EmulatorAccount:
    """One account of a multi-account server: its URL (identity host and API gateway alike) and its own
    operator switches, as `POST {url}/_emulator/faults` and `POST {url}/_emulator/reset`."""

    def __init__(self, server: EmulatorServer, account_id: str) -> None:
        self.id = account_id
        self._server = server
        self._account = server._accounts_app().account(account_id)

    @property
    def url(self) -> str:
        return f"{self._server.url}{account_prefix(self.id)}"

    @property
    def config(self) -> EmulatorConfig:
        return self._account.config

    @property
    def built(self) -> bool:
        """Whether the account has been used yet: it is built (directory, generator) on first use."""
        return self._account.built

    @property
    def app(self) -> EmulatorApp:
        return self._account.app

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        return self.app.faults.update(changes)

    def faults(self) -> dict[str, Any]:
        return self.app.faults.snapshot()

    def reset(self) -> None:
        self._server._accounts_app().reset(self.id)


class EmulatorServer:
    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 accounts: Mapping[str, EmulatorConfig] | None = None, day_cache_mb: float | None = None) -> None:
        """`day_cache_mb`: with `accounts`, the megabytes of generated days all accounts keep between reports
        (default day_cache.SHARED_DAY_CACHE_BYTES); less memory, more regenerating when many are busy."""
        if config is not None and accounts is not None:
            raise ValueError("give either one account's config or `accounts`, not both")
        if day_cache_mb is not None and accounts is None:
            raise ValueError("day_cache_mb applies to several accounts (one account keeps its last 4 days)")
        self._single: EmulatorApp | None = None
        self._multi: AccountsApp | None = None
        if accounts is not None:
            day_cache = None if day_cache_mb is None else DayCache(max_bytes=int(day_cache_mb * 2**20))
            self._multi = AccountsApp(accounts, day_cache=day_cache)
            wsgi_app: Any = self._multi
        else:
            self._single = wsgi_app = EmulatorApp(config or EmulatorConfig())
        self._server = make_server(host, port, wsgi_app, threaded=True, request_handler=_RequestLogHandler)
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = self._server.server_port

    @property
    def url(self) -> str:
        """The root URL: the one account's in single-account mode, the accounts' common host otherwise."""
        return f"http://{self.host}:{self.port}"

    # -- single-account mode -------------------------------------------------------------------------
    def _single_app(self) -> EmulatorApp:
        if self._single is None:
            raise ValueError("this server serves several accounts: use server.account(<id>) "
                             f"(accounts: {', '.join(self.account_ids)})")
        return self._single

    @property
    def app(self) -> EmulatorApp:
        return self._single_app()

    @property
    def config(self) -> EmulatorConfig:
        return self._single_app().config

    # -- multi-account mode --------------------------------------------------------------------------
    def _accounts_app(self) -> AccountsApp:
        if self._multi is None:
            raise ValueError("this server serves one account at its root: EmulatorServer(accounts={...}) "
                             "serves several")
        return self._multi

    @property
    def account_ids(self) -> tuple[str, ...]:
        """The accounts' ids; empty in single-account mode."""
        return () if self._multi is None else self._multi.account_ids

    def account(self, account_id: str) -> EmulatorAccount:
        """KeyError for an unknown id; ValueError in single-account mode."""
        return EmulatorAccount(self, account_id)

    def account_url(self, account_id: str) -> str:
        """`http://host:port/accounts/<id>`: the account's base_url and api_url alike."""
        return self.account(account_id).url

    # -- operator switches -----------------------------------------------------------------------------
    def set_faults(self, account: str | None = None, **changes: Any) -> dict[str, Any]:
        """Same as POST /_emulator/faults; raises ValueError for an unknown key or a bad value. With several
        accounts, `account` names whose faults change."""
        if account is not None:
            return self.account(account).set_faults(**changes)
        return self._single_app().faults.update(changes)

    def faults(self, account: str | None = None) -> dict[str, Any]:
        if account is not None:
            return self.account(account).faults()
        return self._single_app().faults.snapshot()

    def reset(self, account: str | None = None) -> None:
        """Same as POST /_emulator/reset: faults back to defaults, jobs and counters cleared. With several
        accounts: `account`'s, or every account's when none is named."""
        if account is not None:
            self.account(account).reset()
        elif self._multi is not None:
            self._multi.reset()
        else:
            self._single_app().reset()

    # -- running ---------------------------------------------------------------------------------------
    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="talkdesk-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the console script)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
