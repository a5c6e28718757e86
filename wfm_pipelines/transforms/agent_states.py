"""User-status records -> agent state transactions and current agent states."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from wfm_pipelines.talkdesk.parsing.values import is_storable_text, repair_text
from wfm_pipelines.transforms.contact_volume import utc_timestamp

TRANSACTION_COLUMNS = ["agent_id", "state_start", "state", "state_end", "duration_s", "collected_at"]
CURRENT_STATE_COLUMNS = ["agent_id", "state", "since", "snapshot_at"]
UNKNOWN_STATE = "unknown"


def _constant_timestamp(stamp: pd.Timestamp, index: pd.Index) -> pd.Series:
    return pd.Series(stamp, index=index, dtype="datetime64[ns, UTC]")


def agent_state_transactions(records: pd.DataFrame, *, window_start, window_end, collected_at) -> pd.DataFrame:
    """One `wfm_agent_state_transaction` row per closed status record whose end is in [window_start, window_end).

    The partition that contains a record's `state_end` owns it, so a record is written exactly once
    whichever window Talkdesk filtered the report on; open records (no end) are owned by nobody yet.
    Records are not clipped or merged: Talkdesk's own splits (month change, team change) stay rows.

    Duplicates of (agent_id, state_start), the table's key, keep the record with the LATEST end
    (then the greatest state label, for determinism): Talkdesk re-renders a record as it settles, and
    the longest rendering covers the shorter ones, so no state time is lost. The choice is made
    BEFORE the window filter, so callers that pass records with margins (as collection does) get the
    same winner in every partition and a shorter duplicate never lands in an earlier partition.
    """
    start = utc_timestamp(window_start, "window_start")
    end = utc_timestamp(window_end, "window_end")
    if end < start:  # start == end is an empty window: no rows, the table's columns
        raise ValueError(f"window_end {end} is before window_start {start}")
    closed = records.loc[records["state_end"].notna(), ["agent_id", "state_start", "state", "state_end", "duration_s"]]
    winners = (closed.sort_values(["agent_id", "state_start", "state_end", "state"], kind="stable")
               .drop_duplicates(["agent_id", "state_start"], keep="last"))
    owned = winners.loc[(winners["state_end"] >= start) & (winners["state_end"] < end)].reset_index(drop=True)
    owned = owned.astype({"agent_id": object, "state": object, "duration_s": "float64",
                          "state_start": "datetime64[ns, UTC]", "state_end": "datetime64[ns, UTC]"})
    owned["collected_at"] = _constant_timestamp(utc_timestamp(collected_at, "collected_at"), owned.index)
    return owned[TRANSACTION_COLUMNS]


def current_states_from_status_calls(statuses: Iterable[Mapping[str, Any]], *, snapshot_at) -> pd.DataFrame:
    """`POST /ccaas/users/status` answers (`{"id", "status"}`) -> current states.

    `since` is NaT: the call does not say when the status began (the writer keeps `since` while the
    state is unchanged). A repeated id keeps its last answer; an entry without id is skipped; a
    missing status becomes `unknown` so the agent still appears in the snapshot.
    """
    latest: dict[str, str] = {}
    for status in statuses:
        agent_id = status.get("id")
        if agent_id is None or str(agent_id).strip() == "" or not is_storable_text(str(agent_id)):
            continue
        value = status.get("status")
        # A NUL or a broken character in a status label must not lose the whole collection.
        latest[str(agent_id).strip()] = repair_text(str(value).strip()) if value not in (None, "") else UNKNOWN_STATE
    frame = pd.DataFrame({"agent_id": pd.Series(list(latest), dtype=object),
                          "state": pd.Series(list(latest.values()), dtype=object)})
    frame["since"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    frame["snapshot_at"] = _constant_timestamp(utc_timestamp(snapshot_at, "snapshot_at"), frame.index)
    return frame.sort_values("agent_id", kind="stable").reset_index(drop=True)[CURRENT_STATE_COLUMNS]


def current_states_from_user_status(records: pd.DataFrame, *, snapshot_at) -> pd.DataFrame:
    """Newest `user_status` record per agent -> current state: state = its label, since = its start.

    Newest = latest `state_start`; at equal starts an open record (the one still running) wins over a
    closed one, then the later end. Records starting after `snapshot_at` are ignored.
    """
    snapshot = utc_timestamp(snapshot_at, "snapshot_at")
    usable = records.loc[records["state_start"].notna() & (records["state_start"] <= snapshot)]
    ranked = usable.assign(
        _open=usable["state_end"].isna().to_numpy(),
        _end=usable["state_end"].fillna(pd.Timestamp.max.tz_localize("UTC")),
    ).sort_values(["agent_id", "state_start", "_open", "_end"], kind="stable")
    newest = ranked.drop_duplicates("agent_id", keep="last")
    frame = pd.DataFrame({"agent_id": newest["agent_id"].astype(object).to_numpy(),
                          "state": newest["state"].astype(object).to_numpy(),
                          "since": newest["state_start"].to_numpy(dtype="datetime64[ns]")})
    frame["since"] = frame["since"].dt.tz_localize("UTC")
    frame["snapshot_at"] = _constant_timestamp(snapshot, frame.index)
    return frame.sort_values("agent_id", kind="stable").reset_index(drop=True)[CURRENT_STATE_COLUMNS]

