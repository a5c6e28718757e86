"""`TalkdeskClient`: the calls the WFM pipelines make to Talkdesk (directory, reports, agent states)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import quote

from wfm_pipelines.talkdesk.auth import TalkdeskConnection
from wfm_pipelines.talkdesk.errors import TalkdeskForbiddenError, TalkdeskNotFoundError
from wfm_pipelines.talkdesk.explore import ExploreReports, ExploreSettings, ReportResult
from wfm_pipelines.talkdesk.http import RetrySettings, TalkdeskHttp, Timeouts, json_body
from wfm_pipelines.talkdesk.parsing import parse_timestamp

logger = logging.getLogger("wfm_pipelines.talkdesk")

QueueSourceKind = Literal["queue", "ring_group"]
STATUS_BATCH_SIZE = 20  # Talkdesk's limit for POST /ccaas/users/status
USERS_PER_PAGE = 200
RING_GROUPS_PER_PAGE = 200
QUEUES_PER_PAGE = 100  # the Queues API allows 1..100
# What an account without an optional API answers: no such endpoint / product off (404), or no scope (403).
_API_NOT_OFFERED = (TalkdeskNotFoundError, TalkdeskForbiddenError)


@dataclass(frozen=True)
class QueueListing:
    source_kind: QueueSourceKind
    queues: list[dict]


class TalkdeskClient:
    """One client per connection: a pooled session, a cached token, retries. Thread-safe."""

    def __init__(self, connection: TalkdeskConnection, *, retry: RetrySettings | None = None,
                 timeouts: Timeouts | None = None, explore: ExploreSettings | None = None,
                 status_workers: int = 8):
        self.connection = connection
        self.status_workers = max(1, status_workers)
        self.http = TalkdeskHttp(connection, retry=retry, timeouts=timeouts, pool_size=max(16, self.status_workers * 2))
        self.explore = ExploreReports(self.http, explore)

    def __repr__(self) -> str:
        return f"TalkdeskClient({self.connection!r})"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TalkdeskClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- directory ------------------------------------------------------------------------------------------

    def list_users(self) -> list[dict]:
        return list(self.http.iter_hal("/users", "users", {"per_page": USERS_PER_PAGE}))

    def list_ring_groups(self) -> list[dict]:
        return list(self.http.iter_hal("/ring-groups", "ring_groups", {"per_page": RING_GROUPS_PER_PAGE}))

    def list_queues(self) -> QueueListing:
        """The Queues API where the account has it, else Ring Groups. Reports name queues, so a queue's
        WFM id is its name; ring-group thresholds are merged into queues of the same name when readable."""
        queues = self._ccaas_queues()
        if queues is None:
            return QueueListing("ring_group", self.list_ring_groups())
        try:
            thresholds = {group.get("name"): group for group in self.list_ring_groups()}
        except _API_NOT_OFFERED as exc:
            logger.info("Talkdesk ring groups not readable (HTTP %s); queues keep no thresholds", exc.status)
            thresholds = {}
        merged = []
        for queue in queues:
            group = thresholds.get(queue.get("name"), {})
            extra = {key: group[key] for key in ("wait_time_threshold", "short_abandoned_threshold")
                     if key in group and key not in queue}
            merged.append({**queue, **extra})
        return QueueListing("queue", merged)

    def _ccaas_queues(self) -> list[dict] | None:
        if self.connection.scopes and "queues:read" not in self.connection.scopes:
            return None  # a token without the scope would only earn a 403
        try:
            return list(self.http.iter_hal("/ccaas/queues", "queues", {"per_page": QUEUES_PER_PAGE}))
        except _API_NOT_OFFERED as exc:
            logger.info("Talkdesk Queues API unavailable (HTTP %s %s); using Ring Groups", exc.status, exc.code)
            return None

    def list_queue_member_ids(self, queue: str | dict, source_kind: QueueSourceKind) -> list[str]:
        """User ids of a queue: by queue id for the Queues API, by name for a ring group.
        `queue` may be the listing's dict or the id/name itself."""
        if source_kind == "queue":
            key = queue.get("id") if isinstance(queue, dict) else queue
            path, per_page = f"/ccaas/queues/{path_segment(str(key))}/users", QUEUES_PER_PAGE
        elif source_kind == "ring_group":
            key = queue.get("name") if isinstance(queue, dict) else queue
            path, per_page = f"/ring-groups/{path_segment(str(key))}/users", RING_GROUPS_PER_PAGE
        else:
            raise ValueError(f"source_kind must be 'queue' or 'ring_group', not {source_kind!r}")
        members = self.http.iter_hal(path, "users", {"per_page": per_page})
        return [str(member.get("id") or member.get("user_id")) for member in members
                if member.get("id") or member.get("user_id")]

    # -- reports ----------------------------------------------------------------------------------------------

    def run_report(self, report_type: str, start: datetime, end: datetime, *, timezone: str = "UTC",
                   report_format: str = "json") -> ReportResult:
        """Entries of an Explore report for [start, end): windows over 31 days are split, an end in the
        future is clamped, a full quota is waited out."""
        return self.explore.run(report_type, start, end, timezone_name=timezone, report_format=report_format)

    # -- agent states ---------------------------------------------------------------------------------------

    def current_agent_statuses(self, user_ids: Iterable[str]) -> list[dict] | None:
        """`[{"id", "status"}, ...]` from POST /ccaas/users/status, 20 ids a call, fanned out over a small
        thread pool. None when the account does not offer the endpoint (use `latest_user_statuses`)."""
        ids = list(dict.fromkeys(str(user_id) for user_id in user_ids))
        if not ids:
            return []
        batches = [ids[i: i + STATUS_BATCH_SIZE] for i in range(0, len(ids), STATUS_BATCH_SIZE)]
        try:
            # The first batch alone tells whether the account has the endpoint at all.
            first = self._status_batch(batches[0])
        except _API_NOT_OFFERED as exc:
            logger.info("Talkdesk current agent status unavailable (HTTP %s %s)", exc.status, exc.code)
            return None
        if len(batches) == 1:
            return first
        with ThreadPoolExecutor(max_workers=self.status_workers, thread_name_prefix="talkdesk-status") as pool:
            rest = list(pool.map(self._status_batch, batches[1:]))
        return first + [status for batch in rest for status in batch]

    def _status_batch(self, user_ids: Sequence[str]) -> list[dict]:
        response = self.http.request("POST", "/ccaas/users/status", json={"user_ids": list(user_ids)})
        body: Any = json_body(response, "POST", self.http.api("/ccaas/users/status"))
        if isinstance(body, dict):  # tolerate a HAL-style wrapper around the documented bare array
            body = (body.get("_embedded") or {}).get("users") or body.get("users") or []
        return list(body)

    def latest_user_statuses(self, lookback: timedelta = timedelta(minutes=60), *,
                             data_delay: timedelta = timedelta(minutes=1)) -> list[dict]:
        """The newest `user_status` record per user over [now - data_delay - lookback, now - data_delay):
        the fallback for accounts without POST /ccaas/users/status."""
        end = datetime.now(timezone.utc) - data_delay
        return newest_status_per_user(self.run_report("user_status", end - lookback, end).entries)


def path_segment(name: str) -> str:
    """A name as one URL path segment: `/` and `%` encoded, and `.` / `..` too, which HTTP clients would
    otherwise resolve as dot-segments (a ring group called `..` is a name, never a path)."""
    encoded = quote(name, safe="")
    return encoded.replace(".", "%2E") if encoded.strip(".") == "" else encoded


def newest_status_per_user(entries: Iterable[dict]) -> list[dict]:
    """For each `user_id`, the `user_status` entry with the latest `status_start_at`."""
    newest: dict[str, tuple[datetime, dict]] = {}
    for entry in entries:
        user_id = entry.get("user_id")
        started = _sortable_time(entry.get("status_start_at"))
        if not user_id or started is None:
            continue
        if str(user_id) not in newest or started >= newest[str(user_id)][0]:
            newest[str(user_id)] = (started, entry)
    return [entry for _, entry in newest.values()]


def _sortable_time(value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except ValueError:
        return None
