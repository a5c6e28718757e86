"""One collection of every active agent's current state, written to `wfm_agent_state_snapshot` and
`wfm_agent_state_current`. Plain Python: the agent-state sensor calls it at each account's interval
without launching a run, and the `agent_state_snapshots` asset calls it when materialized by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.engine import Engine

from wfm_pipelines.db import agent_state_writer, queries
from wfm_pipelines.talkdesk import TalkdeskClient, parsing
from wfm_pipelines.transforms import agent_states as state_rules

STATUS_CALLS = "ccaas_users_status"
USER_STATUS_REPORT = "user_status_report"


@dataclass(frozen=True)
class SnapshotCollection:
    snapshot_at: datetime
    source: str  # STATUS_CALLS where the account has POST /ccaas/users/status, else USER_STATUS_REPORT
    agents_asked: int
    states: dict[str, int]  # how many agents are in each state
    written: agent_state_writer.SnapshotResult

    def metadata(self) -> dict[str, object]:
        """Counts only: the snapshot names no person."""
        written = self.written
        return {"snapshot_at": self.snapshot_at.isoformat(), "source": self.source, "agents_asked": self.agents_asked,
                "states": self.states, "rows_appended": written.appended, "new_agents": written.new_agents,
                "state_changes": written.changed, "unchanged": written.unchanged, "stale": written.stale,
                "states_marked_stale": written.unconfirmed}


def collect_agent_state_snapshot(client: TalkdeskClient, engine: Engine, *, account_id: str,
                                 stale_after: int) -> SnapshotCollection:
    snapshot_at = datetime.now(timezone.utc)
    stored_agents = queries.read_table(engine, "wfm_agent", account_id=account_id)
    if len(stored_agents):
        agent_ids = stored_agents.loc[stored_agents["active"].astype(bool), "agent_id"].tolist()
    else:  # before the first configuration import
        agent_ids = [u["id"] for u in client.list_users() if u.get("active", True)]
    statuses = client.current_agent_statuses(agent_ids)
    if statuses is not None:
        source = STATUS_CALLS
        frame = state_rules.current_states_from_status_calls(statuses, snapshot_at=snapshot_at)
    else:
        source = USER_STATUS_REPORT
        parsed = parsing.parse_user_status_report(client.latest_user_statuses())
        frame = state_rules.current_states_from_user_status(parsed.records, snapshot_at=snapshot_at)
        frame = frame[frame["agent_id"].isin(agent_ids)] if agent_ids else frame
    if frame.empty:  # no agent to report (e.g. none active): nothing moves
        written = agent_state_writer.SnapshotResult(appended=0, new_agents=0, changed=0, unchanged=0, stale=0)
    else:
        written = agent_state_writer.append_agent_state_snapshot(engine, frame.drop(columns=["snapshot_at"]),
                                                                 snapshot_at=snapshot_at, stale_after=stale_after,
                                                                 account_id=account_id)
    states = {str(state): int(count) for state, count in frame["state"].value_counts().items()} if len(frame) else {}
    return SnapshotCollection(snapshot_at=snapshot_at, source=source, agents_asked=len(agent_ids), states=states,
                              written=written)
