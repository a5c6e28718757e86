"""Shared fixtures: real SQLite and PostgreSQL databases (empty, or migrated as `engine`), a RabbitMQ virtual
host, and the Talkdesk emulator on a free port."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dagster_harness.rabbitmq import RabbitmqctlFailed, fresh_virtual_host, rabbitmq_admin_url
from wfm_pipelines.db.engine import create_wfm_engine, ensure_schema

# Tests build their definitions from settings objects (defs/support.py); these two defaults are for the
# code location's module-level `defs`, which importing `wfm_pipelines.definitions` builds from the process
# environment, and for the subprocesses tests start: no step retries (30 s backoff), nothing running on its own.
os.environ.setdefault("WFM_STEP_RETRIES", "0")
os.environ.setdefault("WFM_AUTOMATION", "off")

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    return os.environ.get("WFM_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)


def _postgres_unavailable_reason() -> str | None:
    url = postgres_admin_url()
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        return f"PostgreSQL at WFM_TEST_POSTGRES_URL ({sa.make_url(url).render_as_string(hide_password=True)}) does not answer: {type(exc).__name__}"


_POSTGRES_REASON: list[str | None] = []


def require_postgres() -> None:
    """Skip with a visible reason when PostgreSQL is missing; under CI=true, fail instead."""
    if not _POSTGRES_REASON:
        _POSTGRES_REASON.append(_postgres_unavailable_reason())
    reason = _POSTGRES_REASON[0]
    if reason is not None:
        _skip_or_fail(reason, "PostgreSQL")


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped afterwards."""
    require_postgres()
    admin = sa.create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"wfm_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    url = sa.make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


def _skip_or_fail(reason: str, what: str) -> None:
    """Skip with a visible reason; under CI=true, where the service must be there, fail instead."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: {what} is required)")
    pytest.skip(reason)


def require_rabbitmq() -> None:
    """Skip with a visible reason when RabbitMQ does not answer; under CI=true, fail instead."""
    from kombu import Connection

    url = rabbitmq_admin_url()
    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        _skip_or_fail(f"RabbitMQ at WFM_TEST_RABBITMQ_URL ({Connection(url).as_uri()}) does not answer: "
                      f"{type(exc).__name__}", "RabbitMQ")


@contextmanager
def fresh_rabbitmq_vhost() -> Iterator[str]:
    """`dagster_harness.rabbitmq.fresh_virtual_host`, skipped (under CI=true failed) when RabbitMQ does not answer
    or `rabbitmqctl` cannot be run."""
    require_rabbitmq()
    try:
        with fresh_virtual_host(rabbitmq_admin_url()) as broker_url:
            yield broker_url
    except RabbitmqctlFailed as exc:
        _skip_or_fail(str(exc), "rabbitmqctl")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'wfm.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """Every database test runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wfm.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    """A migrated database on each backend."""
    engine = create_wfm_engine(database_url)
    ensure_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def emulator() -> Iterator["object"]:
    """A Talkdesk emulator on a free port with a small, fast configuration; its URL is `emulator.url`."""
    from talkdesk_emulator.server import EmulatorConfig, EmulatorServer

    server = EmulatorServer(EmulatorConfig(seed=7, queues=5, agents=30, contacts_per_day=3000,
                                           report_processing_seconds=0.2))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def pytest_collection_modifyitems(config, items) -> None:
    """Test files holding a `slow` test run first, each file's tests kept together and in their order.

    `make test` hands whole files to its two workers in this order: the longest files start first and the
    many short ones fill in behind, instead of a Dagster deployment test starting last and running alone.
    (This hook sees the items of every test directory, talkdesk_emulator_tests too.)
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: the order within each group is kept
