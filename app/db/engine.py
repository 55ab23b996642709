"""The database engine: SQLite by default (WAL, for concurrent readers), PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import fcntl
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel, create_engine

from app.db import models  # noqa: F401 - registers the tables on SQLModel.metadata
from app.reports.deflection import DeflectionPolicy


def make_engine(database_url: str) -> Engine:
    """An engine for database_url, creating the SQLite file's directory when needed."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=20)


T = TypeVar("T")
# PostgreSQL aborts one of two transactions that wait on each other's row locks (deadlock_detected), or
# a serializable one that lost a race: the transaction did nothing, and running it again is correct.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def retrying_lock_conflicts(session: Session, work: Callable[[], T], *, attempts: int = 3) -> T:
    """work(), a whole transaction in `session`, run again after a rollback when the database aborted
    it for a lock conflict (two event batches of one customer, say, updating the same sets in turn)."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if attempt == attempts or getattr(exc.orig, "pgcode", None) not in RETRYABLE_SQLSTATES:
                raise
            session.rollback()
            time.sleep(random.uniform(0, 0.02 * attempt))  # apart, so the two do not collide again
    raise AssertionError("unreachable: the last attempt returns or raises")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Large sorts (the deflection report's GROUP BY over every shown article) may use helper threads.
    cursor.execute("PRAGMA threads=2")
    cursor.close()


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Any | None = None, *, policy: DeflectionPolicy | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    # Migrations that fill the deflection rollup from stored events need the configured W.
    window = (policy or DeflectionPolicy()).attribution_window
    config.attributes["attribution_window_seconds"] = window.total_seconds()
    return config


def migrate(engine: Engine, revision: str = "head", *, policy: DeflectionPolicy | None = None) -> None:
    """Bring the schema to `revision` with Alembic (idempotent; the service runs it at start-up).

    Several workers or instances start at once: one migrates, the others wait, then find it done.
    A migration that fails leaves the schema as it was, on SQLite too (see _migration_engine).
    """
    with _sqlite_file_lock(engine):
        # Most starts find the schema current: that is a read, never a wait for the write lock.
        if _at_revision(engine, revision):
            return
        with _migration_engine(engine) as migrating, migrating.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(7061626)"))
            config = alembic_config(connection, policy=policy)
            command.upgrade(config, revision)


def _at_revision(engine: Engine, revision: str) -> bool:
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    wanted = set(ScriptDirectory.from_config(alembic_config()).get_heads()) if revision == "head" else {revision}
    return current == wanted


def _sqlite_file(engine: Engine) -> str | None:
    """The file of a SQLite database; None for PostgreSQL and in-memory SQLite."""
    database = engine.url.database
    in_memory = not database or database == ":memory:" or engine.url.query.get("mode") == "memory"
    return database if engine.dialect.name == "sqlite" and not in_memory else None


@contextlib.contextmanager
def _migration_engine(engine: Engine) -> Iterator[Engine]:
    """`engine`, or for a SQLite file one whose transactions hold DDL too, with the write lock from the start.

    pysqlite runs DDL outside the transaction, so a migration failing halfway left its first
    statements applied and the revision unchanged, and every later start-up failed on them.
    """
    if _sqlite_file(engine) is None:
        yield engine
        return
    dedicated = create_engine(engine.url, poolclass=NullPool, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(dedicated, "connect", _sqlite_pragmas)
    event.listen(dedicated, "connect", _transactional_ddl)
    event.listen(dedicated, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    try:
        yield dedicated
    finally:
        dedicated.dispose()


def _transactional_ddl(connection: Any, _record: Any) -> None:
    # SQLAlchemy's recipe: pysqlite stops managing transactions, and the "begin" event opens them for all statements.
    connection.isolation_level = None


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on a file beside a SQLite database (PostgreSQL has its advisory lock)."""
    database = _sqlite_file(engine)
    if database is None:
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def reset_schema(engine: Engine) -> None:
    """Drop every Deflect table and the migration record (tests and benchmarks only)."""
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def create_tables(engine: Engine, *, policy: DeflectionPolicy | None = None) -> None:
    """The schema, by migration: the one path for SQLite and PostgreSQL alike."""
    migrate(engine, policy=policy)
