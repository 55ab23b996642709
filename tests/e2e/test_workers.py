"""Several uvicorn workers on one database and one index directory, as in production.

Each worker loads the index itself and picks up a newly published build by itself; a question
answered by one worker takes its events through any other.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, func, select

from app.db.engine import make_engine
from app.db.models import Event
from bench.server import served
from indexer.analysis import Analyzer
from indexer.build import build_index
from indexer.embedders import load_embedder
from tests.factories import write_article

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
NEW_QUESTION = "社員食堂のランチを予約するには"


def _builds_by_worker(url: str, *, want: str, workers: int, timeout: float = 120) -> dict[str, str]:
    """{instance: build} from /readyz on fresh connections, once `workers` instances all serve `want`."""
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = httpx.get(f"{url}/readyz", timeout=10)  # a new connection each time: any worker may take it
        if ready.status_code == 200:
            seen[ready.json()["instance"]] = ready.json()["index_build"]
        if len(seen) == workers and set(seen.values()) == {want}:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"workers did not all serve {want} within {timeout} s: {seen}")


def test_workers_share_the_database_and_each_picks_up_a_new_build(tmp_path: Path, empty_database_url: str) -> None:
    # An empty database: the two workers migrate it as they start, together.
    content = tmp_path / "content"
    shutil.copytree(REPO / "content", content)
    index_dir = tmp_path / "index"
    embedder, analyzer = load_embedder(), Analyzer()
    first = build_index(content_dir=content, index_dir=index_dir, embedder=embedder, analyzer=analyzer)
    env = {
        "DEFLECT_DATABASE_URL": empty_database_url,
        "DEFLECT_INDEX_DIR": str(index_dir),
        "DEFLECT_CONTENT_DIR": str(content),
        "DEFLECT_INDEX_POLL_SECONDS": "0.5",
        "DEFLECT_RATE_LIMIT_PER_MINUTE": "100000",
    }
    with served(env, workers=2, cwd=tmp_path, log=tmp_path / "server.log") as url:
        assert len(_builds_by_worker(url, want=first.build_id, workers=2)) == 2
        # Each spawned worker logs JSON lines of its own, as the parent does.
        lines = [
            json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines() if line.startswith("{")
        ]
        serving = [line for line in lines if line["message"].startswith(f"serving index build {first.build_id}")]
        assert len(serving) == 2 and {line["logger"] for line in serving} == {"deflect.index"}

        write_article(
            content,
            id="cafeteria-lunch-booking",
            title="社員食堂のランチを予約する",
            body="## 予約の手順\n1. メニューの［社員食堂］を開きます。\n2. 日付とランチを選び、［予約］を押します。",
        )
        second = build_index(content_dir=content, index_dir=index_dir, embedder=embedder, analyzer=analyzer)
        assert second.published and second.build_id != first.build_id
        _builds_by_worker(url, want=second.build_id, workers=2)

        sent = 0
        for _ in range(12):
            with httpx.Client(base_url=url, timeout=30) as fresh:  # new connection: either worker answers
                answer = fresh.post("/v1/suggest", json={"text": NEW_QUESTION, "locale": "ja"}).json()
            assert answer["results"][0]["article_id"] == "cafeteria-lunch-booking"
            assert answer["recorded"] is True
            with httpx.Client(base_url=url, timeout=30) as fresh:
                event = {
                    "query_id": answer["query_id"],
                    "client_id": "c",
                    "action": "click",
                    "position": 1,
                    "article_id": "cafeteria-lunch-booking",
                }
                assert fresh.post("/v1/events", json=event).status_code == 200
            sent += 1

    engine = make_engine(empty_database_url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Event)).one() == sent
    engine.dispose()
