"""The live index (retrieval/live_index.py): the build served, swapped whole for a new one, kept through bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_index
from retrieval.live_index import LiveIndex
from tests.factories import write_article
from tests.fakes import HashingEmbedder


def _live(index_dir: Path, analyzer: Analyzer, *, model: str = HashingEmbedder.name) -> LiveIndex:
    live = LiveIndex(index_dir, model=model, analyzer=analyzer)
    live.load()
    return live


def _publish_broken(index_dir: Path) -> str:
    """A build that cannot be read, made live: named to sort after every real build."""
    broken = store.builds_dir(index_dir) / "29990101T000000000000Z-broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}", encoding="utf-8")
    (index_dir / "CURRENT").write_text(broken.name, encoding="utf-8")
    return broken.name


def _publish_new_article(content_dir: Path, index_dir: Path, analyzer: Analyzer) -> str:
    write_article(content_dir, id="cafeteria", title="社員食堂のランチ予約", body="## 予約\nメニューから予約します。")
    report = build_index(content_dir=content_dir, index_dir=index_dir, embedder=HashingEmbedder(), analyzer=analyzer)
    assert report.published
    return report.build_id


def test_load_serves_the_published_build(index_dir: Path, analyzer: Analyzer) -> None:
    live = _live(index_dir, analyzer)
    assert live.current is not None and live.problem is None
    assert live.current.build_id == store.current_build_id(index_dir)
    assert "reset-password" in live.current.build.articles


def test_without_an_index_nothing_is_served_and_the_problem_says_why(tmp_path: Path, analyzer: Analyzer) -> None:
    live = _live(tmp_path / "no-index", analyzer)
    assert live.current is None
    assert live.problem is not None and "no index has been built" in live.problem
    assert live.refresh() is False


def test_refresh_swaps_in_a_newly_published_build_whole(content_dir: Path, index_dir: Path, analyzer: Analyzer) -> None:
    live = _live(index_dir, analyzer)
    before = live.current
    assert live.refresh() is False  # nothing new: the same object stays
    assert live.current is before

    new_build = _publish_new_article(content_dir, index_dir, analyzer)

    assert live.refresh() is True
    assert live.current is not before and live.current is not None
    assert live.current.build_id == new_build and "cafeteria" in live.current.build.articles
    assert before is not None and "cafeteria" not in before.build.articles  # a request holding the old one keeps it
    assert live.refresh() is False


def test_live_index_keeps_the_good_build_when_a_broken_one_is_published(
    index_dir: Path, analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = _live(index_dir, analyzer)
    good = live.current
    assert good is not None and live.problem is None
    _publish_broken(index_dir)
    loads: list[None] = []
    load = live.load
    monkeypatch.setattr(live, "load", lambda: (loads.append(None), load())[1])

    assert live.refresh() is False
    assert live.current is good and live.problem is not None
    assert live.refresh() is False
    assert len(loads) == 1  # the broken build is tried once, not on every poll until another is published


def test_a_build_published_after_a_broken_one_is_served_and_clears_the_problem(
    content_dir: Path, index_dir: Path, analyzer: Analyzer
) -> None:
    live = _live(index_dir, analyzer)
    _publish_broken(index_dir)
    assert live.refresh() is False and live.problem is not None
    new_build = _publish_new_article(content_dir, index_dir, analyzer)

    assert live.refresh() is True
    assert live.current is not None and live.current.build_id == new_build and live.problem is None


def test_starting_on_a_broken_build_serves_the_last_good_one(index_dir: Path, analyzer: Analyzer) -> None:
    good = store.current_build_id(index_dir)
    broken = _publish_broken(index_dir)

    live = _live(index_dir, analyzer)

    assert live.current is not None and live.current.build_id == good
    assert live.problem is not None and broken in live.problem


def test_a_build_of_another_model_is_not_served(index_dir: Path, analyzer: Analyzer) -> None:
    live = _live(index_dir, analyzer, model="another-model")
    assert live.current is None  # no build of that model to fall back on either
    assert live.problem is not None and "another-model" in live.problem
