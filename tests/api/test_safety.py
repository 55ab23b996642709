"""Public-endpoint safety: body limits, CORS, database outages, retention, metrics, privacy."""

from __future__ import annotations

import random
import re
import time
import unicodedata

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from app.api.main import create_app
from app.db.engine import make_engine
from app.db.models import SuggestionSet
from app.privacy import pseudonymous_client_id
from app.retention import purge_expired_questions
from app.settings import Settings
from tests.fakes import HashingEmbedder


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post(
        "/v1/suggest", content=b'{"text": "' + b"a" * 1_000_000 + b'"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"


def test_cors_answers_only_allowed_origins(settings: Settings) -> None:
    allowed = settings.model_copy(update={"allowed_origins": ["https://help.example.com"]})
    with TestClient(create_app(allowed, embedder=HashingEmbedder())) as client:
        ok = client.options(
            "/v1/suggest", headers={"Origin": "https://help.example.com", "Access-Control-Request-Method": "POST"}
        )
        assert ok.headers.get("access-control-allow-origin") == "https://help.example.com"
        other = client.options(
            "/v1/suggest", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in other.headers


def test_when_the_database_is_down_suggest_still_answers_and_events_get_503(settings: Settings) -> None:
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        # Nothing listens on port 1: every connection is refused, as when the database is down.
        client.app_state["engine"] = make_engine("postgresql+psycopg2://deflect@127.0.0.1:1/deflect")
        answered = client.post("/v1/suggest", json={"text": "パスワードを忘れた場合の再設定方法"})
        assert answered.status_code == 200
        assert answered.json()["results"] and answered.json()["recorded"] is False
        refused = client.post(
            "/v1/events", json={"query_id": answered.json()["query_id"], "client_id": "c", "action": "solved"}
        )
        assert refused.status_code == 503
        assert refused.json()["error"] == "database_unavailable"
        assert client.get("/readyz").status_code == 503


def test_retention_purges_question_text_but_keeps_the_set(client: TestClient, engine: Engine) -> None:
    query_id = client.post("/v1/suggest", json={"text": "パスワードを忘れた"}).json()["query_id"]
    with Session(engine) as session:
        assert purge_expired_questions(session, retention_days=90) == 0
        assert purge_expired_questions(session, retention_days=90, now=time.time() + 91 * 86400) == 1
        stored = session.get(SuggestionSet, query_id)
        assert stored is not None and stored.text is None and stored.vector is None and stored.label


def test_metrics_expose_requests_suggestions_and_the_index(client: TestClient) -> None:
    client.post("/v1/suggest", json={"text": "パスワードを忘れた", "channel": "form"})
    body = client.get("/metrics").text
    assert 'deflect_http_requests_total{method="POST",route="/v1/suggest",status="200"}' in body
    assert 'deflect_suggestions_total{channel="form"' in body
    assert "deflect_index_build_info{" in body and "deflect_index_age_seconds" in body


def _pii_samples(n: int) -> list[tuple[str, str]]:
    """(text, the secret part) pairs: emails, phones, postal codes, My Number, cards, in varied shapes."""
    rng = random.Random(42)
    samples = []
    for i in range(n):
        kind = i % 8
        if kind == 0:
            secret = f"user{rng.randint(100, 999)}.{rng.choice(['tanaka', 'smith'])}@example{rng.randint(1, 9)}.co.jp"
        elif kind == 1:
            # Hyphens as typed: ASCII, a Mac's full-width (U+2212), kana mode's ー, full-width, or spaces.
            dash = rng.choice(["-", "\u2212", "ー", "－", " "])
            secret = f"0{rng.choice(['90', '80', '70'])}{dash}{rng.randint(1000, 9999)}{dash}{rng.randint(1000, 9999)}"
        elif kind == 2:
            secret = f"0{rng.randint(3, 6)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        elif kind == 3:
            digits = f"090{rng.randint(10000000, 99999999)}"
            secret = digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        elif kind == 4:
            secret = f"+81 {rng.randint(70, 90)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
        elif kind == 5:
            dash = rng.choice(["-", "\u2212", ""])
            secret = f"〒{rng.randint(100, 999)}{dash}{rng.randint(1000, 9999)}"
        elif kind == 6:
            secret = " ".join(f"{rng.randint(1000, 9999)}" for _ in range(3))  # My Number
        else:
            secret = rng.choice(["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "4012888888881881"])
        template = rng.choice(
            ["連絡先は{}です。パスワードを忘れました", "my contact {} - cannot log in", "{} 有給休暇について"]
        )
        samples.append((template.format(secret), secret))
    return samples


@pytest.mark.slow
def test_two_hundred_pii_strings_never_reach_the_database(settings: Settings, engine: Engine) -> None:
    samples = _pii_samples(200)
    generous = settings.model_copy(update={"rate_limit_per_minute": 1000})
    with TestClient(create_app(generous, embedder=HashingEmbedder())) as client:
        for sample, _ in samples:
            assert client.post("/v1/suggest", json={"text": sample, "client_id": "pii-test"}).status_code == 200
    with engine.connect() as connection:
        dump = " ".join(
            str(row)
            for table in ("suggestion_set", "suggested_article")
            for row in connection.execute(text(f"SELECT * FROM {table}"))
        )
    leaked = [secret for _, secret in samples if secret in dump or secret.replace(" ", "") in dump.replace(" ", "")]
    assert leaked == []
    # Stored text is NFKC-folded: a number that leaked with other dashes shows as its digits.
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT text FROM suggestion_set"))
        stored_digits = [re.sub(r"\D", "", row[0] or "") for row in rows]
    secret_digits = [re.sub(r"\D", "", unicodedata.normalize("NFKC", secret)) for _, secret in samples]
    assert [d for d in secret_digits if len(d) >= 7 and any(d in stored for stored in stored_digits)] == []
    with Session(engine) as session:
        assert len(session.exec(select(SuggestionSet)).all()) == 200


def test_an_email_client_id_is_stored_as_one_keyed_hash_by_sets_and_events(settings: Settings, engine: Engine) -> None:
    keyed = settings.model_copy(update={"client_id_key": SecretStr("a secret of this deployment")})
    with TestClient(create_app(keyed, embedder=HashingEmbedder())) as client:
        answer = client.post("/v1/suggest", json={"text": "有給休暇の申請方法", "client_id": "Taro@Example.com"})
        assert answer.status_code == 200
        event = {"query_id": answer.json()["query_id"], "client_id": "taro@example.com", "action": "ticket_submitted"}
        assert client.post("/v1/events", json=event).status_code == 200
    with engine.connect() as connection:
        stored_by_set = connection.execute(text("SELECT client_id FROM suggestion_set")).scalar_one()
        stored_by_event = connection.execute(text("SELECT client_id FROM event")).scalar_one()

    # One client for both writers (so a ticket is attributed to its set), and not the unkeyed hash that a list
    # of known addresses could be matched against.
    assert stored_by_set == stored_by_event
    assert stored_by_set.startswith("h:") and stored_by_set != pseudonymous_client_id("taro@example.com")
