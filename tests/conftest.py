from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from app.api.main import create_app
from app.db.engine import create_tables, make_engine, reset_schema
from app.settings import Settings
from indexer.analysis import Analyzer
from indexer.build import build_index
from tests.factories import small_help_center
from tests.fakes import HashingEmbedder

POSTGRES_URL = os.environ.get("DEFLECT_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("DEFLECT_TEST_REDIS_URL")
# Storage tests run on SQLite, and on PostgreSQL too when DEFLECT_TEST_DATABASE_URL is set.
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer()


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    return small_help_center(tmp_path / "content")


@pytest.fixture
def index_dir(tmp_path: Path, content_dir: Path, embedder: HashingEmbedder, analyzer: Analyzer) -> Path:
    directory = tmp_path / "index"
    build_index(content_dir=content_dir, index_dir=directory, embedder=embedder, analyzer=analyzer)
    return directory


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the current schema, migrated once a session: each test's database is a copy of it."""
    path = tmp_path_factory.mktemp("schema") / "deflect.db"
    engine = make_engine(f"sqlite:///{path}")
    create_tables(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file, so the file is the database
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """DEFLECT_TEST_DATABASE_URL, its Deflect tables dropped once a session (a run stopped halfway leaves them)."""
    if not POSTGRES_URL:
        pytest.skip("DEFLECT_TEST_DATABASE_URL is not set")
    _drop_tables(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database at the current schema: SQLite always, PostgreSQL too when DEFLECT_TEST_DATABASE_URL is set.

    SQLite: a copy of the session's migrated file. PostgreSQL: the one test database, migrated when it is not
    (first, or after a test of migrations), its rows deleted.
    """
    if request.param == "sqlite":
        path = tmp_path / "deflect.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    create_tables(engine)
    tables = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database without tables, for tests of migrations: SQLite always, PostgreSQL too when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'deflect.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    _drop_tables(url)
    yield url
    _drop_tables(url)  # a migration test may leave a schema half-way: the next test migrates afresh


def _drop_tables(url: str) -> None:
    engine = make_engine(url)
    reset_schema(engine)
    engine.dispose()


@pytest.fixture
def redis_url() -> str:
    """The shared rate-limit store: DEFLECT_TEST_REDIS_URL (CI sets it; then an unreachable Redis fails the test)."""
    url = REDIS_URL or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if REDIS_URL:
            raise
        pytest.skip("no Redis at 127.0.0.1:6379 and DEFLECT_TEST_REDIS_URL is not set")
    return url


@pytest.fixture
def settings(content_dir: Path, index_dir: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url, content_dir=content_dir, index_dir=index_dir, index_poll_seconds=0, _env_file=None
    )  # type: ignore[call-arg]


@pytest.fixture
def client(settings: Settings, embedder: HashingEmbedder) -> Iterator[TestClient]:
    with TestClient(create_app(settings, embedder=embedder)) as test_client:
        yield test_client


@pytest.fixture
def engine(settings: Settings, client: TestClient) -> Iterator[Engine]:
    """The app's database, for asserting what was stored (the client fixture has created the tables)."""
    del client
    db = make_engine(settings.database_url)
    yield db
    db.dispose()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging replaces the root logger's handlers, pytest's among them: put them back afterwards."""
    root, plugins = logging.getLogger(), logging.getLogger("alembic.runtime.plugins")
    handlers, level, plugins_level = root.handlers[:], root.level, plugins.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    plugins.setLevel(plugins_level)
