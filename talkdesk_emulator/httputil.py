"""Shared HTTP helpers: JSON responses, Talkdesk error envelopes per API, paging parameters and HAL links."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Request, Response

# (401 code, message, description), (403 code, message, description) per API family, as Talkdesk's OpenAPI
# document gives them (talkdesk_emulator_tests/talkdesk-openapi-subset.yaml; talkdesk_emulator/README.md#error-answers).
API_AUTH_ERRORS: dict[str, tuple[tuple[str, str, str | None], tuple[str, str, str | None]]] = {
    "account": (("0060001", "Access denied.", None), ("0060002", "Forbidden access.", None)),
    "users": (("0040002", "Unauthorized", None), ("0040003", "Forbidden access", None)),
    "ring_groups": (("0300001", "Access denied.", None), ("0300002", "Forbidden access.", None)),
    "queues": (("0490000", "Unauthorized.", None), ("0490003", "Forbidden.", None)),
    "user_status": (("1580004", "Unauthorized", "The provided JWT is not valid."),
                    ("1580005", "Forbidden", "Forbidden - Insufficient permissions.")),
    "explore": (("1020018", "Unauthorized", "The provided authorization is not valid."),
                ("1020004", "Provided scopes do not allow access to the requested resource", None)),
}
# Server errors documented per API in the same OpenAPI document (others get a generic envelope).
API_SERVER_ERRORS: dict[tuple[str, int], tuple[str, str, str | None]] = {
    ("explore", 503): ("1020019", "Unable to audit operation", "The audit service could not audit the operation."),
    ("user_status", 500): ("1580007", "Internal Server Error", "Internal Server Error"),
}


class ApiError(Exception):
    """An error answered with Talkdesk's envelope `{"code","message","description"?,"fields"?}`."""

    def __init__(self, status: int, code: str, message: str, description: str | None = None,
                 fields: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.description, self.fields, self.headers = description, fields, headers or {}

    def response(self) -> Response:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.description:
            body["description"] = self.description
        if self.fields:
            body["fields"] = self.fields
        return json_response(body, self.status, self.headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def server_error(api: str, status: int) -> ApiError:
    code, message, description = API_SERVER_ERRORS.get((api, status), (f"0000{status}", "Service unavailable", None))
    return ApiError(status, code, message, description)


def int_param(request: Request, name: str, default: int) -> int | None:
    """The integer query parameter, its default when absent, None when not an integer."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def bool_param(request: Request, name: str) -> bool | None | str:
    """True/False, None when absent, or the string "invalid"."""
    raw = request.args.get(name)
    if raw is None:
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    return "invalid"


def base_url(request: Request) -> str:
    """Where this account is served: the host, plus `/accounts/<id>` when one process serves several."""
    return request.url_root.rstrip("/")


def account_path(request: Request, path: str) -> str:
    """`path` (from the account's root) as an absolute path on the host, inside the account's prefix."""
    return f"{request.script_root}{path}"


def path_segment(name: str) -> str:
    """`name` percent-encoded as one path segment: "/" too, and the dots of "." or ".." (else a dot-segment)."""
    segment = quote(name, safe="")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def page_href(request: Request, path: str, page: int, per_page: int, extra: dict[str, Any] | None = None) -> str:
    query = {k: v for k, v in (extra or {}).items() if v is not None}
    query.update(page=page, per_page=per_page)
    return f"{base_url(request)}{path}?{urlencode(query)}"
