"""Idempotent writes of pandas frames into the WFM tables, and reads back.

Every writer validates the whole frame first (`validation.py`), then changes the database in one
transaction: a failure at any point leaves the rows that were there before.

Every write and read is one account's (`account_id`, keyword, `DEFAULT_ACCOUNT_ID` where not given: the one
account of a deployment without an accounts file). A frame need not carry `account_id`: the writer fills it in
(and refuses a frame whose rows name another account); a read returns the columns a writer takes, without
`account_id`, since every row it returns is that account's. Writers of different accounts never wait for
each other.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from wfm_pipelines.db.schema import (
    DEFAULT_ACCOUNT_ID,
    HISTORY_COLUMNS,
    check_account_id,
    table_named,
    wfm_agent_state_current,
    wfm_agent_state_snapshot,
)
from wfm_pipelines.db.bulk import bulk_insert
from wfm_pipelines.db.engine import write_connection
from wfm_pipelines.db.windows import account_scope, window_condition
from wfm_pipelines.db.types import UtcDateTime, to_utc
from wfm_pipelines.db.validation import (
    UTC_DTYPE,
    FrameValidationError,
    check_time_window,
    coerce_column,
    check_unique_keys,
    prepare_frame,
)

ACCOUNT = "account_id"


@dataclass(frozen=True)
class WriteResult:
    deleted: int
    inserted: int


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    deactivated: int
    reactivated: int


@dataclass(frozen=True)
class SnapshotResult:
    appended: int  # snapshot rows written
    new_agents: int  # agents seen for the first time
    changed: int  # agents whose state changed (a new `since`)
    unchanged: int  # agents whose state and `since` stay
    stale: int  # agents whose current row is newer than this snapshot (left as they were)
    unconfirmed: int = 0  # agents none of the last N collections saw: their current state is marked stale


# --- replace a time window -------------------------------------------------------------------------

# Called inside the write transaction, after the writers' lock and before anything is deleted:
# (connection, table, the window's WHERE condition, the prepared new rows). Raises to refuse the write.
WindowGuard = Callable[[Connection, sa.Table, sa.ColumnElement[bool], pd.DataFrame], None]


def replace_window(
    engine: Engine,
    table: sa.Table | str,
    frame: pd.DataFrame,
    *,
    window_start: datetime,
    window_end: datetime,
    time_column: str,
    scope: Mapping[str, object] | None = None,
    guard: WindowGuard | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    _after_delete: Callable[[Connection], None] | None = None,
) -> WriteResult:
    """Make the account's rows of `table` in [window_start, window_end) (and `scope`) exactly `frame`.

    Writers of one table, account and scope take turns (`lock_writers`), so two runs over overlapping windows
    never fail on a duplicate key and the last to finish leaves a complete set; other accounts' writers do not
    wait. `guard` may refuse the write after seeing what the account has stored (e.g. a shrink guard); nothing
    changes then. `_after_delete` is a test hook called between the delete and the insert.
    """
    table = table_named(table)
    scope = account_scope(scope, account_id)
    prepared = prepare_frame(table, frame, fixed_values=scope)
    check_time_window(table, prepared, time_column, window_start, window_end)
    key = [c.name for c in table.primary_key.columns if c.name != ACCOUNT]  # every row has the scope's account
    if all(name in prepared.columns for name in key):
        check_unique_keys(table, prepared, key)
    condition = window_condition(table, time_column, window_start, window_end, scope)
    with write_connection(engine) as connection, connection.begin():
        lock_writers(connection, table, scope)
        if guard is not None:
            guard(connection, table, condition, prepared)
        deleted = connection.execute(table.delete().where(condition)).rowcount
        if _after_delete is not None:
            _after_delete(connection)
        bulk_insert(connection, table, prepared)
    return WriteResult(deleted=deleted, inserted=len(prepared))


def lock_writers(connection: Connection, table: sa.Table, scope: Mapping[str, object] | None = None) -> None:
    """Make writers of one table and scope (which names the account) take turns until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed on the table and scope (windows of different runs
    overlap, so the key is not the window; two accounts' keys differ, so their writers never wait for each
    other). SQLite: the write transaction began IMMEDIATE and already holds the database's only write lock."""
    if connection.dialect.name != "postgresql":
        return
    name = table.name + "".join(f"|{column}={value}" for column, value in sorted((scope or {}).items()))
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def python_values(series: pd.Series) -> list:
    """A prepared column as plain Python values: None for NULL, aware datetimes, int, float, str, bool."""
    if str(series.dtype) == UTC_DTYPE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas 2.x announces a Series return type
            values = np.asarray(series.dt.to_pydatetime(), dtype=object)
        values[series.isna().to_numpy()] = None
        return values.tolist()
    return series.to_numpy(dtype=object, na_value=None).tolist()


