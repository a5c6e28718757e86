"""Agent state snapshots of one account appended, and its `wfm_agent_state_current` moved forward with them: an
agent's current state, since when it holds it, and whether the account's recent collections still confirm it.

The frame is validated first (`validation.py`), then the database changes in one transaction under the
writers' lock (`window_writer.lock_writers`): a failure at any point leaves the rows that were there before.
Other accounts' states and collections play no part."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from wfm_pipelines.db.bulk import bulk_insert
from wfm_pipelines.db.engine import write_connection
from wfm_pipelines.db.schema import check_account_id, wfm_agent_state_current, wfm_agent_state_snapshot
from wfm_pipelines.db.types import UtcDateTime, to_utc
from wfm_pipelines.db.validation import UTC_DTYPE, FrameValidationError, check_unique_keys, coerce_column, prepare_frame
from wfm_pipelines.db.window_writer import lock_writers
from wfm_pipelines.db.windows import ACCOUNT


@dataclass(frozen=True)
class SnapshotResult:
    appended: int  # snapshot rows written
    new_agents: int  # agents seen for the first time
    changed: int  # agents whose state changed (a new `since`)
    unchanged: int  # agents whose state and `since` stay
    stale: int  # agents whose current row is newer than this snapshot (left as they were)
    unconfirmed: int = 0  # agents none of the last N collections saw: their current state is marked stale


def _snapshot_states(frame: pd.DataFrame, snapshot_at: datetime, account_id: str) -> tuple[pd.DataFrame, pd.Series]:
    """(the snapshot's rows, each agent's `since`: the frame's where given, else `snapshot_at`)."""
    table = wfm_agent_state_snapshot
    if not isinstance(frame, pd.DataFrame):
        raise FrameValidationError(table, None, f"expected a pandas DataFrame, got {type(frame).__name__}")
    since_given = "since" in frame.columns
    states = prepare_frame(table, frame.drop(columns=["since"]) if since_given else frame,
                           fixed_values={"snapshot_at": snapshot_at, ACCOUNT: account_id})
    check_unique_keys(table, states, ["agent_id"])
    if since_given:
        since = coerce_column(wfm_agent_state_current, wfm_agent_state_current.c.since,
                              frame["since"].reset_index(drop=True))
    else:
        since = pd.Series(pd.NaT, index=states.index, dtype=UTC_DTYPE)
    return states, since.fillna(pd.Timestamp(snapshot_at))


@dataclass
class _CurrentStateUpdate:
    """How one snapshot moves the account's current states forward."""

    inserts: list[dict] = field(default_factory=list)  # agents seen for the first time
    changes: list[dict] = field(default_factory=list)  # a new state, since its start
    touches: list[dict] = field(default_factory=list)  # the same state, confirmed by this snapshot
    stale: int = 0  # agents whose current row is newer than the snapshot

    @classmethod
    def of(cls, connection: Connection, states: pd.DataFrame, since: pd.Series, snapshot_at: datetime,
           account_id: str) -> _CurrentStateUpdate:
        c = wfm_agent_state_current.c
        current = {row.agent_id: row for row in connection.execute(
            sa.select(c.agent_id, c.state, c.snapshot_at).where(c.account_id == account_id))}
        update = cls()
        for agent_id, state, started in zip(states["agent_id"], states["state"], since):
            previous = current.get(agent_id)
            started = min(started.to_pydatetime(), snapshot_at)
            if previous is None:
                update.inserts.append({ACCOUNT: account_id, "agent_id": agent_id, "state": state, "since": started,
                                       "snapshot_at": snapshot_at})
            elif previous.snapshot_at > snapshot_at:
                update.stale += 1
            elif previous.state == state:
                update.touches.append({"key": agent_id, "at": snapshot_at})
            else:
                update.changes.append({"key": agent_id, "new_state": state, "new_since": started, "at": snapshot_at})
        return update

    def apply(self, connection: Connection, account_id: str) -> None:
        current = wfm_agent_state_current
        if self.inserts:
            connection.execute(current.insert(), self.inserts)
        at = sa.bindparam("at", type_=UtcDateTime())
        agent_match = sa.and_(current.c.account_id == account_id, current.c.agent_id == sa.bindparam("key"))
        if self.touches:
            connection.execute(current.update().where(agent_match).values(snapshot_at=at), self.touches)
        if self.changes:
            connection.execute(
                current.update().where(agent_match)
                .values(state=sa.bindparam("new_state"),
                        since=sa.bindparam("new_since", type_=UtcDateTime()), snapshot_at=at),
                self.changes,
            )


def append_agent_state_snapshot(engine: Engine, frame: pd.DataFrame, *, snapshot_at: datetime, account_id: str,
                                stale_after: int = 3) -> SnapshotResult:
    """Append one snapshot (agent_id, state[, since]) of an account and move its `wfm_agent_state_current`
    forward.

    An agent whose state is unchanged keeps its `since`; a new or changed one gets the frame's
    `since` where given (e.g. Talkdesk's status start), else `snapshot_at`. Writing the same
    snapshot again replaces it. An agent none of the account's last `stale_after` collections saw is
    marked `stale` (and leaves the `community_realtime` view); seen again, it is current again. Other
    accounts' states and collections play no part.
    """
    account_id = check_account_id(account_id)
    snapshot_at = to_utc(snapshot_at, what="snapshot_at")
    states, since = _snapshot_states(frame, snapshot_at, account_id)
    table = wfm_agent_state_snapshot
    with write_connection(engine) as connection, connection.begin():
        lock_writers(connection, wfm_agent_state_current, {ACCOUNT: account_id})
        connection.execute(table.delete().where(table.c.account_id == account_id, table.c.snapshot_at == snapshot_at))
        bulk_insert(connection, table, states[[ACCOUNT, "agent_id", "snapshot_at", "state"]])
        update = _CurrentStateUpdate.of(connection, states, since, snapshot_at, account_id)
        update.apply(connection, account_id)
        unconfirmed = _mark_stale(connection, stale_after, account_id)
    return SnapshotResult(appended=len(states), new_agents=len(update.inserts), changed=len(update.changes),
                          unchanged=len(update.touches), stale=update.stale, unconfirmed=unconfirmed)


def _mark_stale(connection: Connection, stale_after: int, account_id: str) -> int:
    """Mark stale every current state of the account older than its `stale_after`-th newest collection (another
    account collects on its own clock); returns how many of the account's states are stale."""
    snapshot = wfm_agent_state_snapshot.c
    oldest_confirming = connection.execute(
        sa.select(snapshot.snapshot_at).distinct().where(snapshot.account_id == account_id)
        .order_by(snapshot.snapshot_at.desc()).offset(stale_after - 1).limit(1)).scalar()
    c = wfm_agent_state_current.c
    in_account = c.account_id == account_id
    if oldest_confirming is None:  # fewer collections than that so far
        connection.execute(wfm_agent_state_current.update().where(in_account, c.stale).values(stale=False))
        return 0
    is_stale = c.snapshot_at < oldest_confirming
    connection.execute(wfm_agent_state_current.update().where(in_account, is_stale != c.stale).values(stale=is_stale))
    return connection.execute(sa.select(sa.func.count()).select_from(wfm_agent_state_current)
                              .where(in_account, c.stale)).scalar_one()
