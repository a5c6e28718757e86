"""WFM_ACCOUNTS_FILE: read when the settings load; every error names the file, the account and the key, and
no secret ever appears in a value or a message."""

from __future__ import annotations

import re
import textwrap

import pytest

from wfm_pipelines.account_ids import DEFAULT_ACCOUNT_ID
from wfm_pipelines.settings import EMULATOR_CLIENT_ID, SettingsError, load_settings

SECRET = "Zq4-distinctive-account-secret-77"
NORTH = """\
  - id: north
    name: North Center
    historical:
      base_url: https://north.talkdeskid.com
      api_url: https://api.talkdeskapp.com
      client_id: north-client
      client_secret_env: NORTH_TD_SECRET
"""


def _settings(tmp_path, accounts_yaml: str, **env: str):
    path = tmp_path / "accounts.yaml"
    path.write_text(accounts_yaml)
    return load_settings({"WFM_ACCOUNTS_FILE": str(path), "NORTH_TD_SECRET": SECRET, **env})


def _error(tmp_path, accounts_yaml: str, **env: str) -> str:
    with pytest.raises(SettingsError) as caught:
        _settings(tmp_path, accounts_yaml, **env)
    message = str(caught.value)
    assert SECRET not in message
    assert message.startswith("WFM_ACCOUNTS_FILE")
    return message


def test_without_the_file_the_deployment_is_one_unprefixed_default_account():
    (account,) = load_settings({}).accounts
    assert (account.id, account.key_prefix, account.enabled) == (DEFAULT_ACCOUNT_ID, "", True)
    assert account.asset_key("contact_volume") == ["contact_volume"]
    assert account.scoped_name("talkdesk") == "talkdesk"
    assert account.historical.client_id == EMULATOR_CLIENT_ID and account.historical.client_secret_var is None


def test_a_full_file_gives_each_account_its_clients_interval_and_report(tmp_path):
    south = textwrap.indent(textwrap.dedent("""\
        - id: south_2
          enabled: false
          extra_key_we_ignore: 1
          historical:
            base_url: https://south.talkdeskid.com/
            api_url: https://api.talkdeskapp.eu
            client_id: south-client
            client_secret_env: NORTH_TD_SECRET
          realtime:
            client_id: south-realtime
            client_secret_env: SOUTH_RT_SECRET
          agent_state_interval_seconds: 60
          volume_report: contacts
        """), "  ")
    settings = _settings(tmp_path, "accounts:\n" + NORTH + south, SOUTH_RT_SECRET="x", WFM_VOLUME_REPORT="calls",
                         WFM_AGENT_STATE_INTERVAL_SECONDS="20")
    north, south = settings.accounts
    assert (north.id, north.name, north.enabled, north.key_prefix) == ("north", "North Center", True, "north")
    assert north.asset_key("contact_volume") == ["north", "contact_volume"]
    assert north.historical.client_secret_var == "NORTH_TD_SECRET"
    assert north.realtime == north.historical  # realtime defaults to historical
    assert (north.agent_state_interval_seconds, north.volume_report) == (20, "calls")  # the variables' values
    assert (south.enabled, south.agent_state_interval_seconds, south.volume_report) == (False, 60, "contacts")
    assert south.historical.base_url == "https://south.talkdeskid.com"
    # the real-time client takes the historical values for keys it does not give
    assert (south.realtime.base_url, south.realtime.api_url) == (south.historical.base_url, "https://api.talkdeskapp.eu")
    assert (south.realtime.client_id, south.realtime.client_secret_var) == ("south-realtime", "SOUTH_RT_SECRET")
    assert settings.enabled_accounts == (north,)
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(("accounts_yaml", "expected"), [
    pytest.param("accounts:\n" + NORTH + NORTH, r"account 'north' appears twice", id="duplicate id"),
    pytest.param("accounts:\n" + NORTH.replace("id: north", "id: North"), r"bad id 'North'", id="capital in id"),
    pytest.param("accounts:\n" + NORTH.replace("id: north", "id: 9north"), r"bad id '9north'", id="digit first"),
    pytest.param("accounts:\n" + NORTH.replace("id: north", "id: " + "n" * 33), r"bad id", id="id too long"),
    pytest.param("accounts:\n" + NORTH.replace("      client_id: north-client\n", ""),
                 r"account 'north', key historical.client_id: is missing", id="missing client id"),
    pytest.param("accounts:\n" + NORTH.replace("NORTH_TD_SECRET", "UNSET_SECRET_VARIABLE"),
                 r"account 'north', key historical.client_secret_env: the environment variable "
                 r"'UNSET_SECRET_VARIABLE' .* is not set", id="secret variable not set"),
    pytest.param("accounts:\n" + NORTH.replace("https://north.talkdeskid.com", "http://north.talkdeskid.com"),
                 r"account 'north', key historical.base_url.*not a loopback", id="http on a real host"),
    pytest.param("accounts:\n" + NORTH + "    agent_state_interval_seconds: 2\n",
                 r"account 'north', key agent_state_interval_seconds: .*from 5 to 3600", id="interval too short"),
    pytest.param("accounts:\n" + NORTH + "    volume_report: ring_groups\n",
                 r"account 'north', key volume_report", id="unknown report"),
    pytest.param("accounts:\n" + NORTH + "    enabled: maybe\n", r"key enabled: must be true or false",
                 id="enabled not a boolean"),
    pytest.param("accounts:\n" + NORTH + "    realtime: yes\n", r"key realtime: must be a mapping", id="bad realtime"),
    pytest.param("accounts:\n" + NORTH.replace("client_secret_env: NORTH_TD_SECRET", f"client_secret: {SECRET}"),
                 r"key historical.client_secret: a secret never goes in the file", id="secret in the file"),
    pytest.param("accounts: []\n", r"non-empty list under 'accounts:'", id="no accounts"),
    pytest.param("accounts:\n  - id: north\n   bad: [indent\n", r"is not valid YAML at line", id="not YAML"),
])
def test_a_bad_file_names_the_account_and_the_key(tmp_path, accounts_yaml, expected):
    assert re.search(expected, _error(tmp_path, accounts_yaml))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SettingsError, match=r"WFM_ACCOUNTS_FILE '.*nowhere.yaml' does not exist"):
        load_settings({"WFM_ACCOUNTS_FILE": str(tmp_path / "nowhere.yaml")})


def test_loopback_http_is_accepted_for_the_emulator(tmp_path):
    (north,) = _settings(tmp_path, "accounts:\n" + NORTH.replace(
        "https://north.talkdeskid.com", "http://127.0.0.1:8089/accounts/north")).accounts
    assert north.historical.base_url == "http://127.0.0.1:8089/accounts/north"
