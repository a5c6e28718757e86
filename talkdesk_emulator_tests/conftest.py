"""Fixtures for the emulator tests: Talkdesk's OpenAPI subset (with its known errors patched) and an API client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

# Talkdesk's own OpenAPI document (the subset a WFM collector uses), kept beside the tests that check the emulator
# against it.
SPEC_PATH = Path(__file__).with_name("talkdesk-openapi-subset.yaml")
DATE_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


def _patch_known_spec_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Talkdesk's document contradicts itself in a few places; validate against what its examples show.

    1. `format: date-time` is strict RFC 3339 in the validator, but every Talkdesk example renders
       `2018-06-28 14:05:00+00:00` (space separator): we replace the format by a pattern accepting both.
    2. The jobs list example has `"next": null, "prev": null` while the link schema is not nullable:
       those links are made nullable. (The same example misspells `_embdedded`; we serve `_embedded`
       and the schema, which is spelled right, checks it.)
    3. POST /data/reports/{type}/jobs: the 202 schema is flat while the example (and every public client)
       is wrapped in `job`: the 202 schema becomes the wrapped one of GET .../jobs/{id}, with `job` required.
       The flat shape (fault `job_body=flat`) is checked against the original flat schema in its own test.
    4. GET .../files/{id}: the spec says 302, some docs 303; we serve 302 as the spec does (no patch).
    """
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("format") == "date-time":
                del node["format"]
                node["pattern"] = DATE_TIME_PATTERN
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    links = spec["components"]["schemas"]["inline_response_200_84__links"]["properties"]
    for name in ("next", "prev"):
        link = spec["components"]["schemas"][links[name]["$ref"].rsplit("/", 1)[1]]
        links[name] = {**link, "nullable": True}
    create = spec["paths"]["/data/reports/{type}/jobs"]["post"]["responses"]["202"]["content"]["application/json"]
    create["schema"] = {"allOf": [{"$ref": "#/components/schemas/inline_response_200_85"}],
                        "required": ["job", "_links"]}
    return spec


def load_spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text())


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(_patch_known_spec_errors(load_spec()))


@pytest.fixture(scope="session")
def raw_openapi() -> OpenAPI:
    """The spec as Talkdesk publishes it (only the date-time rendering patched)."""
    spec = load_spec()
    _patch_known_spec_errors(spec)
    spec["paths"]["/data/reports/{type}/jobs"]["post"]["responses"]["202"]["content"]["application/json"]["schema"] = {
        "allOf": [{"$ref": "#/components/schemas/inline_response_202_5"}], "required": ["id", "status"]}
    return OpenAPI.from_dict(spec)


class TalkdeskSession:
    """A small test client: token handling, and every response validated against the spec when asked."""

    def __init__(self, server: Any, openapi: OpenAPI, client_id: str = "wfm-demo-client",
                 client_secret: str = "wfm-demo-secret", scope: str | None = None) -> None:
        self.server = server
        self.url = server.url
        self.openapi = openapi
        self.http = requests.Session()
        self.credentials = (client_id, client_secret)
        self.scope = scope
        self.token: str | None = None

    def validate(self, response: requests.Response) -> requests.Response:
        self.openapi.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
        return response

    def fetch_token(self) -> requests.Response:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        response = self.http.post(f"{self.url}/oauth/token", auth=self.credentials, data=data)
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    def headers(self) -> dict[str, str]:
        if self.token is None:
            assert self.fetch_token().status_code == 200
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, validate: bool = True, **kwargs: Any) -> requests.Response:
        response = self.http.get(f"{self.url}{path}", headers=self.headers(), allow_redirects=False, **kwargs)
        return self.validate(response) if validate else response

    def post(self, path: str, validate: bool = True, **kwargs: Any) -> requests.Response:
        response = self.http.post(f"{self.url}{path}", headers=self.headers(), allow_redirects=False, **kwargs)
        return self.validate(response) if validate else response

    def create_job(self, report_type: str, start: str, end: str, validate: bool = True,
                   **fields: Any) -> requests.Response:
        body = {"name": f"test-{report_type}", "format": "json", "timespan": {"from": start, "to": end}, **fields}
        return self.post(f"/data/reports/{report_type}/jobs", json=body, validate=validate)

    def wait_done(self, report_type: str, job_id: str, timeout: float = 10.0) -> requests.Response:
        deadline = time.monotonic() + timeout
        while True:
            response = self.get(f"/data/reports/{report_type}/jobs/{job_id}")
            if response.status_code == 303 or response.json()["job"]["status"] == "failed":
                return response
            assert time.monotonic() < deadline, "job did not finish"
            time.sleep(0.05)

    def download(self, report_type: str, job_id: str) -> requests.Response:
        located = self.get(f"/data/reports/{report_type}/files/{job_id}")
        assert located.status_code == 302
        # Like a presigned S3 URL: fetched without the bearer token.
        return requests.get(located.headers["Location"])

    def report(self, report_type: str, start: str, end: str, **fields: Any) -> dict[str, Any]:
        created = self.create_job(report_type, start, end, **fields)
        assert created.status_code == 202, created.text
        job_id = created.json()["job"]["id"]
        assert self.wait_done(report_type, job_id).status_code == 303
        file = self.download(report_type, job_id)
        assert file.status_code == 200, file.text
        return file.json()


