"""The Talkdesk accounts one deployment serves (`../shared/design/CONTRACT.md` section 9).

`WFM_ACCOUNTS_FILE` names a YAML file of accounts, each with its own OAuth clients (historical and
real-time), collection interval and volume report. Without it the deployment is one account, `default`,
built from today's `TALKDESK_*` variables, whose asset keys stay unprefixed.

Plain Python, no Dagster. Secrets never enter this module's values: the file names the environment variable
that holds each client secret (`client_secret_env`), the Dagster resources read it through `dagster.EnvVar`,
and this module only checks that the variable is set. Every error names the file, the account and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wfm_pipelines.db.schema import ACCOUNT_ID_PATTERN, DEFAULT_ACCOUNT_ID  # noqa: F401 - DEFAULT_ACCOUNT_ID re-exported

VOLUME_REPORTS = ("calls", "contacts")
CLIENT_KEYS = ("base_url", "api_url", "client_id", "client_secret_env")
INTERVAL_RANGE = (5, 3600)


class AccountsFileError(ValueError):
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
    # False for the `default` account of a deployment without an accounts file: its asset keys, groups,
    # jobs and sensors keep today's names.
    prefixed: bool = True

    def asset_key(self, name: str) -> list[str]:
        """`north/contact_volume` with an accounts file, `contact_volume` without one."""
        return [self.id, name] if self.prefixed else [name]

    def scoped_name(self, name: str) -> str:
        """A Dagster name (resource, sensor, pool) of this account: `name__north`, or `name` unprefixed."""
        return f"{name}__{self.id}" if self.prefixed else name


def load_accounts_file(path: str | Path, environ: Mapping[str, str], *, default_interval_seconds: int,
                       default_volume_report: str) -> tuple[Account, ...]:
    """Read and check the accounts file. Every secret variable it names must be set in `environ`."""
    from wfm_pipelines.settings import SettingsError, check_talkdesk_url  # settings imports this module

    where = f"WFM_ACCOUNTS_FILE {str(path)!r}"
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

    accounts: list[Account] = []
    seen: set[str] = set()
    for position, entry in enumerate(document["accounts"], start=1):
        if not isinstance(entry, dict):
            raise AccountsFileError(f"{where}: account #{position} is not a mapping of keys")
        raw_id = entry.get("id")
        if not isinstance(raw_id, str) or not ACCOUNT_ID_PATTERN.fullmatch(raw_id):
            raise AccountsFileError(
                f"{where}: account #{position} has a bad id {raw_id!r}: expected [a-z][a-z0-9_]{{0,31}} (a lowercase "
                "letter, then up to 31 lowercase letters, digits or underscores); it prefixes asset keys")
        if raw_id in seen:
            raise AccountsFileError(f"{where}: account {raw_id!r} appears twice (account #{position}); ids must be unique")
        seen.add(raw_id)
        label = f"{where}: account {raw_id!r}"

        def fail(key: str, problem: str) -> AccountsFileError:
            return AccountsFileError(f"{label}, key {key}: {problem}")  # noqa: B023 - used at once

        name = entry.get("name", raw_id)
        if not isinstance(name, str) or not name.strip():
            raise fail("name", "must be a non-empty text")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise fail("enabled", f"must be true or false, not {enabled!r}")

        def client(section: str, fallback: TalkdeskClientConfig | None) -> TalkdeskClientConfig:
            given = entry.get(section)
            if given is None and fallback is not None:
                return fallback
            if not isinstance(given, dict):
                raise fail(section, "must be a mapping with " + ", ".join(CLIENT_KEYS))
            if "client_secret" in given:
                raise fail(f"{section}.client_secret", "a secret never goes in the file: put it in an environment "
                           "variable and name that variable in client_secret_env")
            values: dict[str, Any] = {}
            for key in CLIENT_KEYS:
                value = given.get(key)
                if value is None and fallback is not None:  # the real-time client defaults key by key
                    continue
                if not isinstance(value, str) or not value.strip():
                    raise fail(f"{section}.{key}", "is missing or empty")
                values[key] = value.strip()
            for key in ("base_url", "api_url"):
                if key in values:
                    try:
                        values[key] = check_talkdesk_url(values[key], f"{label}, key {section}.{key}")
                    except SettingsError as exc:
                        raise AccountsFileError(str(exc)) from None
            secret_var = values.get("client_secret_env")
            if secret_var is not None and not (environ.get(secret_var) or "").strip():
                raise fail(f"{section}.client_secret_env",
                           f"the environment variable {secret_var!r} that should hold the client secret is not set")
            base = fallback or TalkdeskClientConfig(base_url="", api_url="")
            return TalkdeskClientConfig(
                base_url=values.get("base_url", base.base_url), api_url=values.get("api_url", base.api_url),
                client_id=values.get("client_id", base.client_id),
                client_secret_var=values.get("client_secret_env", base.client_secret_var))

        historical = client("historical", None)
        realtime = client("realtime", historical)
        interval = entry.get("agent_state_interval_seconds", default_interval_seconds)
        low, high = INTERVAL_RANGE
        if isinstance(interval, bool) or not isinstance(interval, int) or not low <= interval <= high:
            raise fail("agent_state_interval_seconds", f"must be a whole number of seconds from {low} to {high}, "
                       f"not {interval!r}")
        volume_report = entry.get("volume_report", default_volume_report)
        if volume_report not in VOLUME_REPORTS:
            raise fail("volume_report", f"must be one of {', '.join(VOLUME_REPORTS)}, not {volume_report!r}")
        accounts.append(Account(id=raw_id, name=name.strip(), enabled=enabled, historical=historical,
                                realtime=realtime, agent_state_interval_seconds=interval,
                                volume_report=volume_report))
    return tuple(accounts)
