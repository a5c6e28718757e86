"""UtcDateTime: aware UTC in, aware UTC out, naive refused, SQLite text ordered like time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from wfm_pipelines.db.schema import wfm_agent_state_current as current
from wfm_pipelines.db.types import NaiveDatetimeError


def test_offsets_are_stored_as_utc_and_come_back_aware(engine):
    plus_two = timezone(timedelta(hours=2))
    with engine.begin() as connection:
        connection.execute(current.insert(), [
            {"account_id": "default", "agent_id": "a", "state": "x",
             "since": datetime(2025, 3, 1, 14, 0, tzinfo=plus_two),
             "snapshot_at": datetime(2025, 3, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)},
        ])
    with engine.connect() as connection:
        row = connection.execute(sa.select(current)).one()
    assert row.since == datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert row.since.utcoffset() == timedelta(0)
    assert row.snapshot_at.microsecond == 250000


def test_naive_datetimes_are_refused(engine):
    with pytest.raises(sa.exc.StatementError) as caught, engine.begin() as connection:
        connection.execute(current.insert(), [{"account_id": "default", "agent_id": "a", "state": "x",
                                               "since": datetime(2025, 3, 1),
                                               "snapshot_at": datetime(2025, 3, 1, tzinfo=timezone.utc)}])
    assert isinstance(caught.value.orig, NaiveDatetimeError)
    assert "no timezone" in str(caught.value)


def test_range_queries_compare_instants(engine):
    base = datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    moments = [base - timedelta(days=400), base - timedelta(microseconds=1), base, base + timedelta(microseconds=1),
               datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))]  # == 2026-01-01 00:00 UTC
    with engine.begin() as connection:
        connection.execute(current.insert(), [
            {"account_id": "default", "agent_id": f"a{i}", "state": "x", "since": m, "snapshot_at": m}
            for i, m in enumerate(moments)
        ])
    with engine.connect() as connection:
        later = connection.execute(sa.select(current.c.agent_id).where(current.c.since >= base)
                                   .order_by(current.c.since)).scalars().all()
        ordered = connection.execute(sa.select(current.c.agent_id).order_by(current.c.since)).scalars().all()
    assert later == ["a2", "a3", "a4"]
    assert ordered == ["a0", "a1", "a2", "a3", "a4"]
