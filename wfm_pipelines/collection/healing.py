"""The gap ledger behind self-healing: which failed or missing intervals to request again, and when to
give up. Plain data in, plain data out; the Dagster sensor stores the state in its cursor.

Commercial WFM connectors leave reloading missing data to a person; here every interval of the last days
that failed or never landed is requested again automatically, with exponential backoff between attempts
and a bounded number of attempts, after which it is reported as given up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MATERIALIZED = "materialized"
FAILED = "failed"
IN_PROGRESS = "in_progress"
MISSING = "missing"


@dataclass
class PartitionAttempts:
    attempts: int = 0
    next_at: float = 0.0


@dataclass
class HealingState:
    """Attempts per asset and partition key; partitions already reported as given up."""

    attempts: dict[str, dict[str, PartitionAttempts]] = field(default_factory=dict)
    gave_up: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, cursor: str | None) -> "HealingState":
        if not cursor:
            return cls()
        data = json.loads(cursor)
        return cls(
            attempts={asset: {key: PartitionAttempts(*value) for key, value in keys.items()}
                      for asset, keys in data.get("attempts", {}).items()},
            gave_up={asset: list(keys) for asset, keys in data.get("gave_up", {}).items()},
        )

    def to_cursor(self) -> str:
        return json.dumps({
            "attempts": {asset: {key: [a.attempts, a.next_at] for key, a in keys.items()}
                         for asset, keys in self.attempts.items() if keys},
            "gave_up": {asset: keys for asset, keys in self.gave_up.items() if keys},
        }, separators=(",", ":"))


@dataclass
class HealingPlan:
    ranges: list[tuple[str, str, int]]  # (first key, last key, attempt number)
    newly_gave_up: list[str]
    waiting: int  # failed or missing, waiting for their backoff to pass


def plan_asset_healing(
    asset: str,
    candidate_keys: list[str],
    status_by_key: dict[str, str],
    state: HealingState,
    now: float,
    *,
    max_attempts: int,
    backoff_seconds: float,
    max_ranges: int,
    max_partitions_per_range: int,
) -> HealingPlan:
    """Decide which of `candidate_keys` (consecutive partition keys, oldest first) to request again.

    Newest gaps first, since a WFM team looks at recent intervals first; contiguous gaps go out as one
    ranged run. Updates `state` in place.
    """
    ledger = state.attempts.setdefault(asset, {})
    gave_up = state.gave_up.setdefault(asset, [])
    candidates = set(candidate_keys)
    # Forget partitions that healed (materialized) or aged out of the window.
    for key in list(ledger):
        if key not in candidates or status_by_key.get(key) == MATERIALIZED:
            del ledger[key]
    gave_up[:] = [k for k in gave_up if k in candidates and status_by_key.get(k) != MATERIALIZED]

    eligible: list[bool] = []
    newly_gave_up, waiting = [], 0
    for key in candidate_keys:
        status = status_by_key.get(key, MISSING)
        entry = ledger.get(key, PartitionAttempts())
        ok = False
        if status in (FAILED, MISSING):
            if entry.attempts >= max_attempts:
                if key not in gave_up:
                    gave_up.append(key)
                    newly_gave_up.append(key)
            elif now >= entry.next_at:
                ok = True
            else:
                waiting += 1
        eligible.append(ok)

    ranges: list[tuple[str, str, int]] = []
    index = len(candidate_keys) - 1
    while index >= 0 and len(ranges) < max_ranges:
        if not eligible[index]:
            index -= 1
            continue
        last = index
        while index - 1 >= 0 and eligible[index - 1] and last - (index - 1) < max_partitions_per_range:
            index -= 1
        first = index
        keys = candidate_keys[first:last + 1]
        attempt = max(ledger.get(k, PartitionAttempts()).attempts for k in keys) + 1
        for key in keys:
            entry = ledger.setdefault(key, PartitionAttempts())
            entry.attempts += 1
            entry.next_at = now + backoff_seconds * (2 ** (entry.attempts - 1))
        ranges.append((candidate_keys[first], candidate_keys[last], attempt))
        index -= 1
    return HealingPlan(ranges=ranges, newly_gave_up=newly_gave_up, waiting=waiting)
