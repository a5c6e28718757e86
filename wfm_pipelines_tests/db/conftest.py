"""Fixtures of the database tests: a migrated engine on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    engine = create_wfm_engine(database_url)
    ensure_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()