# --- configuration with history ------------------------------------------------------------------


def _records(prepared: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (None for NULL, aware datetimes)."""
    columns = {name: python_values(prepared[name]) for name in prepared.columns}
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def upsert_configuration(
    engine: Engine,
    table: sa.Table | str,
    frame: pd.DataFrame,
    *,
    key_columns: list[str],
    seen_at: datetime,
    deactivate_missing: bool = True,
    deactivation_guard: Callable[[int, int], None] | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> UpsertResult:
    """Insert new keys, update and re-activate present ones, deactivate absent ones; never delete.

    All within one account: its keys are matched, and only its absent keys deactivated (`key_columns` need
    not name `account_id`). Where the table has `active`, a present key is active unless the frame's optional
    `active` column (the source's own flag) says false; a key absent from the frame becomes inactive.
    `deactivation_guard(active keys the account has stored, of them still listed)` may refuse the import (it
    raises) before anything changes, e.g. when a listing suddenly holds nobody.
    """
    table = table_named(table)
    account_id = check_account_id(account_id)
    seen_at = to_utc(seen_at, what="seen_at")
    key_columns = [name for name in key_columns if name != ACCOUNT]  # the account is every key's first part
    if not key_columns:
        raise FrameValidationError(table, None, "key_columns is empty")
    for name in key_columns:
        if name not in table.c:
            raise FrameValidationError(table, name, "key column is not a column of the table")
    has_active = "active" in table.c
    # `active` may come in the frame (the source's own flag; NULL means active); the seen columns may not.
    managed = [name for name in HISTORY_COLUMNS if name in table.c and name != "active"]
    prepared = prepare_frame(table, frame, managed_columns=managed, optional_columns=["active"] if has_active else [],
                             fixed_values={ACCOUNT: account_id})
    for name in key_columns:
        if name not in prepared.columns:
            raise FrameValidationError(table, name, "key column missing from the frame")
        nulls = prepared[name][prepared[name].isna()]
        if not nulls.empty:
            raise FrameValidationError(table, name, f"NULL key in row {nulls.index[0]!r}")
    check_unique_keys(table, prepared, key_columns)

    rows = _records(prepared)
    attributes = [name for name in prepared.columns if name not in key_columns and name not in ("active", ACCOUNT)]
    key_of = lambda row: tuple(row[name] for name in key_columns)  # noqa: E731
    keys = [table.c[name] for name in key_columns]
    in_account = table.c[ACCOUNT] == account_id
    key_match = sa.and_(in_account, *(table.c[name] == sa.bindparam(f"key_{name}") for name in key_columns))
    with write_connection(engine) as connection, connection.begin():
        lock_writers(connection, table, {ACCOUNT: account_id})
        selected = keys + ([table.c.active] if has_active else [])
        existing = {tuple(r[: len(keys)]): (r[-1] if has_active else True)
                    for r in connection.execute(sa.select(*selected).where(in_account))}

        if deactivation_guard is not None and has_active and deactivate_missing:
            listed = {key_of(row) for row in rows}
            active_keys = [key for key, active in existing.items() if active]
            deactivation_guard(len(active_keys), sum(1 for key in active_keys if key in listed))
        new_rows = [row for row in rows if key_of(row) not in existing]
        present_rows = [row for row in rows if key_of(row) in existing]
        if has_active:
            for row in rows:
                row["active"] = True if row.get("active") is None else bool(row["active"])
        history = {"first_seen_at": seen_at, "last_seen_at": seen_at}
        if new_rows:
            connection.execute(table.insert(), [row | history for row in new_rows])
        if present_rows:
            values = {name: sa.bindparam(f"value_{name}") for name in attributes}
            values["last_seen_at"] = sa.bindparam("value_last_seen_at", type_=UtcDateTime())
            if has_active:
                values["active"] = sa.bindparam("value_active", type_=sa.Boolean())
            connection.execute(
                table.update().where(key_match).values(values),
                [
                    {f"key_{n}": row[n] for n in key_columns}
                    | {f"value_{n}": row[n] for n in attributes}
                    | {"value_last_seen_at": seen_at}
                    | ({"value_active": row["active"]} if has_active else {})
                    for row in present_rows
                ],
            )
        reactivated = sum(1 for row in present_rows if has_active and row["active"] and not existing[key_of(row)])
        deactivated = 0
        if has_active and deactivate_missing:
            seen = {key_of(row) for row in rows}
            vanished = [key for key, active in existing.items() if active and key not in seen]
            if vanished:
                connection.execute(
                    table.update().where(key_match).values(active=False),
                    [{f"key_{n}": value for n, value in zip(key_columns, key)} for key in vanished],
                )
            deactivated = len(vanished)
    return UpsertResult(inserted=len(new_rows), updated=len(present_rows), deactivated=deactivated, reactivated=reactivated)


# --- agent state snapshots -------------------------------------------------------------------------


def append_agent_state_snapshot(engine: Engine, frame: pd.DataFrame, *, snapshot_at: datetime,
                                stale_after: int = 3, account_id: str = DEFAULT_ACCOUNT_ID) -> SnapshotResult:
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
    since = since.fillna(pd.Timestamp(snapshot_at))

    c = wfm_agent_state_current.c
    with write_connection(engine) as connection, connection.begin():
        lock_writers(connection, wfm_agent_state_current, {ACCOUNT: account_id})
        connection.execute(table.delete().where(table.c.account_id == account_id, table.c.snapshot_at == snapshot_at))
        bulk_insert(connection, table, states[[ACCOUNT, "agent_id", "snapshot_at", "state"]])
        current = {
            row.agent_id: row
            for row in connection.execute(
                sa.select(c.agent_id, c.state, c.snapshot_at).where(c.account_id == account_id))
        }
        inserts, changes, touches = [], [], []
        stale = 0
        for agent_id, state, started in zip(states["agent_id"], states["state"], since):
            previous = current.get(agent_id)
            started = min(started.to_pydatetime(), snapshot_at)
            if previous is None:
                inserts.append({ACCOUNT: account_id, "agent_id": agent_id, "state": state, "since": started,
                                "snapshot_at": snapshot_at})
            elif previous.snapshot_at > snapshot_at:
                stale += 1
            elif previous.state == state:
                touches.append({"key": agent_id, "at": snapshot_at})
            else:
                changes.append({"key": agent_id, "new_state": state, "new_since": started, "at": snapshot_at})
        if inserts:
            connection.execute(wfm_agent_state_current.insert(), inserts)
        at = sa.bindparam("at", type_=UtcDateTime())
        agent_match = sa.and_(c.account_id == account_id, c.agent_id == sa.bindparam("key"))
        if touches:
            connection.execute(
                wfm_agent_state_current.update().where(agent_match).values(snapshot_at=at),
                touches,
            )
        if changes:
            connection.execute(
                wfm_agent_state_current.update()
                .where(agent_match)
                .values(state=sa.bindparam("new_state"),
                        since=sa.bindparam("new_since", type_=UtcDateTime()), snapshot_at=at),
                changes,
            )
        unconfirmed = _mark_stale(connection, stale_after, account_id)
    return SnapshotResult(appended=len(states), new_agents=len(inserts), changed=len(changes),
                          unchanged=len(touches), stale=stale, unconfirmed=unconfirmed)


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


# --- reads --------------------------------------------------------------------------------------------


def _frame_from_rows(table: sa.Table, columns: list[str], rows: list) -> pd.DataFrame:
    data = {}
    for position, name in enumerate(columns):
        values = [row[position] for row in rows]
        column_type = table.c[name].type
        if isinstance(column_type, UtcDateTime):
            series = pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype(UTC_DTYPE)
        elif isinstance(column_type, sa.Boolean):
            series = pd.Series(values, dtype="boolean" if None in values else bool)
        elif isinstance(column_type, sa.Integer):
            series = pd.Series(values, dtype="Int64" if None in values else "int64")
        elif isinstance(column_type, sa.Float):
            series = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
        else:
            series = pd.Series(values, dtype=object)
        data[name] = series
    return pd.DataFrame(data, columns=columns)


def read_window(
    engine: Engine,
    table: sa.Table | str,
    *,
    window_start: datetime,
    window_end: datetime,
    time_column: str,
    scope: Mapping[str, object] | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> pd.DataFrame:
    """The account's rows with window_start <= time_column < window_end (and `scope`), ordered by key, without
    the `account_id` column."""
    table = table_named(table)
    columns = _read_columns(table)
    query = (
        sa.select(*columns)
        .where(window_condition(table, time_column, window_start, window_end, account_scope(scope, account_id)))
        .order_by(*table.primary_key.columns)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return _frame_from_rows(table, [c.name for c in columns], rows)


def read_table(engine: Engine, table: sa.Table | str, *, account_id: str = DEFAULT_ACCOUNT_ID) -> pd.DataFrame:
    """Every row of the account in `table`, ordered by key, without the `account_id` column."""
    table = table_named(table)
    columns = _read_columns(table)
    query = sa.select(*columns).where(table.c[ACCOUNT] == check_account_id(account_id))
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(*table.primary_key.columns)).all()
    return _frame_from_rows(table, [c.name for c in columns], rows)


def _read_columns(table: sa.Table) -> list[sa.Column]:
    """The columns a read returns: those a writer takes, the account apart (the reader named it)."""
    return [column for column in table.columns if column.name != ACCOUNT]
