"""Parsed configuration payloads -> frames shaped for `wfm_agent`, `wfm_queue`, `wfm_queue_agent`.

`first_seen_at` and `last_seen_at` are not here: the configuration writer sets them. `active` is the
source's own flag (a user Talkdesk deactivated is inactive; every listed queue is active); a row that
disappears from the source is deactivated by the writer, never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

AGENT_COLUMNS = ["agent_id", "name", "email", "extension", "active", "source_created_at"]
QUEUE_COLUMNS = ["queue_id", "name", "source_kind", "service_level_threshold_s", "short_abandon_threshold_s", "active"]
MEMBERSHIP_COLUMNS = ["queue_id", "agent_id"]


def agents_frame(users_df: pd.DataFrame) -> pd.DataFrame:
    """`parse_users` output -> `wfm_agent` rows, one per agent_id, sorted.

    Every listed user is kept, including users Talkdesk reports as inactive (kept with active false):
    their history rows (transactions, memberships) still need their agent.
    """
    frame = users_df.drop_duplicates("agent_id", keep="last").sort_values("agent_id", kind="stable")
    frame = frame.reindex(columns=AGENT_COLUMNS).reset_index(drop=True)
    frame["active"] = frame["active"].map(lambda value: True if pd.isna(value) else bool(value)).astype(bool)
    frame["source_created_at"] = pd.to_datetime(frame["source_created_at"], utc=True).astype("datetime64[ns, UTC]")
    return frame.astype({"agent_id": object, "name": object, "email": object, "extension": object})


def queues_frame(queues_df: pd.DataFrame) -> pd.DataFrame:
    """`parse_queues` output -> `wfm_queue` rows, one per queue_id, sorted."""
    frame = queues_df.drop_duplicates("queue_id", keep="last").sort_values("queue_id", kind="stable")
    frame = frame.reindex(columns=QUEUE_COLUMNS).reset_index(drop=True)
    frame["active"] = True
    return frame.astype({"queue_id": object, "name": object, "source_kind": object,
                         "service_level_threshold_s": "float64", "short_abandon_threshold_s": "float64"})


def memberships_frame(pairs: Iterable[tuple[str, str]]) -> pd.DataFrame:
    """(queue_id, agent_id) pairs -> `wfm_queue_agent` rows, deduplicated and sorted."""
    unique = sorted({(str(queue_id), str(agent_id)) for queue_id, agent_id in pairs})
    return pd.DataFrame(unique, columns=MEMBERSHIP_COLUMNS, dtype=object)