@pytest.fixture
def emulator() -> Iterator[Any]:
    """An emulator on a free port with a small, fast account; its URL is `emulator.url`."""
    from talkdesk_emulator.server import EmulatorConfig, EmulatorServer

    server = EmulatorServer(EmulatorConfig(seed=7, queues=5, agents=30, contacts_per_day=3000,
                                           report_processing_seconds=0.2))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def talkdesk(emulator, openapi) -> Iterator[TalkdeskSession]:
    session = TalkdeskSession(emulator, openapi)
    yield session
    session.http.close()


@pytest.fixture
def session_for(openapi):
    """Build sessions against any emulator, with any client and scope."""
    sessions: list[TalkdeskSession] = []

    def build(server: Any, client_id: str = "wfm-demo-client", client_secret: str = "wfm-demo-secret",
              scope: str | None = None) -> TalkdeskSession:
        session = TalkdeskSession(server, openapi, client_id, client_secret, scope)
        sessions.append(session)
        return session

    yield build
    for session in sessions:
        session.http.close()


@pytest.fixture
def limited_emulator():
    """An emulator with an extra OAuth client granted only `queues:read` (for 403 tests)."""
    from talkdesk_emulator.server import EmulatorConfig, EmulatorServer

    server = EmulatorServer(EmulatorConfig(seed=7, queues=3, agents=10, contacts_per_day=500,
                                           report_processing_seconds=0.1,
                                           clients={"queues-only": ("queues-secret", ("queues:read",))})).start()
    yield server
    server.stop()


# -- several accounts in one process ---------------------------------------------------------------------
# North is the `emulator` fixture's account (demo client, so the contract tests run against it unchanged);
# south is another size, seed and client.
NORTH = {"seed": 7, "queues": 5, "agents": 30, "contacts_per_day": 3000, "report_processing_seconds": 0.2}
SOUTH = {"seed": 11, "queues": 3, "agents": 12, "contacts_per_day": 800, "report_processing_seconds": 0.2,
         "client_id": "south-client", "client_secret": "south-secret"}


@pytest.fixture
def two_accounts() -> Iterator[Any]:
    """One emulator process serving accounts `north` and `south` under /accounts/<id>."""
    from talkdesk_emulator.server import EmulatorConfig, EmulatorServer

    server = EmulatorServer(accounts={"north": EmulatorConfig(**NORTH), "south": EmulatorConfig(**SOUTH)}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prefixed_openapi() -> OpenAPI:
    """The spec with its server at an account's prefix: paths are matched after `/accounts/<id>`."""
    spec = _patch_known_spec_errors(load_spec())
    spec["servers"] = [{"url": "/accounts/{account}", "variables": {"account": {"default": "north"}}}]
    return OpenAPI.from_dict(spec)
