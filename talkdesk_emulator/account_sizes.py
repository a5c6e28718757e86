"""Account sizes for benchmarks, and a mix of many accounts with distinct seeds and credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from talkdesk_emulator.config import EmulatorConfig


@dataclass(frozen=True)
class AccountSize:
    queues: int
    agents: int
    contacts_per_day: int

    def config_fields(self) -> dict[str, int]:
        return {"queues": self.queues, "agents": self.agents, "contacts_per_day": self.contacts_per_day}


# Small and large are the centers benchmarks/environment.py runs (QUICK_CENTER, LARGE_CENTER: about 220,000
# contacts and 612,000 status records a day); medium sits between them on a log scale.
ACCOUNT_SIZES: dict[str, AccountSize] = {
    "small": AccountSize(queues=30, agents=300, contacts_per_day=25_000),
    "medium": AccountSize(queues=100, agents=1000, contacts_per_day=80_000),
    "large": AccountSize(queues=300, agents=3000, contacts_per_day=250_000),
}


def benchmark_accounts(small: int = 40, medium: int = 8, large: int = 2, first_seed: int = 1001,
                       **common: Any) -> dict[str, EmulatorConfig]:
    """`small` + `medium` + `large` accounts named `small_01`, `medium_01`, ...: each its own seed (counted
    from `first_seed`) and its own client `<id>-client` / `<id>-secret`. `common` sets any other
    EmulatorConfig field on every account (e.g. report_processing_seconds)."""
    counts = {"small": small, "medium": medium, "large": large}
    if any(count < 0 for count in counts.values()) or not sum(counts.values()):
        raise ValueError(f"account counts must be >= 0 and not all 0, not {counts}")
    clashing = {"seed", "client_id", "client_secret", *ACCOUNT_SIZES["small"].config_fields()} & common.keys()
    if clashing:
        raise ValueError(f"benchmark_accounts sets {', '.join(sorted(clashing))} per account itself")
    accounts: dict[str, EmulatorConfig] = {}
    for size_name, count in counts.items():
        for number in range(1, count + 1):
            account_id = f"{size_name}_{number:02d}"
            accounts[account_id] = EmulatorConfig(
                seed=first_seed + len(accounts), client_id=f"{account_id}-client",
                client_secret=f"{account_id}-secret", **ACCOUNT_SIZES[size_name].config_fields(), **common)
    return accounts
