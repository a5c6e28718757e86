"""Several accounts in one emulator process: each its own data, credentials, tokens, faults and quota, and
every URL it hands out inside its `/accounts/<id>` prefix."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urljoin

import pytest
import requests

from talkdesk_emulator.config import EmulatorConfig
from talkdesk_emulator.server import EmulatorServer
from talkdesk_emulator_tests.conftest import NORTH, SOUTH

WINDOW = ("2025-06-02T10:00:00Z", "2025-06-02T11:00:00Z")
SOUTH_CREDENTIALS = (SOUTH["client_id"], SOUTH["client_secret"])
NORTH_CREDENTIALS = ("wfm-demo-client", "wfm-demo-secret")


class AccountClient:
    """Talks to one account as the pipelines' client does: base_url = api_url = the account's URL, relative
    redirects resolved against the request's URL, and the bearer token never sent to the download URL."""

    def __init__(self, url: str, credentials: tuple[str, str]) -> None:
        self.url = url
        self.http = requests.Session()
        token = self.http.post(f"{url}/oauth/token", auth=credentials, data={"grant_type": "client_credentials"})
        assert token.status_code == 200, token.text
        self.token = token.json()["access_token"]

    def api(self, method: str, path_or_url: str, **kwargs: Any) -> requests.Response:
        url = path_or_url if path_or_url.startswith("http") else f"{self.url}{path_or_url}"
        assert url.startswith(f"{self.url}/"), f"{url} is outside the account"
        return self.http.request(method, url, headers={"Authorization": f"Bearer {self.token}"},
                                 allow_redirects=False, **kwargs)

    def report(self, report_type: str, links_seen: list[str] | None = None) -> dict[str, Any]:
        """Create, poll, follow the 303 and the 302, download without Authorization; every href collected."""
        links = links_seen if links_seen is not None else []
        created = self.api("POST", f"/data/reports/{report_type}/jobs",
                           json={"format": "json", "timespan": {"from": WINDOW[0], "to": WINDOW[1]}})
        assert created.status_code == 202, created.text
        links += hrefs(created.json())
        job_url = created.json()["_links"]["self"]["href"]
        while True:
            polled = self.api("GET", job_url)
            links += hrefs(polled.json())
            if polled.status_code == 303:
                break
            assert polled.json()["job"]["status"] == "processing"
        files_url = urljoin(job_url, polled.headers["Location"])
        links.append(files_url)
        located = self.api("GET", files_url)
        assert located.status_code == 302
        download_url = urljoin(files_url, located.headers["Location"])
        links.append(download_url)
        with_bearer = self.http.get(download_url, headers={"Authorization": f"Bearer {self.token}"})
        assert with_bearer.status_code == 400  # the presigned URL refuses a second auth mechanism
        file = self.http.get(download_url)
        assert file.status_code == 200, file.text
        return file.json()

    def all_users(self) -> list[dict[str, Any]]:
        users, href = [], f"{self.url}/users?per_page=7"
        while href:
            page = self.api("GET", href).json()
            users += page["_embedded"]["users"]
            href = (page["_links"].get("next") or {}).get("href")
        return users


def hrefs(body: Any) -> list[str]:
    """Every `href` in a HAL body, templated ones included."""
    if isinstance(body, dict):
        found = [body["href"]] if isinstance(body.get("href"), str) else []
        return found + [href for value in body.values() for href in hrefs(value)]
    if isinstance(body, list):
        return [href for value in body for href in hrefs(value)]
    return []


@pytest.fixture
def clients(two_accounts):
    north = AccountClient(two_accounts.account_url("north"), NORTH_CREDENTIALS)
    south = AccountClient(two_accounts.account_url("south"), SOUTH_CREDENTIALS)
    yield north, south
    north.http.close()
    south.http.close()


def test_account_urls_share_the_port(two_accounts):
    assert two_accounts.account_ids == ("north", "south")
    assert two_accounts.account_url("north") == f"{two_accounts.url}/accounts/north"
    listing = requests.get(f"{two_accounts.url}/_emulator/accounts").json()
    assert listing == {"accounts": [
        {"id": "north", "url": f"{two_accounts.url}/accounts/north", "client_id": "wfm-demo-client"},
        {"id": "south", "url": f"{two_accounts.url}/accounts/south", "client_id": "south-client"}]}
    assert "secret" not in str(listing)


