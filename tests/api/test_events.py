import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.api.main import create_app
from app.db.models import Event, SuggestionSet
from app.settings import Settings
from tests.fakes import HashingEmbedder


def _suggest(client: TestClient, text: str = "パスワードを忘れた場合の再設定方法", **extra: object) -> dict:  # type: ignore[type-arg]
    response = client.post("/v1/suggest", json={"text": text, "locale": "ja", "channel": "form", **extra})
    assert response.status_code == 200
    body: dict = response.json()  # type: ignore[type-arg]
    assert body["results"], body
    return body


def _events(engine: Engine) -> list[Event]:
    with Session(engine) as session:
        return list(session.exec(select(Event)))


def test_events_are_accepted_and_a_retried_batch_counts_once(client: TestClient, engine: Engine) -> None:
    shown = _suggest(client)
    article = shown["results"][0]["article_id"]
    batch = [
        {"query_id": shown["query_id"], "client_id": "c1", "action": "impression", "idempotency_key": "k1"},
        {
            "query_id": shown["query_id"],
            "client_id": "c1",
            "action": "click",
            "article_id": article,
            "position": 1,
            "idempotency_key": "k2",
        },
    ]
    first = client.post("/v1/events", json=batch)
    assert first.status_code == 200
    assert (first.json()["accepted"], first.json()["duplicates"]) == (2, 0)
    retry = client.post("/v1/events", json=batch)
    assert retry.status_code == 200
    assert [r["status"] for r in retry.json()["results"]] == ["duplicate", "duplicate"]
    assert sorted(e.action for e in _events(engine)) == ["click", "impression"]


def test_an_event_without_a_key_is_idempotent_on_what_it_says(client: TestClient, engine: Engine) -> None:
    shown = _suggest(client)
    event = {"query_id": shown["query_id"], "client_id": "c1", "action": "solved"}
    assert client.post("/v1/events", json=event).json()["accepted"] == 1
    assert client.post("/v1/events", json=event).json()["duplicates"] == 1
    assert len(_events(engine)) == 1


def test_an_unknown_query_id_is_404_and_nothing_of_the_batch_is_stored(client: TestClient, engine: Engine) -> None:
    shown = _suggest(client)
    response = client.post(
        "/v1/events",
        json=[
            {"query_id": shown["query_id"], "client_id": "c1", "action": "impression"},
            {"query_id": "0" * 32, "client_id": "c1", "action": "impression"},
        ],
    )
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_query"
    assert response.json()["detail"] == [{"index": 1, "msg": f"unknown query_id '{'0' * 32}'"}]
    assert _events(engine) == []


def test_an_article_that_was_not_shown_is_422(client: TestClient, engine: Engine) -> None:
    shown = _suggest(client)
    assert "internal-runbook" not in [result["article_id"] for result in shown["results"]]  # internal: never shown
    response = client.post(
        "/v1/events",
        json={"query_id": shown["query_id"], "client_id": "c1", "action": "click", "article_id": "internal-runbook"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_event"
    assert "was not shown" in response.json()["detail"][0]["msg"]
    assert _events(engine) == []


def test_a_malformed_event_is_422_with_its_position(client: TestClient, engine: Engine) -> None:
    shown = _suggest(client)
    response = client.post(
        "/v1/events",
        json=[
            {"query_id": shown["query_id"], "client_id": "c1", "action": "impression"},
            {"query_id": shown["query_id"], "client_id": "c1", "action": "bought_something"},
        ],
    )
    assert response.status_code == 422
    assert any(1 in d["loc"] for d in response.json()["detail"])
    assert _events(engine) == []


def test_ticket_submitted_returns_a_handoff_summary(client: TestClient) -> None:
    shown = _suggest(client, client_id="c9")
    article = shown["results"][0]
    client.post(
        "/v1/events",
        json={
            "query_id": shown["query_id"],
            "client_id": "c9",
            "action": "click",
            "article_id": article["article_id"],
            "position": 1,
        },
    )
    response = client.post(
        "/v1/events", json={"query_id": shown["query_id"], "client_id": "c9", "action": "ticket_submitted"}
    )
    assert response.status_code == 200
    handoff = response.json()["handoff"]
    assert handoff["clicked"] == [article["article_id"]]
    assert handoff["shown"][0] == article["article_id"]
    assert "パスワードを忘れた" in handoff["text"] and article["title"] in handoff["text"]


def test_keystrokes_of_one_edit_chain_are_one_search_intent(client: TestClient, engine: Engine) -> None:
    for text in ("パスワ", "パスワード", "パスワードを忘れ", "パスワードを忘れた"):
        assert client.get("/v1/suggest", params={"q": text, "client_id": "typing"}).status_code == 200
    client.get("/v1/suggest", params={"q": "有給休暇", "client_id": "typing"})
    client.get("/v1/suggest", params={"q": "有給", "client_id": "typing", "composing": "true"})
    with Session(engine) as session:
        sets = list(session.exec(select(SuggestionSet).order_by(SuggestionSet.created_epoch)))  # type: ignore[arg-type]
    counted = [s.text for s in sets if not s.superseded and not s.composing]
    assert counted == ["パスワードを忘れた", "有給休暇"]
    assert len({s.intent_id for s in sets[:4]}) == 1


def test_a_key_repeated_within_a_batch_counts_once(client: TestClient, engine: Engine) -> None:
    shown = _suggest(client)
    event = {"query_id": shown["query_id"], "client_id": "c1", "action": "impression", "idempotency_key": "k1"}
    stored = client.post("/v1/events", json=[{**event, "idempotency_key": "k0"}])
    assert stored.status_code == 200
    response = client.post("/v1/events", json=[event, event, {**event, "idempotency_key": "k0"}])
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "duplicate", "duplicate"]
    assert sorted(e.idempotency_key for e in _events(engine)) == ["k0", "k1"]


def test_a_click_marks_its_suggestion_set_clicked_at_its_position(client: TestClient, engine: Engine) -> None:
    shown = _suggest(client, "有給休暇", client_id="c2")
    last = len(shown["results"])
    article = shown["results"][-1]["article_id"]
    event = {
        "query_id": shown["query_id"],
        "client_id": "c2",
        "action": "click",
        "article_id": article,
        "position": last,
    }
    assert client.post("/v1/events", json=event).status_code == 200
    with Session(engine) as session:
        stored = session.get(SuggestionSet, shown["query_id"])
    assert stored is not None
    assert (stored.clicked, stored.click_position, stored.explicit) == (True, last, False)


def test_the_configured_attribution_window_decides_which_events_count(settings: Settings) -> None:
    # W of 36 seconds: a click stamped a minute after the suggestion no longer counts for it; with 24 hours it would.
    short = settings.model_copy(update={"attribution_window_hours": 0.01, "recontact_days": 2.0})
    with TestClient(create_app(short, embedder=HashingEmbedder())) as client:
        shown = _suggest(client)
        article = shown["results"][0]["article_id"]
        late = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat()
        click = {"query_id": shown["query_id"], "client_id": "c1", "action": "click", "article_id": article}
        assert client.post("/v1/events", json=click | {"ts": late}).status_code == 200
        report = client.get("/v1/reports/deflection")
    assert report.status_code == 200
    assert (report.json()["window_hours"], report.json()["recontact_days"]) == (0.01, 2.0)
    assert report.json()["totals"]["clicked"] == 0
