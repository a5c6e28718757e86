"""Configuration tables with history (queues, agents, memberships): one account's listing upserted, never
deleted; a key the listing no longer holds becomes inactive.

The frame is validated first (`validation.py`), then the database changes in one transaction under the
writers' lock (`window_writer.lock_writers`): a failure at any point leaves the rows that were there before."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from wfm_pipelines.db.engine import write_connection
from wfm_pipelines.db.schema import HISTORY_COLUMNS, check_account_id, table_named
from wfm_pipelines.db.types import UtcDateTime, to_utc
from wfm_pipelines.db.validation import UTC_DTYPE, FrameValidationError, check_unique_keys, prepare_frame
from wfm_pipelines.db.window_writer import lock_writers
from wfm_pipelines.db.windows import ACCOUNT

# A key's values as stored, in the order of `key_columns`.
Key = tuple


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    deactivated: int
    reactivated: int


def python_values(series: pd.Series) -> list:
    """A prepared column as plain Python values: None for NULL, aware datetimes, int, float, str, bool."""
    if str(series.dtype) == UTC_DTYPE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas 2.x announces a Series return type
            values = np.asarray(series.dt.to_pydatetime(), dtype=object)
        values[series.isna().to_numpy()] = None
        return values.tolist()
    return series.to_numpy(dtype=object, na_value=None).tolist()


def _records(prepared: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (None for NULL, aware datetimes)."""
    columns = {name: python_values(prepared[name]) for name in prepared.columns}
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def _prepared_listing(table: sa.Table, frame: pd.DataFrame, key_columns: list[str], account_id: str) -> pd.DataFrame:
    """The frame validated against the table: every key column present, never NULL, each key once."""
    if not key_columns:
        raise FrameValidationError(table, None, "key_columns is empty")
    for name in key_columns:
        if name not in table.c:
            raise FrameValidationError(table, name, "key column is not a column of the table")
    # `active` may come in the frame (the source's own flag; NULL means active); the seen columns may not.
    managed = [name for name in HISTORY_COLUMNS if name in table.c and name != "active"]
    prepared = prepare_frame(table, frame, managed_columns=managed,
                             optional_columns=["active"] if "active" in table.c else [],
                             fixed_values={ACCOUNT: account_id})
    for name in key_columns:
        if name not in prepared.columns:
            raise FrameValidationError(table, name, "key column missing from the frame")
        nulls = prepared[name][prepared[name].isna()]
        if not nulls.empty:
            raise FrameValidationError(table, name, f"NULL key in row {nulls.index[0]!r}")
    check_unique_keys(table, prepared, key_columns)
    return prepared


class _AccountListing:
    """One account's stored keys of a configuration table, and the statements that change them."""

    def __init__(self, connection: Connection, table: sa.Table, key_columns: list[str], account_id: str):
        self.connection, self.table, self.key_columns = connection, table, key_columns
        self.has_active = "active" in table.c
        in_account = table.c[ACCOUNT] == account_id
        self.key_match = sa.and_(in_account, *(table.c[name] == sa.bindparam(f"key_{name}") for name in key_columns))
        keys = [table.c[name] for name in key_columns]
        selected = keys + ([table.c.active] if self.has_active else [])
        # Stored key -> whether it is active.
        self.existing: dict[Key, bool] = {
            tuple(r[: len(keys)]): (r[-1] if self.has_active else True)
            for r in connection.execute(sa.select(*selected).where(in_account))}

    def key_of(self, row: dict) -> Key:
        return tuple(row[name] for name in self.key_columns)

    def update(self, present_rows: list[dict], attributes: list[str], seen_at: datetime) -> None:
        """Present keys take the listing's attributes, `active` flag and `last_seen_at`."""
        values = {name: sa.bindparam(f"value_{name}") for name in attributes}
        values["last_seen_at"] = sa.bindparam("value_last_seen_at", type_=UtcDateTime())
        if self.has_active:
            values["active"] = sa.bindparam("value_active", type_=sa.Boolean())
        self.connection.execute(
            self.table.update().where(self.key_match).values(values),
            [
                {f"key_{n}": row[n] for n in self.key_columns}
                | {f"value_{n}": row[n] for n in attributes}
                | {"value_last_seen_at": seen_at}
                | ({"value_active": row["active"]} if self.has_active else {})
                for row in present_rows
            ],
        )

    def deactivate_absent(self, seen: set[Key]) -> int:
        """Active stored keys the listing no longer holds become inactive; returns how many."""
        vanished = [key for key, active in self.existing.items() if active and key not in seen]
        if vanished:
            self.connection.execute(
                self.table.update().where(self.key_match).values(active=False),
                [{f"key_{n}": value for n, value in zip(self.key_columns, key)} for key in vanished],
            )
        return len(vanished)


def upsert_configuration(
    engine: Engine,
    table: sa.Table | str,
    frame: pd.DataFrame,
    *,
    key_columns: list[str],
    seen_at: datetime,
    account_id: str,
    deactivate_missing: bool = True,
    deactivation_guard: Callable[[int, int], None] | None = None,
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
    prepared = _prepared_listing(table, frame, key_columns, account_id)
    rows = _records(prepared)
    attributes = [name for name in prepared.columns if name not in key_columns and name not in ("active", ACCOUNT)]
    with write_connection(engine) as connection, connection.begin():
        lock_writers(connection, table, {ACCOUNT: account_id})
        stored = _AccountListing(connection, table, key_columns, account_id)
        listed = {stored.key_of(row) for row in rows}
        if deactivation_guard is not None and stored.has_active and deactivate_missing:
            active_keys = [key for key, active in stored.existing.items() if active]
            deactivation_guard(len(active_keys), sum(1 for key in active_keys if key in listed))
        new_rows = [row for row in rows if stored.key_of(row) not in stored.existing]
        present_rows = [row for row in rows if stored.key_of(row) in stored.existing]
        if stored.has_active:
            for row in rows:
                row["active"] = True if row.get("active") is None else bool(row["active"])
        if new_rows:
            history = {"first_seen_at": seen_at, "last_seen_at": seen_at}
            connection.execute(table.insert(), [row | history for row in new_rows])
        if present_rows:
            stored.update(present_rows, attributes, seen_at)
        reactivated = sum(1 for row in present_rows
                          if stored.has_active and row["active"] and not stored.existing[stored.key_of(row)])
        deactivated = stored.deactivate_absent(listed) if stored.has_active and deactivate_missing else 0
    return UpsertResult(inserted=len(new_rows), updated=len(present_rows), deactivated=deactivated,
                        reactivated=reactivated)
