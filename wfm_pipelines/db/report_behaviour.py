"""What each account's Explore reports were seen to filter a window on, remembered in the WFM database.

Talkdesk does not document it (`../shared/talkdesk/API-NOTES.md` 5.7: "Exact mapping for Explore:
unconfirmed"). The collector learns it from the records a report returns;
remembering it means a quiet window (a night, a weekend, a new account), which shows no evidence, does not
fetch a month of earlier records on every tick.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import write_connection
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, check_account_id, talkdesk_report_behaviour as behaviour
from wfm_pipelines.db.types import to_utc
from wfm_pipelines.db.writer import lock_writers


def _of(account_id: str, report_type: str) -> sa.ColumnElement[bool]:
    return sa.and_(behaviour.c.account_id == check_account_id(account_id), behaviour.c.report_type == report_type)


def remembered_window_field(engine: Engine, report_type: str, *, account_id: str = DEFAULT_ACCOUNT_ID) -> str | None:
    """`end`, `start`, or None when the account's reports of this type were never seen to show it."""
    with engine.connect() as connection:
        return connection.execute(sa.select(behaviour.c.window_field).where(_of(account_id, report_type))).scalar()


def remember_window_field(engine: Engine, report_type: str, window_field: str, evidence: str,
                          observed_at: datetime, *, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
    """Remember what the account's reports of this type filter a window on (another account may differ)."""
    if window_field not in ("end", "start"):
        raise ValueError(f"window_field must be 'end' or 'start', not {window_field!r}")
    values = {"window_field": window_field, "evidence": evidence, "observed_at": to_utc(observed_at)}
    with write_connection(engine) as connection, connection.begin():
        lock_writers(connection, behaviour, {"account_id": check_account_id(account_id)})
        updated = connection.execute(behaviour.update().where(_of(account_id, report_type)).values(**values)).rowcount
        if not updated:
            connection.execute(behaviour.insert().values(account_id=account_id, report_type=report_type, **values))
