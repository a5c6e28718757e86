"""The emulator's WSGI application: routing, OAuth token endpoint, bearer auth, scopes, faults, operator API."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from talkdesk_emulator.auth import OAuthError, TokenIssuer
from talkdesk_emulator.config import EmulatorConfig
from talkdesk_emulator.day_cache import DayCache
from talkdesk_emulator.directory import Directory
from talkdesk_emulator.directory_api import DirectoryApi
from talkdesk_emulator.explore_api import DOWNLOAD_PREFIX, ExploreApi
from talkdesk_emulator.faults import FaultState
from talkdesk_emulator.generator import DataGenerator
from talkdesk_emulator.httputil import API_AUTH_ERRORS, ApiError, json_response, server_error
from talkdesk_emulator.render import EntryRenderer
from talkdesk_emulator.reports import JobStore

log = logging.getLogger("talkdesk_emulator")
# GET /ring-groups/{name}/users matched on the raw request path: the name is one percent-encoded segment.
RAW_RING_GROUP_USERS = re.compile(r"^/ring-groups/(?P<name>[^/]+)/users/?$")
OPERATOR_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class ApiRoute:
    api: str          # error-envelope family (httputil.API_AUTH_ERRORS)
    scope: str        # scope the token must carry
    handler: Callable[..., Response]
    ccaas: bool = False  # switched off by the ccaas_enabled fault


class EmulatorApp:
    def __init__(self, config: EmulatorConfig, day_cache: DayCache | None = None) -> None:
        """`day_cache`: generated days shared with the other accounts of the process (accounts.py)."""
        self.config = config
        self.directory = Directory(config)
        self.generator = DataGenerator(config, self.directory, day_cache=day_cache)
        self.faults = FaultState(config)
        self.tokens = TokenIssuer(config)
        self.jobs = JobStore()
        renderer = EntryRenderer(self.directory)
        directory_api = DirectoryApi(self.directory, self.generator, config.account_timezone, self.faults)
        explore = ExploreApi(self.jobs, self.generator, renderer, self.faults)
        self.api_routes: dict[str, ApiRoute] = {
            "account": ApiRoute("account", "account:read", directory_api.account),
            "users": ApiRoute("users", "users:read", directory_api.users),
            "user": ApiRoute("users", "users:read", directory_api.user),
            "ring_groups": ApiRoute("ring_groups", "ring-groups:read", directory_api.ring_groups),
            "ring_group_users": ApiRoute("ring_groups", "user-ring-groups:read", directory_api.ring_group_users),
            "queues": ApiRoute("queues", "queues:read", directory_api.queues, ccaas=True),
            "queue_users": ApiRoute("queues", "queues-users:read", directory_api.queue_users, ccaas=True),
            "users_status": ApiRoute("user_status", "ccaas-user-status:read", directory_api.users_status, ccaas=True),
            "create_job": ApiRoute("explore", "data-reports:write", explore.create_job),
            "list_jobs": ApiRoute("explore", "data-reports:read", explore.list_jobs),
            "job_status": ApiRoute("explore", "data-reports:read", explore.job_status),
            "file": ApiRoute("explore", "data-reports:read", explore.file),
            "delete_file": ApiRoute("explore", "data-reports:write", explore.delete_file),
        }
        self.other_routes: dict[str, Callable[..., Response]] = {
            "token": self.token,
            "download": explore.download,
            "faults_get": self.get_faults,
            "faults_post": self.post_faults,
            "reset": self.post_reset,
        }
        self.url_map = Map([
            Rule("/oauth/token", endpoint="token", methods=["POST"]),
            Rule("/account", endpoint="account", methods=["GET"]),
            Rule("/users", endpoint="users", methods=["GET"]),
            Rule("/users/<user_id>", endpoint="user", methods=["GET"]),
            Rule("/ring-groups", endpoint="ring_groups", methods=["GET"]),
            Rule("/ring-groups/<name>/users", endpoint="ring_group_users", methods=["GET"]),
            Rule("/ccaas/queues", endpoint="queues", methods=["GET"]),
            Rule("/ccaas/queues/<queue_id>/users", endpoint="queue_users", methods=["GET"]),
            Rule("/ccaas/users/status", endpoint="users_status", methods=["POST"]),
            Rule("/data/reports/<report_type>/jobs", endpoint="create_job", methods=["POST"]),
            Rule("/data/reports/<report_type>/jobs", endpoint="list_jobs", methods=["GET"]),
            Rule("/data/reports/<report_type>/jobs/<job_id>", endpoint="job_status", methods=["GET"]),
            Rule("/data/reports/<report_type>/files/<job_id>", endpoint="file", methods=["GET"]),
            Rule("/data/reports/<report_type>/files/<job_id>", endpoint="delete_file", methods=["DELETE"]),
            Rule(f"{DOWNLOAD_PREFIX}/<name>", endpoint="download", methods=["GET"]),
            Rule("/_emulator/faults", endpoint="faults_get", methods=["GET"]),
            Rule("/_emulator/faults", endpoint="faults_post", methods=["POST"]),
            Rule("/_emulator/reset", endpoint="reset", methods=["POST"]),
        ], strict_slashes=False)

    # -- WSGI --------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        raw_match = self._raw_ring_group_users(request)
        if raw_match is not None:
            if request.method not in ("GET", "HEAD"):
                return json_response({"code": "0000405", "message": "Method not allowed"}, 405)
            endpoint, args = "ring_group_users", raw_match
        else:
            adapter = self.url_map.bind_to_environ(request.environ)
            try:
                endpoint, args = adapter.match()
            except NotFound:
                return json_response({"code": "0000404", "message": "Not found"}, 404)
            except MethodNotAllowed:
                return json_response({"code": "0000405", "message": "Method not allowed"}, 405)
            except HTTPException as error:  # redirects for trailing slashes and the like
                return error.get_response(request.environ)
        try:
            if endpoint in self.api_routes:
                return self._api_call(self.api_routes[endpoint], request, args)
            return self.other_routes[endpoint](request, **args)
        except ApiError as error:
            return error.response()
        except Exception:  # noqa: BLE001 - answer like a gateway would, and keep the traceback in the log
            log.exception("emulator error on %s %s", request.method, request.path)
            return json_response({"code": "0000500", "message": "Internal Server Error"}, 500)

    @staticmethod
    def _raw_ring_group_users(request: Request) -> dict[str, str] | None:
        """The ring group name of GET /ring-groups/{name}/users, read from the undecoded request path.

        A name is any text and the client sends it percent-encoded as one segment: routing on the decoded
        PATH_INFO would split `%2F` into two segments and see `%2E%2E` as a dot-segment. Servers that do not
        pass the raw path (REQUEST_URI or RAW_URI), and raw paths not spelling the account prefix as mounted,
        fall back to the ordinary, decoded routing.
        """
        raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
        if not raw:
            return None
        path = urlsplit(raw).path
        prefix = request.script_root  # `/accounts/<id>` when one process serves several accounts
        if prefix:
            if not path.startswith(prefix + "/"):
                return None
            path = path[len(prefix):]
        match = RAW_RING_GROUP_USERS.match(path)
        return None if match is None else {"name": unquote(match.group("name"))}

    def _api_call(self, route: ApiRoute, request: Request, args: dict[str, Any]) -> Response:
        decision, settings = self.faults.next_api_request()
        if decision == "rate_limit":
            retry_after = settings["rate_limit_retry_after"]
            headers = {} if retry_after is None else {"Retry-After": str(int(round(retry_after)))}
            raise ApiError(429, "0012001", "API rate limit exceeded", headers=headers)
        if decision == "error":
            raise server_error(route.api, int(settings["error_status"]))
        if route.ccaas and not settings["ccaas_enabled"]:
            raise ApiError(404, "0000404", "Not found")
        (unauth_code, unauth_msg, unauth_desc), (forbid_code, forbid_msg, forbid_desc) = API_AUTH_ERRORS[route.api]
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        grant = self.tokens.check(token.strip() if scheme.lower() == "bearer" else None,
                                  settings["token_expiry_seconds"])
        if grant is None:
            raise ApiError(401, unauth_code, unauth_msg, unauth_desc)
        if route.scope not in grant.scopes:
            raise ApiError(403, forbid_code, forbid_msg, forbid_desc)
        return route.handler(request, **args)

    # -- identity host -----------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        auth = request.authorization
        client_id = auth.username if auth is not None and auth.type == "basic" else None
        client_secret = auth.password if auth is not None and auth.type == "basic" else None
        # grant_type and scope may come from the form body or the query string (both seen in the wild).
        grant_type = request.form.get("grant_type") or request.args.get("grant_type")
        scope = request.form.get("scope") or request.args.get("scope")
        try:
            token, issued = self.tokens.issue(client_id, client_secret, grant_type, scope)
        except OAuthError as error:
            return json_response(error.body(), error.status)
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": self.tokens.ttl,
                              "scope": " ".join(sorted(issued.scopes))}, headers={"Cache-Control": "no-store"})

    # -- operator ----------------------------------------------------------------------------------
    def get_faults(self, request: Request) -> Response:
        return json_response(self.faults.snapshot())

    @staticmethod
    def _refuse_non_json(request: Request) -> Response | None:
        """415 unless the body is declared JSON: a cross-origin page can post a form or text/plain without a
        CORS preflight, but not application/json, so this keeps other sites from switching the emulator."""
        if request.mimetype == OPERATOR_MEDIA_TYPE:
            return None
        return json_response({"error": f"the operator endpoints take Content-Type: {OPERATOR_MEDIA_TYPE} "
                                       f"(got {request.content_type or 'none'})"}, 415)

    def post_faults(self, request: Request) -> Response:
        refused = self._refuse_non_json(request)
        if refused is not None:
            return refused
        try:
            changes = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return json_response({"error": "the body must be JSON"}, 400)
        try:
            return json_response(self.faults.update(changes))
        except ValueError as error:
            return json_response({"error": str(error)}, 400)

    def post_reset(self, request: Request) -> Response:
        refused = self._refuse_non_json(request)
        if refused is not None:
            return refused
        self.reset()
        return json_response(self.faults.snapshot())

    def reset(self) -> None:
        self.faults.reset()
        self.jobs.clear()
