"""The accounts file of `talkdesk-emulator --accounts-file`: YAML, one entry per emulated account.

    accounts:
      - id: north                 # [a-z][a-z0-9_]{0,31}; served under /accounts/north
        client_id: north-client   # required, and no two accounts share a client id
        client_secret: north-secret
        size: small               # optional preset (account_sizes.py); keys given below it win
        seed: 11
        contacts_per_day: 9000
        csv_header: display_names # optional: CSV columns named `Call Id`, `Start At`, ... (snake_case)
        clients:                  # optional extra OAuth clients with fewer scopes
          north-reader: {secret: reader-secret, scopes: [users:read]}

Every problem names the account and the key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from talkdesk_emulator.account_sizes import ACCOUNT_SIZES
from talkdesk_emulator.accounts import check_account_id, check_distinct_clients
from talkdesk_emulator.config import ALL_SCOPES, CSV_HEADERS, EmulatorConfig

REQUIRED_KEYS = ("id", "client_id", "client_secret")


class AccountsFileError(ValueError):
    pass


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_at_least(minimum: int) -> tuple[Callable[[Any], bool], str]:
    return (lambda value: _is_int(value) and value >= minimum), f"an integer >= {minimum}"


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _time_zone(value: Any) -> bool:
    if not _text(value):
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _queue_names(value: Any) -> bool:
    return isinstance(value, list) and all(_text(name) for name in value) and len(set(value)) == len(value)


def _clients(value: Any) -> bool:
    return isinstance(value, dict) and all(
        _text(client_id) and isinstance(client, dict) and client.keys() == {"secret", "scopes"}
        and _text(client["secret"]) and isinstance(client["scopes"], list) and bool(client["scopes"])
        and all(scope in ALL_SCOPES for scope in client["scopes"])
        for client_id, client in value.items())


# EmulatorConfig fields an account may set: a check and the expected value described for the error.
FIELD_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "seed": (_is_int, "an integer"),
    "queues": _int_at_least(1),
    "agents": _int_at_least(1),
    "contacts_per_day": _int_at_least(0),
    "client_id": (_text, "a non-empty string"),
    "client_secret": (_text, "a non-empty string"),
    "token_ttl": _int_at_least(1),
    "data_delay_seconds": _int_at_least(0),
    "report_processing_seconds": (lambda v: (_is_int(v) or isinstance(v, float)) and v >= 0, "seconds >= 0"),
    "max_contact_seconds": _int_at_least(600),
    "account_timezone": (_time_zone, "an IANA time zone name such as Europe/Lisbon"),
    "queue_names": (_queue_names, "a list of distinct non-empty strings"),
    "csv_header": (lambda v: v in CSV_HEADERS, " or ".join(f'"{v}"' for v in CSV_HEADERS)),
    "clients": (_clients, "a mapping of client id to {secret: <text>, scopes: [<scope>, ...]} with scopes from "
                          + ", ".join(ALL_SCOPES)),
}
KNOWN_KEYS = ("id", "size", *FIELD_CHECKS)


def _account_config(entry: dict[str, Any], where: str) -> EmulatorConfig:
    unknown = [key for key in entry if key not in KNOWN_KEYS]
    if unknown:
        raise AccountsFileError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(KNOWN_KEYS)}")
    missing = [key for key in REQUIRED_KEYS if key not in entry]
    if missing:
        raise AccountsFileError(f"{where}: missing key {missing[0]!r} (every account needs "
                                f"{', '.join(REQUIRED_KEYS)})")
    fields: dict[str, Any] = {}
    if "size" in entry:
        if entry["size"] not in ACCOUNT_SIZES:
            raise AccountsFileError(f"{where}: size must be one of {', '.join(ACCOUNT_SIZES)}, not {entry['size']!r}")
        fields.update(ACCOUNT_SIZES[entry["size"]].config_fields())
    for key, value in entry.items():
        if key in FIELD_CHECKS:
            check, expected = FIELD_CHECKS[key]
            if not check(value):
                raise AccountsFileError(f"{where}: {key} must be {expected}, not {value!r}")
            fields[key] = value
    if "queue_names" in fields:
        fields["queue_names"] = tuple(fields["queue_names"])
    if "clients" in fields:
        fields["clients"] = {client_id: (client["secret"], tuple(client["scopes"]))
                             for client_id, client in fields["clients"].items()}
    try:
        return EmulatorConfig(**fields)
    except ValueError as error:
        raise AccountsFileError(f"{where}: {error}") from None


def parse_accounts(document: Any, source: str) -> dict[str, EmulatorConfig]:
    """Account id -> config from a parsed accounts document; AccountsFileError names what is wrong where."""
    if not isinstance(document, dict) or set(document) != {"accounts"}:
        raise AccountsFileError(f"{source}: expected a mapping with the one key 'accounts' (a list of accounts)")
    entries = document["accounts"]
    if not isinstance(entries, list) or not entries:
        raise AccountsFileError(f"{source}: 'accounts' must be a non-empty list")
    accounts: dict[str, EmulatorConfig] = {}
    for index, entry in enumerate(entries):
        where = f"{source}: accounts[{index}]"
        if not isinstance(entry, dict):
            raise AccountsFileError(f"{where}: each account is a mapping of keys, not {entry!r}")
        account_id = entry.get("id")
        try:
            check_account_id(account_id)
        except ValueError as error:
            raise AccountsFileError(f"{where}: id: {error}") from None
        where = f"{source}: account {account_id!r} (accounts[{index}])"
        if account_id in accounts:
            raise AccountsFileError(f"{where}: id {account_id!r} is used twice")
        accounts[account_id] = _account_config(entry, where)
    try:
        check_distinct_clients(accounts)
    except ValueError as error:
        raise AccountsFileError(f"{source}: {error}") from None
    return accounts


def load_accounts_file(path: str | Path) -> dict[str, EmulatorConfig]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise AccountsFileError(f"{path}: cannot read the accounts file ({error.strerror or error})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise AccountsFileError(f"{path}: not valid YAML: {error}") from None
    return parse_accounts(document, str(path))
