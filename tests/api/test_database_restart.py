"""A PostgreSQL restart, as the service sees it: every pooled connection is cut under it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, func, select

from app.db.models import Event, SuggestionSet

# What a restart does to clients: the server ends every backend. (The outage in between is the
# database-down case of test_safety; bench/load.py restarts the real server mid-run.)
TERMINATE_OTHER_BACKENDS = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_suggest_and_events_carry_on_after_every_connection_is_cut(client: TestClient, engine: Engine) -> None:
    before = client.post("/v1/suggest", json={"text": "パスワードを忘れた"}).json()
    assert before["recorded"] is True

    with engine.connect() as admin:
        assert admin.execute(text(TERMINATE_OTHER_BACKENDS)).scalar_one() >= 1  # the service's pooled connection

    after = client.post("/v1/suggest", json={"text": "パスワードを忘れた"}).json()
    assert after["recorded"] is True  # a dead pooled connection is noticed and replaced, not reported as an error
    for answer in [before, after]:
        event = {"query_id": answer["query_id"], "client_id": "c", "action": "solved"}
        assert client.post("/v1/events", json=event).status_code == 200
    assert client.get("/readyz").status_code == 200
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(SuggestionSet)).one() == 2
        assert session.exec(select(func.count()).select_from(Event)).one() == 2
