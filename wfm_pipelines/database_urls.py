"""What a WFM database URL may be (SQLite, or PostgreSQL through psycopg 3) and how one is shown: a leaf module, so
the settings check a URL exactly as `db.engine` opens it without loading the database layer."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import URL


def normalise_url(url: str | URL) -> URL:
    """Parse a WFM database URL; bare `postgresql://` means psycopg 3."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername != "postgresql+psycopg":
        raise ValueError(
            f"WFM database URL uses driver {parsed.drivername!r}; use postgresql+psycopg:// (psycopg 3)"
        )
    if backend not in ("postgresql", "sqlite"):
        raise ValueError(f"unsupported WFM database backend {backend!r}: use sqlite:/// or postgresql+psycopg://")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for logs and messages."""
    return sa.make_url(url).render_as_string(hide_password=True)
