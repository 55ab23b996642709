from collections.abc import Iterator

import pytest
from sqlmodel import Session

from app.db.engine import make_engine


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session on a fresh database at the current schema (SQLite, and PostgreSQL when configured)."""
    engine = make_engine(database_url)
    with Session(engine) as db:
        yield db
    engine.dispose()
