"""Fixtures of the raw store tests: a migrated database on each backend and a store in the test's directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema
from wfm_pipelines.raw_store import RawStore


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    engine = create_wfm_engine(database_url)
    ensure_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def store(tmp_path) -> RawStore:
    return RawStore(tmp_path / "raw")
