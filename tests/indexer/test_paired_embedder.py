"""PairedEmbedder: two models' vectors joined so that cosine is the mean of theirs; Japanese left to the first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from indexer import embedding
from indexer.embedding import EmbedderError, PairedEmbedder, Vectors, load_embedder
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

    monkeypatch.setattr(embedding, "_load_one", fake_load)
    paired = load_embedder("use-multilingual-v3+all-MiniLM-L6-v2-int8")
    assert isinstance(paired, PairedEmbedder) and paired.name == "use-multilingual-v3+all-MiniLM-L6-v2-int8"
    assert loaded == ["use-multilingual-v3", "all-MiniLM-L6-v2-int8"]
    for malformed in ("a+b+c", "a+", "+b"):
        with pytest.raises(EmbedderError, match="two model names joined by one"):
            load_embedder(malformed)
    directory = tmp_path / "models" / "e5+finetuned"
    directory.mkdir(parents=True)
    assert load_embedder(str(directory)).name == str(directory)  # a directory with a "+" is one model
