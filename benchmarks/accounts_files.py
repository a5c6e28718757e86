"""The files and environment of a many-account deployment: the emulator's accounts file serving them all, the WFM
accounts file pointing each account at it, and the variables a deployment of them gets (each account's secret by a
variable of its own)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from benchmarks.environment import EmulatorProcess
from wfm_pipelines.settings import PARTITION_FORMAT

AGENT_STATE_INTERVAL_SECONDS = 30


def secret_variable(account_id: str) -> str:
    return f"{account_id.upper()}_TD_SECRET"


def emulator_accounts_yaml(configs: dict) -> str:
    lines = ["accounts:"]
    for account_id, config in configs.items():
        lines += [f"  - id: {account_id}", f"    client_id: {config.client_id}",
                  f"    client_secret: {config.client_secret}", f"    seed: {config.seed}",
                  f"    queues: {config.queues}", f"    agents: {config.agents}",
                  f"    contacts_per_day: {config.contacts_per_day}",
                  f"    report_processing_seconds: {config.report_processing_seconds}"]
    return "\n".join(lines) + "\n"


def wfm_accounts_yaml(emulator: EmulatorProcess, account_ids: Iterable[str], configs: dict) -> str:
    entries = []
    for account_id in account_ids:
        url = emulator.account_url(account_id)
        entries.append(textwrap.dedent(f"""\
            - id: {account_id}
              historical:
                base_url: {url}
                api_url: {url}
                client_id: {configs[account_id].client_id}
                client_secret_env: {secret_variable(account_id)}
              agent_state_interval_seconds: {AGENT_STATE_INTERVAL_SECONDS}
            """))
    return "accounts:\n" + "".join(textwrap.indent(entry, "  ") for entry in entries)


def deployment_env(accounts_file: Path, database_url: str, raw_store: Path, configs: dict,
                   history_start: datetime, **extra: str) -> dict[str, str]:
    return {"WFM_ACCOUNTS_FILE": str(accounts_file), "WFM_DATABASE_URL": database_url,
            "WFM_RAW_STORE": str(raw_store), "WFM_HISTORY_START": history_start.strftime(PARTITION_FORMAT),
            "WFM_AUTOMATION": "off", "WFM_STEP_RETRIES": "0",
            **{secret_variable(a): c.client_secret for a, c in configs.items()}, **extra}


def size_of(account_id: str) -> str:
    return account_id.rsplit("_", 1)[0]
