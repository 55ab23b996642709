"""Publishing new builds while questions are being answered: every answer comes whole from one build."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.settings import Settings
from indexer.analysis import Analyzer
from indexer.build import build_index
from retrieval.live_index import LiveIndex
from tests.factories import write_article
from tests.fakes import HashingEmbedder


@pytest.mark.slow
def test_reindexing_while_answering_serves_every_request_from_a_whole_build(
    settings: Settings, content_dir: Path, index_dir: Path, analyzer: Analyzer
) -> None:
    generous = settings.model_copy(update={"rate_limit_per_minute": 100_000})
    with TestClient(create_app(generous, embedder=HashingEmbedder())) as client:
        _reindex_under_load(client, content_dir, index_dir, analyzer)


def _reindex_under_load(client: TestClient, content_dir: Path, index_dir: Path, analyzer: Analyzer) -> None:
    live: LiveIndex = client.app_state["live_index"]
    builds_seen: set[str] = set()
    failures: list[str] = []
    answered: list[int] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            response = client.get("/v1/suggest", params={"q": "パスワードを忘れた"})
            if response.status_code != 200 or not response.json()["results"]:
                failures.append(f"{response.status_code} {response.text[:200]}")
            answered.append(response.status_code)
            current = live.current
            if current is not None:
                builds_seen.add(current.build_id)

    askers = [threading.Thread(target=ask) for _ in range(3)]
    for thread in askers:
        thread.start()
    try:
        for round_ in range(4):
            write_article(content_dir, id=f"extra-{round_}", title=f"追加の記事 {round_}", body="## 本文\n説明です。")
            report = build_index(
                content_dir=content_dir, index_dir=index_dir, embedder=HashingEmbedder(), analyzer=analyzer
            )
            assert report.published
            assert live.refresh() is True
            stop.wait(0.2)  # let answers come from this build too
    finally:
        stop.set()
        for thread in askers:
            thread.join(timeout=30)

    assert failures == []
    assert len(answered) >= 20
    assert len(builds_seen) >= 4
    assert live.current is not None and "extra-3" in live.current.build.articles
