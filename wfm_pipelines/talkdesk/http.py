"""HTTP transport for Talkdesk: one pooled session, timeouts, retries with backoff, bearer auth, HAL paging.

One tenacity retry policy serves every call (GET, the POSTs that create report jobs and tokens, and
downloads), so 429/5xx/connection errors are handled the same everywhere and `Retry-After` is honoured
(urllib3's `Retry` would not retry the POSTs, and Explore's quota 429 must not be retried here). A call that
is not idempotent (creating a report job) is repeated only when the request surely never reached Talkdesk
(connection refused, connect timeout) or was refused (429); a lost answer is the caller's to resolve. Redirects are
never followed automatically: the Explore download redirect goes to an object store that must not
receive the bearer token, so callers follow redirects themselves.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
import tenacity
import urllib3
from requests.adapters import HTTPAdapter

from wfm_pipelines.talkdesk.auth import TalkdeskConnection, TokenProvider
from wfm_pipelines.talkdesk.errors import (
    QUOTA_EXHAUSTED_CODE,
    TalkdeskApiError,
    TalkdeskPagingError,
    TalkdeskUnavailableError,
    api_error,
    redact_url,
)

logger = logging.getLogger("wfm_pipelines.talkdesk")


@dataclass(frozen=True)
class RetrySettings:
    """Bounded retries with exponential backoff and jitter. Small values make tests fast."""

    max_attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0

    def backoff(self, failures: int) -> float:
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(failures - 1, 0))
        return ceiling * (0.5 + random.random() / 2)


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 5.0
    read_s: float = 60.0

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect_s, self.read_s)


def _is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _never_sent(exc: BaseException) -> bool:
    """The request cannot have reached the server: the connection was never made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, urllib3.exceptions.NewConnectionError)


def json_body(response: requests.Response, method: str, url: str) -> Any:
    """The response's JSON, or a TalkdeskApiError that says it was something else (an error page)."""
    try:
        return response.json()
    except ValueError:
        raise TalkdeskApiError(response.status_code, None, "response is not JSON", method, url) from None


def error_from_response(response: requests.Response, method: str, url: str) -> TalkdeskApiError:
    """Build the error from Talkdesk's envelope `{code, message, description}` (or OAuth's `{error, ...}`)."""
    code = message = description = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("code") or body.get("error")
        message = body.get("message") or body.get("error_description")
        description = body.get("description")
    return api_error(
        response.status_code,
        str(code) if code is not None else None,
        str(message) if message else (response.reason or "error"),
        method,
        url,
        str(description) if description else None,
    )


