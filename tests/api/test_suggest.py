from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.api.main import create_app
from app.db.models import SuggestedArticle, SuggestionSet
from app.settings import Settings
from tests.fakes import HashingEmbedder


def _stored_sets(engine: Engine) -> list[SuggestionSet]:
    with Session(engine) as session:
        return list(session.exec(select(SuggestionSet)))


def test_post_suggest_answers_and_stores_the_suggestion_set(client: TestClient, engine: Engine) -> None:
    response = client.post(
        "/v1/suggest",
        json={"text": "パスワードを忘れた場合の再設定方法", "locale": "ja", "channel": "form", "client_id": "c-1"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["results"][0]["article_id"] == "reset-password"
    assert body["results"][0]["fallback"] is False
    assert body["label"] in {"answered", "low_confidence"}
    assert 0 < body["confidence"] <= 1
    stored = _stored_sets(engine)
    assert [(s.id, s.channel, s.client_id, s.result_count) for s in stored] == [
        (body["query_id"], "form", "c-1", len(body["results"]))
    ]
    with Session(engine) as session:
        shown = session.exec(select(SuggestedArticle).order_by(SuggestedArticle.position)).all()  # type: ignore[arg-type]
    assert [a.article_id for a in shown] == [r["article_id"] for r in body["results"]]


def test_get_suggest_answers_the_same_for_search_boxes(client: TestClient) -> None:
    response = client.get("/v1/suggest", params={"q": "webhook retries", "locale": "en"})
    assert response.status_code == 200
    assert response.json()["results"][0]["article_id"] == "webhook-setup"


def test_suggest_stores_the_question_redacted(client: TestClient, engine: Engine) -> None:
    response = client.post(
        "/v1/suggest",
        json={"text": "taro@example.com 090-1234-5678 パスワードを忘れた", "client_id": "taro@example.com"},
    )
    assert response.status_code == 200
    (stored,) = _stored_sets(engine)
    assert stored.text is not None
    assert "taro" not in stored.text and "5678" not in stored.text
    assert "[EMAIL]" in stored.text and "[PHONE]" in stored.text
    assert stored.client_id is not None and "example" not in stored.client_id


def test_suggest_for_an_unrelated_question_says_no_answer_with_no_results(client: TestClient) -> None:
    response = client.post("/v1/suggest", json={"text": "量子コンピュータの冷却温度について", "locale": "ja"})
    assert response.status_code == 200
    assert response.json()["label"] == "no_answer"
    assert response.json()["results"] == []


@pytest.mark.parametrize(("asked", "resolved"), [("ja-JP", "ja"), ("JA", "ja"), ("en_US", "en"), ("EN-gb", "en")])
def test_a_locale_with_a_region_or_capitals_names_the_help_centers_own(
    client: TestClient, engine: Engine, asked: str, resolved: str
) -> None:
    # What pages and browsers send (<html lang="ja-JP">, navigator.language) is their help center's locale.
    response = client.post("/v1/suggest", json={"text": "パスワードを忘れた", "locale": asked})
    assert response.status_code == 200 and response.json()["results"]
    assert [r["fallback"] for r in response.json()["results"]] == [
        r["locale"] != resolved for r in response.json()["results"]
    ]
    assert [stored.locale for stored in _stored_sets(engine)] == [resolved]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": ""}, "text is empty"),
        ({"text": "   \u3000 "}, "text is empty"),
        ({"text": "あ" * 10_001}, "longer than 10000"),
        ({"text": "質問", "locale": "xx"}, "locale 'xx' is not one of ja, en"),
        ({"text": "質問", "locale": "fr-JA"}, "locale 'fr-JA' is not one of ja, en"),
        ({"text": "質問", "limit": 0}, "limit"),
        ({"text": "質問", "limit": 21}, "limit"),
        ({"text": 12}, "text"),
        ({"text": "質問", "channel": "email"}, "channel"),
        ({"text": "質問", "unexpected": True}, "unexpected"),
        ({}, "text"),
    ],
)
def test_suggest_with_bad_input_is_422_and_stores_nothing(
    client: TestClient, engine: Engine, body: dict[str, object], message: str
) -> None:
    response = client.post("/v1/suggest", json=body)
    assert response.status_code == 422
    assert response.json()["error"] in {"invalid_request", "invalid_query"}
    assert message in response.json()["message"]
    assert _stored_sets(engine) == []


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b'{"text": "unterminated', b'{"text": "a\\u0000b"}'])
def test_suggest_with_a_body_that_is_not_valid_json_text_is_a_clear_4xx(client: TestClient, content: bytes) -> None:
    response = client.post("/v1/suggest", content=content, headers={"content-type": "application/json"})
    assert response.status_code in {400, 422}
    assert response.json()["error"] in {"bad_request", "invalid_request", "invalid_query"}


def test_suggest_without_an_index_is_503_and_readyz_says_why(tmp_path: Path, database_url: str) -> None:
    settings = Settings(database_url=database_url, index_dir=tmp_path / "empty", index_poll_seconds=0, _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, embedder=HashingEmbedder())) as client:
        assert client.post("/v1/suggest", json={"text": "パスワード"}).status_code == 503
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "no index has been built" in ready.json()["index_problem"]
        assert client.get("/healthz").status_code == 200


def test_readyz_when_index_and_database_are_up(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["ready"] is True
    assert response.json()["database"] is True


def test_suggest_with_keys_configured_needs_one_of_the_right_scope(settings: Settings) -> None:
    keyed = settings.model_copy(update={"secret_keys": ["sk_test"], "publishable_keys": ["pk_test"]})
    with TestClient(create_app(keyed, embedder=HashingEmbedder())) as client:
        assert client.post("/v1/suggest", json={"text": "パスワード"}).status_code == 401
        wrong = client.post("/v1/suggest", json={"text": "パスワード"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_key"
        for key in ("pk_test", "sk_test"):
            ok = client.post("/v1/suggest", json={"text": "パスワード"}, headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200