def test_each_account_serves_its_own_directory_and_reports(clients):
    north, south = clients
    assert len(north.all_users()) == NORTH["agents"] and len(south.all_users()) == SOUTH["agents"]
    assert north.api("GET", "/ring-groups").json()["total"] == NORTH["queues"]
    assert south.api("GET", "/ring-groups").json()["total"] == SOUTH["queues"]
    assert not {u["id"] for u in north.all_users()} & {u["id"] for u in south.all_users()}
    north_calls, south_calls = north.report("calls"), south.report("calls")
    assert north_calls["total"] > south_calls["total"] > 0  # 3000 against 800 contacts a day
    assert not {e["call_id"] for e in north_calls["entries"]} & {e["call_id"] for e in south_calls["entries"]}


def test_redirects_and_links_stay_inside_the_prefix(clients):
    north, _ = clients
    links: list[str] = []
    for report_type in ("calls", "user_status"):
        north.report(report_type, links)
    links += hrefs(north.api("GET", "/data/reports/calls/jobs", params={"per_page": 1}).json())
    for path in ("/account", "/users?per_page=3", "/ring-groups?per_page=2", "/ccaas/queues?per_page=2"):
        links += hrefs(north.api("GET", path).json())
    ring_group = north.api("GET", "/ring-groups").json()["_embedded"]["ring_groups"][0]["name"]
    links += hrefs(north.api("GET", f"/ring-groups/{quote(ring_group, safe='')}/users", params={"per_page": 1}).json())
    assert len(links) > 30
    outside = [link for link in links if not link.startswith(f"{north.url}/")]
    assert outside == []
    # Every non-templated link answers from the same account.
    for link in {link for link in links if "{" not in link and "/_downloads/" not in link}:
        assert north.api("GET", link).status_code in (200, 302, 303), link


def test_same_seed_same_data_whoever_else_is_served(two_accounts, clients):
    north, _ = clients
    users, calls = north.all_users(), north.report("calls")
    others = {"east": EmulatorConfig(seed=3, queues=2, agents=5, contacts_per_day=100, client_id="east")}
    with EmulatorServer(accounts={**others, "north": EmulatorConfig(**NORTH)}) as restarted, \
            EmulatorServer(EmulatorConfig(**NORTH)) as alone:
        again = AccountClient(restarted.account_url("north"), NORTH_CREDENTIALS)
        single = AccountClient(alone.url, NORTH_CREDENTIALS)
        assert again.all_users() == [{**u, "_links": {"self": {"href": u["_links"]["self"]["href"].replace(
            north.url, again.url)}}} for u in users]
        assert again.report("calls")["entries"] == calls["entries"] == single.report("calls")["entries"]


def test_credentials_and_tokens_of_one_account_never_open_another(two_accounts, clients):
    north, south = clients
    token_url = f"{south.url}/oauth/token"
    refused = requests.post(token_url, auth=NORTH_CREDENTIALS, data={"grant_type": "client_credentials"})
    assert refused.status_code == 401
    assert refused.json() == {"error": "unauthorized", "error_description": "Invalid client credentials"}
    north_bearer = {"Authorization": f"Bearer {north.token}"}
    for path, code in (("/users", "0040002"), ("/account", "0060001"), ("/data/reports/calls/jobs", "1020018")):
        response = requests.get(f"{south.url}{path}", headers=north_bearer)
        assert (response.status_code, response.json()["code"]) == (401, code)
        assert requests.get(f"{north.url}{path}", headers=north_bearer).status_code == 200
    # A download URL of north moved under south's prefix is refused: signatures and files are per account.
    job = north.api("POST", "/data/reports/calls/jobs", json={"timespan": {"from": WINDOW[0], "to": WINDOW[1]}})
    two_accounts.account("north").app.jobs.get("calls", job.json()["job"]["id"]).processing_seconds = 0
    located = north.api("GET", f"/data/reports/calls/files/{job.json()['job']['id']}").headers["Location"]
    assert requests.get(located).status_code == 200
    moved = requests.get(located.replace("/accounts/north/", "/accounts/south/"))
    assert moved.status_code == 403 and b"AccessDenied" in moved.content


def test_outside_any_account_answers_the_gateway_404(two_accounts):
    for path in ("/users", "/oauth/token", "/accounts/west/users", "/accounts", "/_emulator/faults"):
        response = requests.get(f"{two_accounts.url}{path}")
        assert response.status_code == 404 and response.json() == {"code": "0000404", "message": "Not found"}, path
    assert requests.post(f"{two_accounts.url}/accounts/west/oauth/token", auth=NORTH_CREDENTIALS,
                         data={"grant_type": "client_credentials"}).status_code == 404


