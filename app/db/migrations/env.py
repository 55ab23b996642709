"""Alembic environment: migrations run against the connection Deflect hands in (see app.db.engine.migrate)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from app.db import models  # noqa: F401 - registers the tables on SQLModel.metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through `deflect migrate` (app.db.engine.migrate), which supplies the connection"
    )
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
