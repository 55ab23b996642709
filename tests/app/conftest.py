from collections.abc import Iterator

import pytest
from sqlmodel import Session

from app.db import create_tables, make_engine


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session on a fresh, migrated database (SQLite, and PostgreSQL when configured)."""
    engine = make_engine(database_url)
    create_tables(engine)
    with Session(engine) as db:
        yield db
    engine.dispose()
