"""The Talkdesk accounts one deployment serves: `WFM_ACCOUNTS_FILE` names a YAML file of accounts, each with its
own OAuth clients (historical and real-time), collection interval and volume report. Without it the deployment is
one account, `default`, built from the `TALKDESK_*` variables, whose asset keys stay unprefixed.

Secrets never enter these values: the file names the environment variable that holds each client secret
(`client_secret_env`), the Dagster resources read it through `dagster.EnvVar`, and this module only checks that
the variable is set. Every error names the file, the account and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wfm_pipelines.account_ids import ACCOUNT_ID_PATTERN
from wfm_pipelines.settings.environment import SettingsError
from wfm_pipelines.settings.validators import check_talkdesk_url
from wfm_pipelines.settings.variables import VOLUME_REPORTS

CLIENT_KEYS = ("base_url", "api_url", "client_id", "client_secret_env")
INTERVAL_RANGE = (5, 3600)


class AccountsFileError(SettingsError):
    """The accounts file is unreadable or holds a bad value; the message names the file, account and key."""


@dataclass(frozen=True)
class TalkdeskClientConfig:
    """One OAuth client of one account. The client id is a value or the variable holding it; the secret
    is only ever the name of its variable (None: the local emulator's demo client)."""

    base_url: str
    api_url: str
    client_id: str | None = None
    client_id_var: str | None = None
    client_secret_var: str | None = None


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    enabled: bool
    historical: TalkdeskClientConfig
    realtime: TalkdeskClientConfig
    agent_state_interval_seconds: int
    volume_report: str
    # What the account's Dagster names are prefixed with: its id in an accounts file; empty for the `default`
    # account built from the TALKDESK_* variables, whose asset keys, groups, jobs and sensor keep today's names.
    # Every difference between the two kinds of deployment is in the naming methods below.
    key_prefix: str

    def asset_key(self, name: str) -> list[str]:
        """`north/contact_volume` with an accounts file, `contact_volume` without one."""
        return [self.key_prefix, name] if self.key_prefix else [name]

    def scoped_name(self, name: str) -> str:
        """A Dagster name (resource, sensor, pool) of this account: `name__north`, or `name` unprefixed."""
        return f"{name}__{self.key_prefix}" if self.key_prefix else name

    def group(self, name: str) -> str:
        """Asset group: one per account with an accounts file; the asset's own group (`contact_volume`, ...)
        without one."""
        return self.key_prefix or name

    def asset_job_name(self, asset_name: str) -> str | None:
        """The job of this one asset (`contact_volume_job`): kept for the account of a deployment without an
        accounts file, whose jobs keep today's names; None with one, where the interval job serves every asset."""
        return None if self.key_prefix else f"{asset_name}_job"

    def labelled(self, text: str) -> str:
        """`text` said of this account in a description: `North every 30 s`, or `every 30 s` unprefixed."""
        return f"{self.name} {text}" if self.key_prefix else text


def load_accounts_file(path: str | Path, environ: Mapping[str, str], *, default_interval_seconds: int,
                       default_volume_report: str) -> tuple[Account, ...]:
    """Read and check the accounts file. Every secret variable it names must be set in `environ`.

    Raises AccountsFileError, or the SettingsError of a bad URL in it (named by file, account and key)."""
    where = f"WFM_ACCOUNTS_FILE {str(path)!r}"
    entries = _account_entries(path, where)
    accounts: list[Account] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise AccountsFileError(f"{where}: account #{position} is not a mapping of keys")
        account_id = entry.get("id")
        if not isinstance(account_id, str) or not ACCOUNT_ID_PATTERN.fullmatch(account_id):
            raise AccountsFileError(
                f"{where}: account #{position} has a bad id {account_id!r}: expected [a-z][a-z0-9_]{{0,31}} (a "
                "lowercase letter, then up to 31 lowercase letters, digits or underscores); it prefixes asset keys")
        if account_id in seen:
            raise AccountsFileError(f"{where}: account {account_id!r} appears twice (account #{position}); "
                                    "ids must be unique")
        seen.add(account_id)
        reader = _AccountReader(f"{where}: account {account_id!r}", entry, environ)
        accounts.append(reader.account(account_id, default_interval_seconds, default_volume_report))
    return tuple(accounts)


def _account_entries(path: str | Path, where: str) -> list[Any]:
    """The file's list under `accounts:`, or AccountsFileError saying why there is none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccountsFileError(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountsFileError(f"{where} cannot be read: {type(exc).__name__}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise AccountsFileError(f"{where} is not valid YAML{place}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), list) or not document["accounts"]:
        raise AccountsFileError(f"{where} must be a mapping with a non-empty list under 'accounts:'")
    return document["accounts"]


class _AccountReader:
    """The keys of one account's entry; `label` names the file and the account in every message."""

    def __init__(self, label: str, entry: dict, environ: Mapping[str, str]) -> None:
        self.label, self.entry, self.environ = label, entry, environ

    def fail(self, key: str, problem: str) -> AccountsFileError:
        return AccountsFileError(f"{self.label}, key {key}: {problem}")

    def account(self, account_id: str, default_interval_seconds: int, default_volume_report: str) -> Account:
        entry = self.entry
        name = entry.get("name", account_id)
        if not isinstance(name, str) or not name.strip():
            raise self.fail("name", "must be a non-empty text")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise self.fail("enabled", f"must be true or false, not {enabled!r}")
        historical = self.client("historical", None)
        realtime = self.client("realtime", historical)
        interval = entry.get("agent_state_interval_seconds", default_interval_seconds)
        low, high = INTERVAL_RANGE
        if isinstance(interval, bool) or not isinstance(interval, int) or not low <= interval <= high:
            raise self.fail("agent_state_interval_seconds", f"must be a whole number of seconds from {low} to "
                            f"{high}, not {interval!r}")
        volume_report = entry.get("volume_report", default_volume_report)
        if volume_report not in VOLUME_REPORTS:
            raise self.fail("volume_report", f"must be one of {', '.join(VOLUME_REPORTS)}, not {volume_report!r}")
        return Account(id=account_id, key_prefix=account_id, name=name.strip(), enabled=enabled, historical=historical,
                       realtime=realtime,
                       agent_state_interval_seconds=interval, volume_report=volume_report)

    def client(self, section: str, fallback: TalkdeskClientConfig | None) -> TalkdeskClientConfig:
        """The OAuth client under `section`; with a fallback (the real-time client) each key defaults to its."""
        given = self.entry.get(section)
        if given is None and fallback is not None:
            return fallback
        if not isinstance(given, dict):
            raise self.fail(section, "must be a mapping with " + ", ".join(CLIENT_KEYS))
        if "client_secret" in given:
            raise self.fail(f"{section}.client_secret", "a secret never goes in the file: put it in an environment "
                            "variable and name that variable in client_secret_env")
        values: dict[str, Any] = {}
        for key in CLIENT_KEYS:
            value = given.get(key)
            if value is None and fallback is not None:
                continue
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f"{section}.{key}", "is missing or empty")
            values[key] = value.strip()
        for key in ("base_url", "api_url"):
            if key in values:
                values[key] = check_talkdesk_url(values[key], f"{self.label}, key {section}.{key}")
        secret_var = values.get("client_secret_env")
        if secret_var is not None and not (self.environ.get(secret_var) or "").strip():
            raise self.fail(f"{section}.client_secret_env",
                            f"the environment variable {secret_var!r} that should hold the client secret is not set")
        base = fallback or TalkdeskClientConfig(base_url="", api_url="")
        return TalkdeskClientConfig(
            base_url=values.get("base_url", base.base_url), api_url=values.get("api_url", base.api_url),
            client_id=values.get("client_id", base.client_id),
            client_secret_var=values.get("client_secret_env", base.client_secret_var))
