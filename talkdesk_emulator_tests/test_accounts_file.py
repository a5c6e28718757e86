"""The accounts file, size presets, `talkdesk-emulator --accounts-file` in a subprocess, and the shared day cache."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import yaml

from talkdesk_emulator.account_sizes import ACCOUNT_SIZES, benchmark_accounts
from talkdesk_emulator.accounts import AccountsApp
from talkdesk_emulator.accounts_file import AccountsFileError, load_accounts_file, parse_accounts
from talkdesk_emulator.day_cache import DayCache

TWO_ACCOUNTS = {"accounts": [
    {"id": "north", "client_id": "north-client", "client_secret": "north-secret-value", "seed": 7, "queues": 4,
     "agents": 20, "contacts_per_day": 1500, "report_processing_seconds": 0.1,
     "clients": {"north-reader": {"secret": "reader-secret", "scopes": ["users:read"]}}},
    {"id": "south_2", "client_id": "south-client", "client_secret": "south-secret-value", "seed": 8, "queues": 2,
     "agents": 9, "contacts_per_day": 400, "account_timezone": "Europe/Lisbon", "queue_names": ["Sales, EMEA"]},
]}


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "accounts.yaml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return path


def test_a_file_gives_each_account_its_config(tmp_path):
    accounts = load_accounts_file(write(tmp_path, TWO_ACCOUNTS))
    assert list(accounts) == ["north", "south_2"]
    north, south = accounts["north"], accounts["south_2"]
    assert (north.seed, north.queues, north.agents, north.contacts_per_day) == (7, 4, 20, 1500)
    assert north.all_clients()["north-reader"] == ("reader-secret", ("users:read",))
    assert south.account_timezone == "Europe/Lisbon" and south.queue_names == ("Sales, EMEA",)
    assert south.token_ttl == 600  # unset keys keep EmulatorConfig's defaults


def test_a_size_preset_fills_in_and_explicit_keys_win():
    accounts = parse_accounts({"accounts": [
        {"id": "big", "size": "large", "client_id": "a", "client_secret": "s"},
        {"id": "mid", "size": "medium", "agents": 50, "client_id": "b", "client_secret": "s"}]}, "inline")
    large = ACCOUNT_SIZES["large"]
    assert (accounts["big"].queues, accounts["big"].agents, accounts["big"].contacts_per_day) == (
        large.queues, large.agents, large.contacts_per_day) == (300, 3000, 250_000)
    assert accounts["mid"].agents == 50 and accounts["mid"].contacts_per_day == ACCOUNT_SIZES["medium"].contacts_per_day


def account(**changes: object) -> dict[str, object]:
    return {"id": "north", "client_id": "north-client", "client_secret": "s", **changes}


@pytest.mark.parametrize("document, message", [
    ({"accounts": [account(), account(client_id="other")]}, "account 'north' (accounts[1]): id 'north' is used twice"),
    ({"accounts": [account(id="North")]}, "accounts[0]: id: account id 'North' must match"),
    ({"accounts": [account(id="a" * 33)]}, f"accounts[0]: id: account id '{'a' * 33}' must match"),
    ({"accounts": [{"client_id": "x", "client_secret": "s"}]}, "accounts[0]: id: account id None must match"),
    ({"accounts": [account(agnets=5)]}, "account 'north' (accounts[0]): unknown key 'agnets'; known keys: id, size"),
    ({"accounts": [account(queues="many")]}, "account 'north' (accounts[0]): queues must be an integer >= 1, not 'many'"),
    ({"accounts": [account(agents=True)]}, "agents must be an integer >= 1, not True"),
    ({"accounts": [account(contacts_per_day=-1)]}, "contacts_per_day must be an integer >= 0, not -1"),
    ({"accounts": [account(account_timezone="Mars/Olympus")]}, "account_timezone must be an IANA time zone"),
    ({"accounts": [account(size="huge")]}, "account 'north' (accounts[0]): size must be one of small, medium, large"),
    ({"accounts": [account(clients={"r": {"secret": "x", "scopes": ["users:write"]}})]}, "clients must be a mapping"),
    ({"accounts": [account(queue_names=["a", "a"])]}, "queue_names must be a list of distinct non-empty strings"),
    ({"accounts": [{"id": "north", "client_id": "c"}]}, "account 'north' (accounts[0]): missing key 'client_secret'"),
    ({"accounts": [account(), account(id="south")]},
     "account 'south': client id 'north-client' is already account 'north'"),
    ({"accounts": [account(), account(id="south", client_id="s", clients={"north-client": {"secret": "x",
                                                                                          "scopes": ["users:read"]}})]},
     "account 'south': client id 'north-client' is already account 'north'"),
    ({"accounts": []}, "'accounts' must be a non-empty list"),
    ({"account": [account()]}, "expected a mapping with the one key 'accounts'"),
    ({"accounts": ["north"]}, "accounts[0]: each account is a mapping"),
    ("accounts: [id: north", "not valid YAML"),
])
def test_a_bad_file_names_the_account_and_the_key(tmp_path, document, message):
    path = write(tmp_path, document)
    with pytest.raises(AccountsFileError) as raised:
        load_accounts_file(path)
    text = str(raised.value)
    assert text.startswith(f"{path}: ") and message in text, text


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(AccountsFileError, match="cannot read the accounts file"):
        load_accounts_file(tmp_path / "nope.yaml")


def test_benchmark_accounts_mix_sizes_with_distinct_seeds_and_credentials():
    accounts = benchmark_accounts(report_processing_seconds=0.5)
    assert len(accounts) == 50
    assert [account_id for account_id in accounts if account_id.startswith("large_")] == ["large_01", "large_02"]
    assert sum(config.agents == 1000 for config in accounts.values()) == 8
    assert sum(config.agents == 300 for config in accounts.values()) == 40
    assert len({config.seed for config in accounts.values()}) == 50
    assert len({config.client_secret for config in accounts.values()}) == 50
    assert all(config.report_processing_seconds == 0.5 for config in accounts.values())
    assert AccountsApp(accounts).account_ids == tuple(accounts)  # valid ids, distinct clients
    with pytest.raises(ValueError, match="sets seed per account itself"):
        benchmark_accounts(seed=3)
    with pytest.raises(ValueError, match="not all 0"):
        benchmark_accounts(0, 0, 0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def emulator_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "talkdesk_emulator.cli", *args]


def test_cli_serves_the_accounts_of_a_file(tmp_path):
    port = free_port()
    log_path = tmp_path / "emulator.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(emulator_command("--port", str(port), "--accounts-file",
                                                    str(write(tmp_path, TWO_ACCOUNTS))),
                                   stdout=log, stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                listing = requests.get(f"{root}/_emulator/accounts", timeout=2).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.1)
        assert [a["url"] for a in listing["accounts"]] == [f"{root}/accounts/north", f"{root}/accounts/south_2"]
        for entry, expected_users in zip(TWO_ACCOUNTS["accounts"], (20, 9)):
            url = f"{root}/accounts/{entry['id']}"
            token = requests.post(f"{url}/oauth/token", auth=(entry["client_id"], entry["client_secret"]),
                                  data={"grant_type": "client_credentials"}).json()["access_token"]
            users = requests.get(f"{url}/users", headers={"Authorization": f"Bearer {token}"}).json()
            assert users["total"] == expected_users
        wrong = requests.post(f"{root}/accounts/south_2/oauth/token", auth=("north-client", "north-secret-value"),
                              data={"grant_type": "client_credentials"})
        assert wrong.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
    log = log_path.read_text()
    assert f"account north: {root}/accounts/north" in log and "client north-client" in log
    assert f"account south_2: {root}/accounts/south_2" in log and "client south-client" in log
    assert "secret-value" not in log and "reader-secret" not in log


def test_cli_refuses_a_bad_file_and_single_account_options(tmp_path):
    bad = write(tmp_path, {"accounts": [account(queues=0)]})
    refused = subprocess.run(emulator_command("--port", str(free_port()), "--accounts-file", str(bad)),
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0
    assert f"{bad}: account 'north' (accounts[0]): queues must be an integer >= 1, not 0" in refused.stderr
    good = write(tmp_path, TWO_ACCOUNTS)
    mixed = subprocess.run(emulator_command("--accounts-file", str(good), "--seed", "3", "--agents=4"),
                           capture_output=True, text=True, timeout=30)
    assert mixed.returncode == 2
    assert "--seed, --agents: not with --accounts-file" in mixed.stderr
    cache_alone = subprocess.run(emulator_command("--day-cache-mb", "64"), capture_output=True, text=True, timeout=30)
    assert cache_alone.returncode == 2 and "only with --accounts-file" in cache_alone.stderr


def test_the_day_cache_keeps_days_per_owner_and_within_its_byte_budget():
    def day(megabytes: int) -> np.ndarray:
        return np.zeros(megabytes * 1_000_000, np.uint8)

    per_owner = DayCache(days_per_owner=2)
    for number in range(3):
        per_owner.put(1, number, day(1))
    per_owner.put(2, 0, day(1))
    assert per_owner.get(1, 0) is None and per_owner.get(1, 1) is not None and per_owner.get(2, 0) is not None

    shared = DayCache(days_per_owner=4, max_bytes=3_000_000)
    shared.put(1, 0, day(1))
    shared.put(2, 0, day(1))
    shared.put(3, 0, day(1))
    assert shared.get(1, 0) is not None  # now the most recently used
    shared.put(4, 0, day(1))
    assert shared.get(2, 0) is None and shared.get(1, 0) is not None and shared.bytes == 3_000_000
    shared.put(5, 0, day(5))  # larger than the budget on its own: kept, everything else dropped
    assert len(shared) == 1 and shared.get(5, 0) is not None


@pytest.mark.parametrize("mode", ["one account", "accounts file"])
def test_the_emulator_stops_on_sigterm_even_when_its_parent_ignored_it(tmp_path, mode):
    """Bug: started by a process that ignores SIGTERM (a test worker; PID 1 in a container ignores it too),
    the emulator inherited the disposition and `terminate()` left it running for good."""
    port = free_port()
    arguments = ["--port", str(port)] + (["--accounts-file", str(write(tmp_path, TWO_ACCOUNTS))]
                                         if mode == "accounts file" else [])
    process = subprocess.Popen(emulator_command(*arguments), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               preexec_fn=lambda: (signal.signal(signal.SIGTERM, signal.SIG_IGN),
                                                   signal.signal(signal.SIGINT, signal.SIG_IGN)))
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None
            try:
                requests.get(f"http://127.0.0.1:{port}/_emulator/faults", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.1)
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