class TalkdeskHttp:
    """The transport shared by everything in one `TalkdeskClient` (thread-safe for concurrent requests)."""

    def __init__(self, connection: TalkdeskConnection, *, retry: RetrySettings | None = None,
                 timeouts: Timeouts | None = None, pool_size: int = 16):
        self.connection = connection
        self.retry = retry or RetrySettings()
        self.timeouts = timeouts or Timeouts()
        self.session = requests.Session()
        self.session.verify = True
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.tokens = TokenProvider(connection, self.send)
        api = urlsplit(connection.api_url)
        self._api_origin = (api.scheme, api.netloc)

    def close(self) -> None:
        self.session.close()

    # -- URLs -------------------------------------------------------------------------------------------

    def api(self, path_or_url: str, relative_to: str | None = None) -> str:
        """An absolute API URL. Links pointing at another host are re-based onto the configured API
        host: the bearer token only ever goes to `api_url`."""
        if relative_to is None and not urlsplit(path_or_url).scheme:
            return f"{self.connection.api_url}/{path_or_url.lstrip('/')}"
        parts = urlsplit(urljoin(relative_to or self.connection.api_url + "/", path_or_url))
        if (parts.scheme, parts.netloc) != self._api_origin:
            parts = parts._replace(scheme=self._api_origin[0], netloc=self._api_origin[1])
        return urlunsplit(parts)

    # -- sending ------------------------------------------------------------------------------------------

    def send(self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any) -> requests.Response:
        """One logical request with retries on 429, 5xx and connection errors. Returns the last response
        (which may still be an error status); raises TalkdeskApiError when the connection never worked.
        Explore's quota 429 is returned at once: waiting for a free report slot is the caller's policy.
        A request that is not `idempotent` is repeated only when it never reached the server or was refused."""
        kwargs.setdefault("timeout", self.timeouts.as_tuple())
        kwargs.setdefault("allow_redirects", False)
        if idempotent:
            retry = (tenacity.retry_if_exception_type((requests.ConnectionError, requests.Timeout))
                     | tenacity.retry_if_result(self._should_retry))
        else:
            retry = (tenacity.retry_if_exception(_never_sent)
                     | tenacity.retry_if_result(lambda response: response.status_code == 429
                                                and not self._is_quota_response(response)))
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.max_attempts),
            retry=retry,
            wait=self._wait,
            before_sleep=lambda state: self._log_retry(method, url, state),
            retry_error_callback=lambda state: self._give_up(method, url, state),
            sleep=time.sleep,
        )
        try:
            return retrying(self.session.request, method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:  # not retried: the answer may be lost
            # `from None`: the requests exception text may hold a presigned URL's signature.
            raise TalkdeskUnavailableError(None, None, f"no answer ({type(exc).__name__})", method, url) from None

    def _should_retry(self, response: requests.Response) -> bool:
        return _is_retryable_status(response.status_code) and not self._is_quota_response(response)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """`Retry-After` when the answer carries one (capped), else exponential backoff with jitter."""
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            retry_after = _retry_after_seconds(outcome.result())
            if retry_after is not None:
                return min(retry_after, self.retry.retry_after_max_s)
        return self.retry.backoff(state.attempt_number)

    @staticmethod
    def _log_retry(method: str, url: str, state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        if outcome.failed:
            what, hint = type(outcome.exception()).__name__, ""
        else:
            response = outcome.result()
            what = f"answered {response.status_code}"
            hint = " (Retry-After)" if _retry_after_seconds(response) is not None else ""
            response.close()
        logger.warning("Talkdesk %s %s %s; retry %d in %.2f s%s", method, redact_url(url), what,
                       state.attempt_number, state.next_action.sleep if state.next_action else 0.0, hint)

    @staticmethod
    def _give_up(method: str, url: str, state: tenacity.RetryCallState) -> requests.Response:
        outcome = state.outcome
        if outcome.failed:
            # `from None`: the requests exception text may hold a presigned URL's signature.
            raise TalkdeskUnavailableError(None, None, f"no answer ({type(outcome.exception()).__name__}) after "
                                   f"{state.attempt_number} attempts", method, url) from None
        return outcome.result()

    @staticmethod
    def _is_quota_response(response: requests.Response) -> bool:
        if response.status_code != 429:
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and str(body.get("code")) == QUOTA_EXHAUSTED_CODE

    def request(self, method: str, path_or_url: str, *, ok_redirect: bool = False, idempotent: bool = True,
                **kwargs: Any) -> requests.Response:
        """An authenticated API call. A 401 renews the token once and repeats the call once.
        Error statuses raise TalkdeskApiError; 3xx is returned when `ok_redirect`."""
        url = self.api(path_or_url)
        response = self._send_with_token(method, url, idempotent=idempotent, **kwargs)
        if response.status_code >= 400 or (300 <= response.status_code < 400 and not ok_redirect):
            raise error_from_response(response, method, url)
        return response

    def _send_with_token(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        token = self.tokens.token()
        response = self.send(method, url, headers=self._bearer(token), **kwargs)
        if response.status_code == 401:
            logger.info("Talkdesk %s %s answered 401; renewing the token once", method, redact_url(url))
            self.tokens.invalidate(token)
            response = self.send(method, url, headers=self._bearer(self.tokens.token()), **kwargs)
        return response

    @staticmethod
    def _bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def get_json(self, path_or_url: str, **kwargs: Any) -> Any:
        return json_body(self.request("GET", path_or_url, **kwargs), "GET", self.api(path_or_url))

    # -- HAL paging ---------------------------------------------------------------------------------------

    def iter_hal(self, path: str, collection: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Items of `_embedded.<collection>` over every page, following `_links.next.href`."""
        url = self.api(path)
        if params:
            url = f"{url}?{urlencode(params)}"
        seen: set[str] = set()
        items_seen = 0
        while True:
            key = _canonical(url)
            if key in seen:
                raise TalkdeskPagingError(f"Talkdesk paging loop: {redact_url(url)} was already read "
                                          f"({items_seen} {collection} so far)")
            seen.add(key)
            body = self.get_json(url)
            items = ((body.get("_embedded") or {}).get(collection) or []) if isinstance(body, dict) else []
            yield from items
            items_seen += len(items)
            next_link = ((body.get("_links") or {}).get("next") or {}) if isinstance(body, dict) else {}
            next_href = next_link.get("href") if isinstance(next_link, dict) else None
            if not next_href or not items or _last_page(body, items_seen, len(items)):
                return
            url = self.api(next_href, relative_to=url)


def _canonical(url: str) -> str:
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), query, ""))


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _last_page(body: dict, items_seen: int, page_count: int) -> bool:
    """The page counters say this was the last page, whatever `next` says."""
    page, total_pages = _as_int(body.get("page")), _as_int(body.get("total_pages"))
    if page is not None and total_pages is not None and page >= total_pages:
        return True
    total = _as_int(body.get("total"))
    if total is not None and items_seen >= total:
        return True
    per_page = _as_int(body.get("per_page"))
    count = _as_int(body.get("count"))
    return per_page is not None and (count if count is not None else page_count) < per_page
