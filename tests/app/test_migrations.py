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
