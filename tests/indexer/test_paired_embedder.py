"""PairedEmbedder: two models' vectors joined so that cosine is the mean of theirs; Japanese left to the first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from indexer import embedders
from indexer.embedders import EmbedderError, EmbedderPart, Vectors, layout_of, load_embedder
from indexer.embedders import paired as paired_module
from indexer.embedders.packaged import ENGLISH_ONLY_MODELS
from indexer.embedders.paired import (
    BRIDGE_SHARE_IN_ENGLISH_PASSAGES,
    PairedEmbedder,
    bilingual_passages,
    bridge_path,
    multilingual_dims,
)
from tests.fakes import HashingEmbedder


class _Recording(HashingEmbedder):
    """A second model that records what it was asked to embed; the name says whether it reads Japanese."""

    def __init__(self, name: str, dim: int) -> None:
        super().__init__()
        self.name, self.dim = name, dim
        self.seen: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.seen += list(texts)
        vectors = super().embed_queries(texts)
        # Another space than the first model's: the same text must not land on the same vector.
        return np.roll(vectors, 7, axis=1) if len(vectors) else vectors


TEXTS = ["reset my password", "forgot my password and cannot sign in", "download an invoice", "パスワードを忘れた"]


def test_cosine_in_the_joined_space_is_the_mean_of_the_two_models_cosines() -> None:
    first, second = HashingEmbedder(), _Recording("some-multilingual-model", 64)
    paired = PairedEmbedder(first, second)
    assert paired.name == "test-hashing-embedder+some-multilingual-model" and paired.dim == 128

    documents, query = paired.embed_documents(TEXTS), paired.embed_queries(TEXTS[1:2])[0]

    np.testing.assert_allclose(np.linalg.norm(documents, axis=1), 1.0, rtol=1e-6)
    expected = 0.5 * (first.embed_documents(TEXTS) @ first.embed_queries(TEXTS[1:2])[0]) + 0.5 * (
        second.embed_documents(TEXTS) @ second.embed_queries(TEXTS[1:2])[0]
    )
    np.testing.assert_allclose(documents @ query, expected, atol=1e-6)


def test_an_english_only_second_model_never_sees_japanese() -> None:
    first, second = HashingEmbedder(), _Recording("all-MiniLM-L6-v2-int8", 64)
    paired = PairedEmbedder(first, second)

    documents = paired.embed_documents(TEXTS)
    japanese_query = paired.embed_queries(["パスワードを再設定したい"])[0]
    english_query = paired.embed_queries([TEXTS[0]])[0]

    assert not any("パスワード" in text for text in second.seen)
    # Japanese meets Japanese by the first model alone, at its full cosine.
    first_only = first.embed_documents(TEXTS[3:]) @ first.embed_queries(["パスワードを再設定したい"])[0]
    assert float(documents[3] @ japanese_query) == pytest.approx(float(first_only[0]), abs=1e-6)
    np.testing.assert_allclose(np.linalg.norm(documents, axis=1), 1.0, rtol=1e-6)
    # English meets a Japanese passage at sqrt(1/2) of the first model's cosine.
    across = float(first.embed_documents(TEXTS[3:])[0] @ first.embed_queries(TEXTS[:1])[0])
    assert float(documents[3] @ english_query) == pytest.approx(np.sqrt(0.5) * across, abs=1e-6)


def test_the_japanese_rule_follows_whichever_model_reads_no_japanese() -> None:
    english_only = _Recording("all-MiniLM-L6-v2-int8", 32)
    paired = PairedEmbedder(english_only, HashingEmbedder())  # the English-only model first this time

    vectors = paired.embed_documents(["パスワードを忘れた", "Export to 勤怠 CSV in the admin console"])

    # Japanese: the English-only half is zero. A few kanji in an English sentence do not make it Japanese.
    assert not vectors[0, :32].any() and english_only.seen == ["Export to 勤怠 CSV in the admin console"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    assert vectors.dtype == np.float32 and vectors.flags.c_contiguous
    assert paired.embed_queries([]).shape == (0, 96)


def test_a_plus_joins_two_models_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loaded: list[str] = []

    def fake_load(model: str) -> HashingEmbedder:
        loaded.append(model)
        return _Recording(model, 8)

    monkeypatch.setattr(embedders, "_load_one", fake_load)
    monkeypatch.setattr(paired_module, "BRIDGES_DIR", tmp_path / "no-bridges")
    paired = load_embedder("use-multilingual-v3+all-MiniLM-L6-v2-int8")
    assert isinstance(paired, PairedEmbedder) and paired.name == "use-multilingual-v3+all-MiniLM-L6-v2-int8"
    assert loaded == ["use-multilingual-v3", "all-MiniLM-L6-v2-int8"]
    for malformed in ("a+b+c", "a+", "+b"):
        with pytest.raises(EmbedderError, match="two model names joined by one"):
            load_embedder(malformed)
    directory = tmp_path / "models" / "e5+finetuned"
    directory.mkdir(parents=True)
    assert load_embedder(str(directory)).name == str(directory)  # a directory with a "+" is one model


def test_a_bridge_gives_japanese_text_an_estimate_of_the_english_only_models_vector() -> None:
    first, english_only = HashingEmbedder(), _Recording("all-MiniLM-L6-v2-int8", 32)
    bridge = np.random.default_rng(0).normal(size=(first.dim, 32)).astype(np.float32)
    paired = PairedEmbedder(first, english_only, bridge=bridge)

    vectors = paired.embed_documents(TEXTS)

    assert not any("パスワード" in text for text in english_only.seen)
    japanese = first.embed_documents(TEXTS[3:])[0]
    estimate = japanese @ bridge
    # Both halves at sqrt(1/2), the second the first carried over: Japanese meets English on both models.
    np.testing.assert_allclose(vectors[3, : first.dim], np.sqrt(0.5) * japanese, atol=1e-6)
    np.testing.assert_allclose(vectors[3, first.dim :], np.sqrt(0.5) * estimate / np.linalg.norm(estimate), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    # English text is untouched by the bridge: each model's own vector.
    np.testing.assert_allclose(vectors[0, first.dim :], np.sqrt(0.5) * english_only.embed_documents(TEXTS[:1])[0])


def test_in_a_help_center_of_both_languages_english_passages_blend_in_the_bridges_estimate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The English-only model's size as the registry knows it: the halves are found from the pair's name.
    first, english_only = (
        HashingEmbedder(),
        _Recording("all-MiniLM-L6-v2-int8", ENGLISH_ONLY_MODELS["all-MiniLM-L6-v2-int8"]),
    )
    bridge = np.random.default_rng(0).normal(size=(first.dim, english_only.dim)).astype(np.float32)
    monkeypatch.setattr(paired_module, "BRIDGES_DIR", tmp_path)
    np.save(bridge_path(first.name, english_only.name), bridge)
    paired = PairedEmbedder(first, english_only, bridge=bridge)
    stored = paired.embed_documents(TEXTS)
    japanese = np.array([False, False, False, True])

    blended = bilingual_passages(paired.layout, stored, japanese)

    estimate = stored[0, : first.dim] @ bridge
    estimate /= np.linalg.norm(estimate)
    own = english_only.embed_documents(TEXTS[:1])[0]
    expected = (1 - BRIDGE_SHARE_IN_ENGLISH_PASSAGES) * own + BRIDGE_SHARE_IN_ENGLISH_PASSAGES * estimate
    np.testing.assert_allclose(blended[0, first.dim :], np.sqrt(0.5) * expected / np.linalg.norm(expected), atol=1e-5)
    np.testing.assert_array_equal(blended[:, : first.dim], stored[:, : first.dim])  # the multilingual half as stored
    np.testing.assert_array_equal(blended[3], stored[3])  # Japanese passages as stored
    np.testing.assert_allclose(np.linalg.norm(blended, axis=1), 1.0, rtol=1e-5)
    assert not np.shares_memory(blended, stored)
    # One language only, or a single model: nothing to bridge between, the vectors come back as they are.
    assert bilingual_passages(paired.layout, stored, np.zeros(4, dtype=bool)) is stored
    assert bilingual_passages(layout_of(first), stored, japanese) is stored


def test_a_bridge_must_fit_the_two_models_and_join_a_reader_to_an_english_only_model() -> None:
    first = HashingEmbedder()
    with pytest.raises(EmbedderError, match="shape"):
        PairedEmbedder(first, _Recording("all-MiniLM-L6-v2-int8", 32), bridge=np.zeros((first.dim, 16), np.float32))
    with pytest.raises(EmbedderError, match="reads Japanese to one that does not"):
        PairedEmbedder(first, _Recording("multilingual", 32), bridge=np.zeros((first.dim, 32), np.float32))


def test_a_pair_loads_its_bridge_whichever_model_comes_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(embedders, "_load_one", lambda model: _Recording(model, 8 if "MiniLM" in model else 16))
    monkeypatch.setattr(paired_module, "BRIDGES_DIR", tmp_path)
    assert bridge_path("all-MiniLM-L6-v2-int8", "reader") == bridge_path("reader", "all-MiniLM-L6-v2-int8")
    assert load_embedder("reader+all-MiniLM-L6-v2-int8").bridge is None  # type: ignore[attr-defined]

    np.save(bridge_path("reader", "all-MiniLM-L6-v2-int8"), np.ones((16, 8), dtype=np.float16))

    for name in ("reader+all-MiniLM-L6-v2-int8", "all-MiniLM-L6-v2-int8+reader"):
        paired = load_embedder(name)
        assert isinstance(paired, PairedEmbedder) and paired.bridge is not None
        assert paired.bridge.dtype == np.float32 and paired.bridge.shape == (16, 8)


def test_the_multilingual_half_of_a_pairs_vectors_is_found_from_its_layout() -> None:
    use, e5 = EmbedderPart("use-multilingual-v3", 512, True), EmbedderPart("multilingual-e5-small-q4", 384, True)
    minilm = EmbedderPart("all-MiniLM-L6-v2-int8", 384, False)
    assert multilingual_dims([use, minilm]) == (0, 512)
    assert multilingual_dims([minilm, e5]) == (384, 768)
    assert multilingual_dims([use]) is None
    assert multilingual_dims([use, e5]) is None  # both read Japanese


def test_a_pairs_layout_names_each_model_in_order_and_which_reads_japanese() -> None:
    first, english_only = HashingEmbedder(), _Recording("all-MiniLM-L6-v2-int8", 8)
    paired = PairedEmbedder(first, english_only)
    assert layout_of(paired) == [
        EmbedderPart(first.name, first.dim, reads_japanese=True),
        EmbedderPart("all-MiniLM-L6-v2-int8", 8, reads_japanese=False),
    ]
    assert layout_of(first) == [EmbedderPart(first.name, first.dim, reads_japanese=True)]
