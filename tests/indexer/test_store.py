import json
from pathlib import Path

import pytest

from indexer import store
from indexer.embedders import EmbedderPart
from tests.fakes import HashingEmbedder


def test_load_current_reads_the_published_build(index_dir: Path) -> None:
    build = store.load_current(index_dir, expected_model=HashingEmbedder.name)
    assert build.build_id == store.current_build_id(index_dir)
    assert set(build.articles) == {
        "reset-password",
        "reset-password-en",
        "paid-leave",
        "webhook-setup",
        "internal-runbook",
    }
    assert build.dense.ntotal == len(build.passages) == build.manifest.counts["passages"]
    assert build.manifest.model == HashingEmbedder.name
    assert build.manifest.embedder == [EmbedderPart(HashingEmbedder.name, HashingEmbedder.dim, reads_japanese=True)]


def test_load_current_when_another_model_built_it_refuses_with_a_clear_message(index_dir: Path) -> None:
    with pytest.raises(store.IndexMismatchError, match="made with model 'test-hashing-embedder'.*use-multilingual-v3"):
        store.load_current(index_dir, expected_model="use-multilingual-v3")


def test_load_current_when_another_analyser_built_it_refuses_with_a_clear_message(index_dir: Path) -> None:
    built_with = store.load_current(index_dir).manifest.analyzer
    assert store.load_current(index_dir, expected_analyzer=built_with).manifest.analyzer == built_with
    with pytest.raises(store.IndexMismatchError, match="analysed with .*ja-bigram.*MORPHOLOGICAL_ANALYSIS"):
        store.load_current(index_dir, expected_analyzer="ja-bigram+en-snowball")


def test_load_current_when_nothing_was_built_says_so(tmp_path: Path) -> None:
    with pytest.raises(store.IndexNotFoundError, match="deflect index"):
        store.load_current(tmp_path)


def test_load_current_when_the_build_is_corrupt_raises_and_last_good_is_found(index_dir: Path) -> None:
    good = store.load_current(index_dir)
    broken = store.builds_dir(index_dir) / "29990101T000000000000Z-broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    (index_dir / "CURRENT").write_text(broken.name, encoding="utf-8")

    with pytest.raises(store.IndexCorruptError, match="unreadable"):
        store.load_current(index_dir)
    fallback = store.load_last_good(index_dir)
    assert fallback is not None
    assert fallback.build_id == good.build_id


def test_load_build_when_vectors_are_missing_is_corrupt(index_dir: Path) -> None:
    build_path = store.builds_dir(index_dir) / str(store.current_build_id(index_dir))
    (build_path / "dense.faiss").unlink()
    with pytest.raises(store.IndexCorruptError, match="cannot read the build"):
        store.load_current(index_dir)


def test_build_lock_when_held_refuses_a_second_builder(tmp_path: Path) -> None:
    with store.build_lock(tmp_path), pytest.raises(store.IndexLockedError):
        with store.build_lock(tmp_path):
            pass


def test_load_current_when_an_older_format_built_it_asks_for_a_rebuild(index_dir: Path) -> None:
    manifest_path = store.builds_dir(index_dir) / str(store.current_build_id(index_dir)) / "manifest.json"
    older = json.loads(manifest_path.read_text(encoding="utf-8"))
    older["format"] = 1
    del older["embedder"]
    manifest_path.write_text(json.dumps(older), encoding="utf-8")

    assert store.is_outdated(index_dir)
    with pytest.raises(store.IndexCorruptError, match="format 1.*rebuild it with `deflect index`"):
        store.load_current(index_dir)
