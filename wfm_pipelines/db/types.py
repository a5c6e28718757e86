"""Column types shared by the schema and the migrations."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# Fixed width, so that comparing two stored strings is comparing the two instants.
SQLITE_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class NaiveDatetimeError(ValueError):
    """A datetime without a timezone reached the database: it is refused rather than guessed."""


def to_utc(value: datetime, *, what: str = "timestamp") -> datetime:
    """Return `value` in UTC; refuse naive datetimes."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a timezone-aware datetime, not {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(
            f"{what} {value!r} has no timezone; WFM timestamps are UTC and must be timezone-aware"
        )
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp: drivers want the plain class
        value = value.to_pydatetime()
    return value.astimezone(timezone.utc)


class UtcDateTime(sa.types.TypeDecorator):
    """An instant in UTC: `timestamptz` on PostgreSQL, fixed-width UTC text on SQLite.

    Both backends return timezone-aware UTC datetimes.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(26))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value, dialect: Dialect):
        if value is None:
            return None
        utc = to_utc(value)
        if dialect.name == "sqlite":
            return utc.strftime(SQLITE_TIMESTAMP_FORMAT)
        return utc

    def process_result_value(self, value, dialect: Dialect):
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.strptime(value, SQLITE_TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)
        if value.tzinfo is None:  # a driver that drops the zone: the stored value is UTC
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
