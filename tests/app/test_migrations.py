import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from app.db import make_engine, migrate


def test_migrations_build_exactly_the_models_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        migrate(engine)  # idempotent: a second start-up changes nothing
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
            tables = set(inspect(connection).get_table_names())
        assert differences == []
        assert {"suggestion_set", "suggested_article", "event", "alembic_version"} <= tables
    finally:
        engine.dispose()


def test_workers_starting_together_on_one_sqlite_file_migrate_once(tmp_path: Path) -> None:
    # uvicorn's workers each migrate at start-up; without a lock, the second hits "table already exists".
    url = f"sqlite:///{tmp_path / 'deflect.db'}"
    failures: list[BaseException] = []

    def start_worker() -> None:
        engine = make_engine(url)
        try:
            migrate(engine)
        except BaseException as exc:  # noqa: BLE001 - any failure of any worker fails the test
            failures.append(exc)
        finally:
            engine.dispose()

    workers = [threading.Thread(target=start_worker) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    engine = make_engine(url)
    assert "suggestion_set" in inspect(engine).get_table_names()
    engine.dispose()
