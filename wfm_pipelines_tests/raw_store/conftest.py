"""Fixtures of the raw store tests: a store in the test's directory (the migrated `engine` is the suite's)."""

from __future__ import annotations

import pytest

from wfm_pipelines.raw_store import RawStore


@pytest.fixture
def store(tmp_path) -> RawStore:
    return RawStore(tmp_path / "raw")
