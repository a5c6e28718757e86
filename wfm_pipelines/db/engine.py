"""Engines for SQLite and PostgreSQL, and the schema upgrade (Alembic, configured in code)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Engine

from wfm_pipelines.database_urls import normalise_url, safe_url  # noqa: F401 - safe_url re-exported

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_S = 30
# Connection execution option read by the SQLite "begin" hook: writers take the write lock at BEGIN,
# so that two writers queue on the busy timeout instead of failing on a stale WAL snapshot.
SQLITE_BEGIN_OPTION = "wfm_sqlite_begin"
# Key of the PostgreSQL advisory lock held while migrating ("WFMDB" in ASCII).
MIGRATION_LOCK_KEY = 0x57464D4442

_at_head: set[str] = set()
_at_head_lock = threading.Lock()
_engines: dict[tuple[str, "DatabaseTimeouts"], Engine] = {}
_engines_lock = threading.Lock()


@dataclass(frozen=True)
class DatabaseTimeouts:
    """Nothing waits on the database forever: a connection, one statement (PostgreSQL: `statement_timeout`,
    which also bounds waiting for another writer's lock) and SQLite's wait for the write lock."""

    connect_s: int = 10
    statement_s: int = 900
    sqlite_busy_s: int = SQLITE_BUSY_TIMEOUT_S


def create_wfm_engine(url: str | URL, timeouts: DatabaseTimeouts = DatabaseTimeouts()) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed, timeouts)
    # hide_parameters: a database error must not carry the rows it was writing (agents' names and e-mails)
    # into Dagster's event log.
    return sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True, connect_args={
        "connect_timeout": timeouts.connect_s,
        # A session left idle inside a transaction (a killed worker's) must not hold its locks for ever.
        "options": f"-c statement_timeout={timeouts.statement_s * 1000} "
                   f"-c idle_in_transaction_session_timeout={timeouts.statement_s * 1000}",
    })


def _create_sqlite_engine(url: URL, timeouts: DatabaseTimeouts) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, hide_parameters=True, connect_args={"timeout": timeouts.sqlite_busy_s})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling is switched off so that SQLAlchemy's BEGIN is the only one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={timeouts.sqlite_busy_s * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def write_connection(engine: Engine) -> sa.Connection:
    """A connection whose next transaction is a write transaction (SQLite: BEGIN IMMEDIATE)."""
    connection = engine.connect()
    if engine.dialect.name == "sqlite":
        connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    return connection


def alembic_config(connection: sa.Connection | None = None, *, raw_store_root: str | None = None) -> Config:
    """Alembic configuration built in code: no alembic.ini is needed at run time. `raw_store_root` is where a
    migration that moves raw entries finds the raw store (None: WFM_RAW_STORE from the environment)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["raw_store_root"] = raw_store_root
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migration"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine, *, raw_store_root: str | None = None) -> None:
    """Alembic `upgrade head`, safe when several processes do it at once."""
    head = head_revision()
    if current_revision(engine) == head:
        return
    with write_connection(engine) as connection:
        with connection.begin():
            if engine.dialect.name == "postgresql":
                # Held to the end of this transaction; a second migrator waits, then finds head.
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection, raw_store_root=raw_store_root), "head")


def ensure_schema(engine: Engine) -> None:
    """Upgrade to head once per database URL and process; later calls return at once."""
    key = engine.url.render_as_string(hide_password=False)
    if key in _at_head:
        return
    with _at_head_lock:
        if key in _at_head:
            return
        upgrade_to_head(engine)
        _at_head.add(key)


def get_engine(url: str | URL, timeouts: DatabaseTimeouts = DatabaseTimeouts()) -> Engine:
    """The process-wide engine for `url` (and timeouts), with the schema at head."""
    key = normalise_url(url).render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get((key, timeouts))
        if engine is None:
            engine = create_wfm_engine(key, timeouts)
            _engines[(key, timeouts)] = engine
    ensure_schema(engine)
    return engine