def test_faults_are_per_account(two_accounts, clients):
    north, south = clients
    switched = requests.post(f"{north.url}/_emulator/faults", json={"error_rate": 1.0, "error_status": 502})
    assert switched.status_code == 200 and switched.json()["error_rate"] == 1.0
    assert north.api("GET", "/account").status_code == 502 and south.api("GET", "/account").status_code == 200
    assert requests.get(f"{south.url}/_emulator/faults").json()["error_rate"] == 0.0
    two_accounts.set_faults(account="south", rate_limit_every=1)
    assert south.api("GET", "/account").status_code == 429
    assert two_accounts.faults(account="north")["rate_limit_every"] == 0
    reset = requests.post(f"{north.url}/_emulator/reset", json={})
    assert reset.status_code == 200 and reset.json()["error_rate"] == 0.0
    assert north.api("GET", "/account").status_code == 200 and south.api("GET", "/account").status_code == 429
    two_accounts.reset()  # every account
    assert south.api("GET", "/account").status_code == 200


def test_the_quota_of_15_is_per_account(two_accounts, clients):
    north, south = clients
    two_accounts.set_faults(account="north", report_processing_seconds=30)
    body = {"timespan": {"from": WINDOW[0], "to": WINDOW[1]}}
    for _ in range(15):
        assert north.api("POST", "/data/reports/calls/jobs", json=body).status_code == 202
    full = north.api("POST", "/data/reports/calls/jobs", json=body)
    assert full.status_code == 429 and full.json()["code"] == "1020017"
    assert south.api("POST", "/data/reports/calls/jobs", json=body).status_code == 202
    assert south.api("GET", "/data/reports/calls/jobs").json()["total"] == 1
    assert north.api("GET", "/data/reports/calls/jobs").json()["total"] == 15


def test_a_ring_group_name_encoded_as_one_segment_under_the_prefix():
    names = ("Support/Tier 2", "..", "100% Care")
    config = EmulatorConfig(seed=5, queues=3, agents=12, contacts_per_day=100, queue_names=names)
    with EmulatorServer(accounts={"odd": config}) as server:
        client = AccountClient(server.account_url("odd"), NORTH_CREDENTIALS)
        for name, segment in (("Support/Tier 2", "Support%2FTier%202"), ("..", "%2E%2E"), ("100% Care", "100%25%20Care")):
            response = client.api("GET", f"/ring-groups/{segment}/users", params={"per_page": 1})
            assert response.status_code == 200 and response.json()["ring_group"] == name
            assert response.json()["_links"]["self"]["href"].startswith(f"{client.url}/ring-groups/{segment}/users?")


def test_accounts_are_built_on_first_use(two_accounts):
    assert not two_accounts.account("north").built and not two_accounts.account("south").built
    AccountClient(two_accounts.account_url("south"), SOUTH_CREDENTIALS)
    assert two_accounts.account("south").built and not two_accounts.account("north").built


def test_python_api_errors_are_clear(two_accounts):
    with pytest.raises(ValueError, match="several accounts: use server.account"):
        two_accounts.set_faults(error_rate=1.0)
    with pytest.raises(ValueError, match="several accounts"):
        _ = two_accounts.app
    with pytest.raises(KeyError, match="no account 'west'; accounts: north, south"):
        two_accounts.account("west")
    with pytest.raises(ValueError, match="unknown fault"):
        two_accounts.set_faults(account="north", no_such_fault=1)
    with pytest.raises(ValueError, match="not both"):
        EmulatorServer(EmulatorConfig(), accounts={"north": EmulatorConfig()})
    with pytest.raises(ValueError, match=r"account id 'North' must match"):
        EmulatorServer(accounts={"North": EmulatorConfig()})
    with pytest.raises(ValueError, match="account 'b': client id 'wfm-demo-client' is already account 'a'"):
        EmulatorServer(accounts={"a": EmulatorConfig(), "b": EmulatorConfig(seed=2)})
    with pytest.raises(ValueError, match="at least one account"):
        EmulatorServer(accounts={})
    with pytest.raises(ValueError, match="day_cache_mb applies to several accounts"):
        EmulatorServer(EmulatorConfig(), day_cache_mb=64)
    with EmulatorServer(EmulatorConfig()) as single:
        with pytest.raises(ValueError, match="serves one account at its root"):
            single.account("north")
        assert single.account_ids == ()
