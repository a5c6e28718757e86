"""Real-time collection of many accounts on one clock: which accounts are due, and their collections side by
side in a thread pool that outlives a single look, so one slow or silent Talkdesk never holds back the others.

Plain Python. The agent-state sensor looks every few seconds: it starts the collections that are due, waits
briefly, and reports whatever finished since its last look (`RealtimeCollector.finished`). A collection that
takes longer than a look is reported by a later one; an account is never collected twice at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from wfm_pipelines.collection.agent_state_snapshots import SnapshotCollection

# How long an error message may be where it is shown (check metadata, logs): enough for the cause.
ERROR_TEXT_LIMIT = 500
PASSED, FAILED = "passed", "failed"


def look_interval_seconds(intervals: Iterable[int]) -> int:
    """How often to look for due accounts: a sixth of the shortest interval, between 5 s and 60 s, so an
    account's collections start at most half a look away from its interval (see `due_accounts`)."""
    return max(5, min(60, min(intervals) // 6))


def due_accounts(intervals: Mapping[str, int], last_started: Mapping[str, float], now: float,
                 tolerance: float) -> list[str]:
    """Accounts whose next collection is due at `now`, most overdue first. An account is due once its interval
    has passed since its last start, less `tolerance` (half a look): starting up to half a look early keeps the
    gaps centred on the interval instead of always a fraction of a look late."""
    lateness = {}
    for account_id, interval in intervals.items():
        started = last_started.get(account_id)
        overdue = float("inf") if started is None else now - (started + interval)
        if overdue >= -tolerance:
            lateness[account_id] = overdue
    return sorted(lateness, key=lambda account_id: -lateness[account_id])


def describe_error(error: BaseException) -> str:
    """The error as shown to an operator. Our clients' messages never hold a secret (tested)."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT - 1] + "…"


@dataclass(frozen=True)
class CollectionOutcome:
    account_id: str
    started_at: float  # epoch seconds
    finished_at: float
    collection: SnapshotCollection | None  # None when it failed
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.collection is not None


@dataclass
class RealtimeCursor:
    """What the sensor remembers between looks: when each account's last collection started, and the state
    of each account's collection check as last reported (a check is reported only when it changes)."""

    last_started: dict[str, float] = field(default_factory=dict)
    check_state: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str | None) -> RealtimeCursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(last_started={k: float(v) for k, v in data.get("last_started", {}).items()},
                   check_state={k: str(v) for k, v in data.get("check_state", {}).items()})

    def to_text(self) -> str:
        return json.dumps({"last_started": self.last_started, "check_state": self.check_state}, sort_keys=True)

    def forget_all_but(self, account_ids: Iterable[str]) -> None:
        """Drops what it remembers of accounts no longer collected (removed from the file, or paused)."""
        keep = set(account_ids)
        self.last_started = {k: v for k, v in self.last_started.items() if k in keep}
        self.check_state = {k: v for k, v in self.check_state.items() if k in keep}

    def check_changes(self, outcome: CollectionOutcome) -> bool:
        """Records the outcome's check state; True when it differs from the one last reported."""
        state = PASSED if outcome.succeeded else FAILED
        changed = self.check_state.get(outcome.account_id) != state
        self.check_state[outcome.account_id] = state
        return changed


class RealtimeCollector:
    """Collections in flight, one at most per account, on a pool of `max_workers` threads."""

    def __init__(self, max_workers: int):
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None  # made on first use: importing the definitions starts no thread
        self._in_flight: dict[str, Future[CollectionOutcome]] = {}
        self._lock = threading.Lock()

    def in_flight(self) -> set[str]:
        with self._lock:
            return set(self._in_flight)

    def start(self, account_id: str, collect: Callable[[], SnapshotCollection]) -> bool:
        """Starts the account's collection; False (and nothing started) while its previous one is still going."""
        with self._lock:
            if account_id in self._in_flight:
                return False
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="wfm-agent-states")
            self._in_flight[account_id] = self._pool.submit(_run, account_id, collect)
            return True

    def wait(self, timeout: float) -> None:
        """Returns when every collection in flight has finished, or after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [future for future in self._in_flight.values() if not future.done()]
            remaining = deadline - time.monotonic()
            if not pending or remaining <= 0:
                return
            wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)

    def finished(self) -> list[CollectionOutcome]:
        """The outcomes of the collections that finished since the last call, oldest start first."""
        with self._lock:
            done = {account_id: future for account_id, future in self._in_flight.items() if future.done()}
            for account_id in done:
                del self._in_flight[account_id]
        return sorted((future.result() for future in done.values()), key=lambda outcome: outcome.started_at)


def _run(account_id: str, collect: Callable[[], SnapshotCollection]) -> CollectionOutcome:
    started = time.time()
    try:
        collection = collect()
    except Exception as error:  # noqa: BLE001 - any failure is this account's outcome, reported on its check
        return CollectionOutcome(account_id, started, time.time(), None, describe_error(error))
    return CollectionOutcome(account_id, started, time.time(), collection)
