"""What each account's Explore reports were seen to filter a window on, and which file format they are asked
for, remembered in the WFM database per account and report type.

Talkdesk does not document the window field (docs/counting-rules.md#report-windows). The collector learns it from the records a report returns;
remembering it means a quiet window (a night, a weekend, a new account), which shows no evidence, does not
fetch a month of earlier records on every tick.

Nor does Talkdesk document a CSV header. Where an account's CSV header names no documented field, the collector
asks for JSON instead (WFM_REPORT_FORMAT=auto) and remembers it, so later runs ask for JSON directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import write_connection
from wfm_pipelines.db.schema import check_account_id, talkdesk_report_behaviour as behaviour
from wfm_pipelines.db.types import to_utc
from wfm_pipelines.db.window_writer import lock_writers


def _of(account_id: str, report_type: str) -> sa.ColumnElement[bool]:
    return sa.and_(behaviour.c.account_id == check_account_id(account_id), behaviour.c.report_type == report_type)


def remembered_window_field(engine: Engine, report_type: str, *, account_id: str) -> str | None:
    """`end`, `start`, or None when the account's reports of this type were never seen to show it."""
    with engine.connect() as connection:
        return connection.execute(sa.select(behaviour.c.window_field).where(_of(account_id, report_type))).scalar()


@dataclass(frozen=True)
class RememberedFormat:
    report_format: str  # "csv" or "json"
    reason: str
    observed_at: datetime


def remembered_report_format(engine: Engine, report_type: str, *,
                             account_id: str) -> RememberedFormat | None:
    """The file format the account's reports of this type are asked for, or None while nothing is remembered."""
    columns = (behaviour.c.report_format, behaviour.c.report_format_reason, behaviour.c.report_format_observed_at)
    with engine.connect() as connection:
        row = connection.execute(sa.select(*columns).where(_of(account_id, report_type))).first()
    return RememberedFormat(*row) if row is not None and row.report_format is not None else None


def remember_report_format(engine: Engine, report_type: str, report_format: str, reason: str,
                           observed_at: datetime, *, account_id: str) -> None:
    """Remember which file format the account's reports of this type are asked for (another account may differ)."""
    if report_format not in ("csv", "json"):
        raise ValueError(f"report_format must be 'csv' or 'json', not {report_format!r}")
    _upsert(engine, report_type, account_id, {"report_format": report_format, "report_format_reason": reason,
                                              "report_format_observed_at": to_utc(observed_at)})


def _upsert(engine: Engine, report_type: str, account_id: str, values: dict) -> None:
    with write_connection(engine) as connection, connection.begin():
        lock_writers(connection, behaviour, {"account_id": check_account_id(account_id)})
        updated = connection.execute(behaviour.update().where(_of(account_id, report_type)).values(**values)).rowcount
        if not updated:
            connection.execute(behaviour.insert().values(account_id=account_id, report_type=report_type, **values))


def remember_window_field(engine: Engine, report_type: str, window_field: str, evidence: str,
                          observed_at: datetime, *, account_id: str) -> None:
    """Remember what the account's reports of this type filter a window on (another account may differ)."""
    if window_field not in ("end", "start"):
        raise ValueError(f"window_field must be 'end' or 'start', not {window_field!r}")
    _upsert(engine, report_type, account_id,
            {"window_field": window_field, "evidence": evidence, "observed_at": to_utc(observed_at)})
