"""Gap report end to end: planted topics of failing questions come back as topics (real model)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.settings import Settings
from indexer.analysis import Analyzer
from indexer.build import build_index
from indexer.embedders import DEFAULT_MODEL, load_embedder

pytestmark = pytest.mark.e2e
REPO_CONTENT = Path(__file__).resolve().parents[2] / "content"

EXPENSES_JA = [
    "交通費の精算はできますか",
    "交通費を申請する方法を知りたい",
    "通勤交通費の精算機能はありますか",
    "交通費精算のやり方を教えて",
    "出張の交通費を精算したい",
]
PHONE_EN = [
    "What are your phone support hours?",
    "What time does your phone support open?",
    "When is phone support available?",
    "Phone support hours on weekends?",
]
YEAR_END_MIXED = [
    "年末調整はクモ勤怠でできますか",
    "年末調整の書類はどこで作れますか",
    "Can I do year-end tax adjustment in Kumo Kintai?",
]
ANSWERED = [
    "パスワードを忘れてログインできません",
    "月次の締めを解除したい",
    "How can I download an invoice?",
    "36協定のアラートを設定したい",
    "I forgot my password",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("gaps")
    shutil.copytree(REPO_CONTENT, root / "content")
    settings = Settings(
        database_url=f"sqlite:///{root / 'deflect.db'}",
        content_dir=root / "content",
        index_dir=root / "index",
        index_poll_seconds=0,
        _env_file=None,
    )  # type: ignore[call-arg]
    build_index(
        content_dir=settings.content_dir,
        index_dir=settings.index_dir,
        embedder=load_embedder(DEFAULT_MODEL),
        analyzer=Analyzer(),
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _ask_then(client: TestClient, text: str, client_id: str, action: str) -> str:
    locale = "en" if text.isascii() else "ja"
    body = client.post(
        "/v1/suggest", json={"text": text, "locale": locale, "channel": "form", "client_id": client_id}
    ).json()
    event: dict[str, object] = {"query_id": body["query_id"], "client_id": client_id, "action": action}
    assert client.post("/v1/events", json=event).status_code == 200
    query_id: str = body["query_id"]
    return query_id


def test_empty_period_gives_an_empty_report(client: TestClient) -> None:
    response = client.get("/v1/reports/gaps", params={"from": "2020-01-01", "to": "2020-01-31"})
    assert response.status_code == 200
    assert response.json()["topics"] == []


def test_planted_topics_come_back_with_members_verdicts_and_ranking(client: TestClient) -> None:
    planted = {}
    for name, questions in (("expenses", EXPENSES_JA), ("phone", PHONE_EN), ("year_end", YEAR_END_MIXED)):
        planted[name] = {_ask_then(client, q, f"{name}-{i}", "ticket_submitted") for i, q in enumerate(questions)}
    for i, question in enumerate(ANSWERED):
        _ask_then(client, question, f"happy-{i}", "solved")

    response = client.get("/v1/reports/gaps")
    assert response.status_code == 200
    topics = response.json()["topics"]
    members = [set(topic["query_ids"]) for topic in topics]
    assert members[:3] == [planted["expenses"], planted["phone"], planted["year_end"]]
    assert len(topics) == 3
    assert all(topic["verdict"] == "missing_article" for topic in topics)
    assert "交通" in topics[0]["label"] and "精算" in topics[0]["label"]
    assert topics[2]["locales"] == {"ja": 2, "en": 1}  # one topic across both languages
    assert topics[0]["examples"][0] in EXPENSES_JA
    csv = client.get("/v1/reports/gaps", params={"format": "csv"})
    assert csv.status_code == 200 and csv.text.splitlines()[1].startswith("1,")


def test_report_lists_articles_never_shown_in_the_period(client: TestClient) -> None:
    report = client.get("/v1/reports/gaps").json()
    assert "reset-password" not in report["articles_never_shown"]
    assert "gps-location-error" in report["articles_never_shown"]
    assert "internal-sso-e2001-runbook" not in report["articles_never_shown"]
    detail = {article["article_id"]: article for article in report["articles_never_shown_detail"]}
    assert sorted(detail) == report["articles_never_shown"]
    assert detail["gps-location-error"]["title"] and detail["gps-location-error"]["locale"] in ("ja", "en")


def test_unanswered_questions_list_the_no_answer_ones_most_asked_first(client: TestClient) -> None:
    response = client.get("/v1/reports/questions", params={"label": "no_answer"})
    assert response.status_code == 200
    questions = response.json()["questions"]
    assert questions and all(q["label"] == "no_answer" for q in questions)
    assert "交通費の精算はできますか" in {q["text"] for q in questions}
    csv = client.get("/v1/reports/questions", params={"format": "csv"})
    assert csv.text.startswith("text,label,asked,last_seen")


def test_english_helpdesk_tickets_join_the_japanese_topic_and_so_do_new_questions(client: TestClient) -> None:
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    tickets = [
        {
            "id": "zd-1",
            "subject": "How do I claim travel expenses?",
            "description": "I need to get reimbursed for my train fare.",
            "created_at": yesterday,
        },
        {
            "id": "zd-2",
            "subject": "Travel expense reimbursement",
            "description": "Can I submit my commuting costs in Kumo Kintai?",
            "created_at": yesterday,
        },
    ]
    assert client.post("/v1/tickets/import", json={"tickets": tickets}).json()["imported"] == 2
    report = client.get("/v1/reports/gaps", params={"refresh": True}).json()
    expenses = next(topic for topic in report["topics"] if "交通" in topic["label"])
    assert sorted(expenses["ticket_ids"]) == ["zd-1", "zd-2"] and expenses["signals"]["imported_ticket"] == 2
    assert len(expenses["query_ids"]) == len(EXPENSES_JA)

    asked = client.post("/v1/suggest", json={"text": "交通費を精算する方法はありますか", "locale": "ja"}).json()
    assert asked["label"] != "answered"
    joined = client.get(f"/v1/reports/gaps/topics/{expenses['topic_id']}").json()["inquiries"]
    assert [inquiry["id"] for inquiry in joined] == [asked["query_id"]]
