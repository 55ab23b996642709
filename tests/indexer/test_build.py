import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from indexer import store
from indexer.analysis import Analyzer
from indexer.build import build_index
from indexer.embedders import Vectors
from tests.factories import write_article
from tests.fakes import HashingEmbedder


def _build(content_dir: Path, index_dir: Path, embedder: HashingEmbedder, analyzer: Analyzer, **kw: bool):  # type: ignore[no-untyped-def]
    return build_index(content_dir=content_dir, index_dir=index_dir, embedder=embedder, analyzer=analyzer, **kw)


def test_rebuild_when_nothing_changed_publishes_nothing(content_dir: Path, index_dir: Path, analyzer: Analyzer) -> None:
    before = store.current_build_id(index_dir)
    embedder = HashingEmbedder()
    report = _build(content_dir, index_dir, embedder, analyzer)
    assert not report.published
    assert embedder.documents_embedded == 0
    assert store.current_build_id(index_dir) == before


def test_rebuild_when_one_article_changed_embeds_only_its_passages(
    content_dir: Path, index_dir: Path, analyzer: Analyzer
) -> None:
    write_article(
        content_dir,
        id="paid-leave",
        title="有給休暇の付与日数と自動付与",
        category="leave",
        body="## 付与日数\n入社6か月後に10日付与されます。",
    )
    write_article(content_dir, id="new-article", title="新しい記事", body="## 本文\n新機能の説明です。")
    (content_dir / "en" / "webhook-setup.md").unlink()
    embedder = HashingEmbedder()

    report = _build(content_dir, index_dir, embedder, analyzer)

    assert report.published
    assert (report.added, report.changed, report.removed) == (["new-article"], ["paid-leave"], ["webhook-setup"])
    # title passage + one section for each of the two re-embedded articles
    assert report.embedded_passages == embedder.documents_embedded == 4
    build = store.load_current(index_dir)
    assert "webhook-setup" not in build.articles
    assert build.build_id == report.build_id


def test_rebuild_reuses_vectors_identical_to_a_full_build(
    content_dir: Path, index_dir: Path, analyzer: Analyzer, tmp_path: Path
) -> None:
    write_article(content_dir, id="new-article", title="新しい記事", body="## 本文\n新機能の説明です。")
    _build(content_dir, index_dir, HashingEmbedder(), analyzer)
    full_dir = tmp_path / "full"
    _build(content_dir, full_dir, HashingEmbedder(), analyzer)
    incremental, full = store.load_current(index_dir), store.load_current(full_dir)
    assert [(p.article_id, p.ordinal) for p in incremental.passages] == [
        (p.article_id, p.ordinal) for p in full.passages
    ]
    assert (incremental.vectors() == full.vectors()).all()


def test_rebuild_when_the_embedder_fails_leaves_the_serving_index_untouched(
    content_dir: Path, index_dir: Path, analyzer: Analyzer
) -> None:
    before = store.current_build_id(index_dir)
    write_article(content_dir, id="new-article", title="新しい記事", body="## 本文\n説明")
    failing = HashingEmbedder()
    failing.fail_after = 0

    with pytest.raises(RuntimeError, match="planted"):
        _build(content_dir, index_dir, failing, analyzer, force=True)

    assert store.current_build_id(index_dir) == before
    assert store.load_current(index_dir).build_id == before
    # and the next build succeeds
    assert _build(content_dir, index_dir, HashingEmbedder(), analyzer).published


def test_build_skips_malformed_files_and_indexes_the_rest(
    content_dir: Path, tmp_path: Path, analyzer: Analyzer
) -> None:
    (content_dir / "ja" / "broken.md").write_text("no front matter", encoding="utf-8")
    report = _build(content_dir, tmp_path / "index", HashingEmbedder(), analyzer)
    assert [p.source for p in report.problems] == ["ja/broken.md"]
    assert len(store.load_current(tmp_path / "index").articles) == 5


def test_build_with_another_model_re_embeds_everything(content_dir: Path, index_dir: Path, analyzer: Analyzer) -> None:
    other = HashingEmbedder()
    other.name = "another-model"
    report = _build(content_dir, index_dir, other, analyzer)
    assert report.published
    assert report.reused_passages == 0
    assert store.load_current(index_dir).manifest.model == "another-model"


def test_a_new_version_of_the_same_model_re_embeds_everything(
    content_dir: Path, index_dir: Path, analyzer: Analyzer
) -> None:
    # Same name, other vectors (new weights, or a refitted bridge): the old vectors must not be mixed in.
    class Retrained(HashingEmbedder):
        def embed_queries(self, texts: Sequence[str]) -> Vectors:
            return np.ascontiguousarray(np.roll(super().embed_queries(texts), 1, axis=1))

    assert not _build(content_dir, index_dir, HashingEmbedder(), analyzer).published  # the same version: nothing to do
    report = _build(content_dir, index_dir, Retrained(), analyzer)
    assert report.published and report.reused_passages == 0 and report.embedded_passages > 0
    assert store.load_current(index_dir).manifest.model == HashingEmbedder.name


def test_a_build_that_recorded_another_layout_is_made_again(
    content_dir: Path, index_dir: Path, analyzer: Analyzer
) -> None:
    # Benchmark builds before 2026-12-07 recorded a pair as one model: search would not know its halves.
    path = store.builds_dir(index_dir) / store.current_build_id(index_dir) / "manifest.json"
    recorded = json.loads(path.read_text(encoding="utf-8"))
    recorded["embedder"] = [{"model": "test-hashing-embedder+other", "dim": 64, "reads_japanese": True}]
    path.write_text(json.dumps(recorded), encoding="utf-8")

    report = _build(content_dir, index_dir, HashingEmbedder(), analyzer)

    assert report.published and report.reused_passages == 0
    assert store.load_current(index_dir).manifest.embedder[0].model == HashingEmbedder.name
