"""Storage: the engine, the tables and the alembic migrations."""
