import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.datasets import Query
from bench.run import SharedPassageVectors, time_searches
from indexer import store
from indexer.analysis import Analyzer
from indexer.embedders import Vectors, layout_of
from indexer.embedders.paired import PairedEmbedder
from retrieval.calibration import FALLBACK
from retrieval.search import SearchIndex
from tests.fakes import HashingEmbedder


def test_shared_passage_vectors_embed_each_distinct_text_once_and_return_the_models_vectors() -> None:
    inner = HashingEmbedder()
    shared = SharedPassageVectors(inner)
    first = shared.embed_documents(["パスワードの再設定", "Reset your password", "パスワードの再設定"])
    again = shared.embed_documents(["Reset your password", "Two-factor sign-in"])
    assert inner.documents_embedded == shared.embedded == 3
    np.testing.assert_array_equal(
        first, inner.embed_queries(["パスワードの再設定", "Reset your password", "パスワードの再設定"])
    )
    np.testing.assert_array_equal(again[0], first[1])
    assert shared.embed_documents([]).shape == (0, inner.dim)


def test_shared_passage_vectors_never_cache_queries() -> None:
    inner = HashingEmbedder()
    shared = SharedPassageVectors(inner)
    shared.embed_documents(["How do I export invoices?"])
    calls: list[list[str]] = []
    original = inner.embed_queries
    inner.embed_queries = lambda texts: calls.append(list(texts)) or original(texts)  # type: ignore[method-assign]
    shared.embed_queries(["How do I export invoices?"])
    assert calls == [["How do I export invoices?"]]


class _SlowQueries(HashingEmbedder):
    """Encodes a query in at least 5 ms, so that the encoding's share of a search is known."""

    def __init__(self) -> None:
        super().__init__()
        self.query_calls = 0

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.query_calls += 1
        time.sleep(0.005)
        return super().embed_queries(texts)


def test_each_timed_search_encodes_its_question_once_and_reports_the_encoding_inside_it(
    index_dir: Path, analyzer: Analyzer
) -> None:
    index = SearchIndex(store.load_current(index_dir), analyzer)
    embedder = _SlowQueries()
    queries = [Query(f"q{i}", text, "ja", (), "test") for i, text in enumerate(["請求書", "パスワード", "SSO"] * 4)]

    speed = time_searches(index, embedder, FALLBACK, queries)

    assert embedder.query_calls == len(queries) == speed["timed_queries"]
    assert 5.0 <= speed["encode_p50_ms"] < speed["search_p50_ms"]
    assert speed["search_to_encode_ratio"] > 1.0


def test_the_shared_passage_vectors_report_the_pairs_layout() -> None:
    # Search blends a pair's halves by the layout a build records: a benchmark's build must record the model's.
    class EnglishOnly(HashingEmbedder):
        name = "all-MiniLM-L6-v2-int8"

    pair = PairedEmbedder(HashingEmbedder(), EnglishOnly())
    layout = layout_of(SharedPassageVectors(pair))
    assert layout == layout_of(pair)
    assert [part.reads_japanese for part in layout] == [True, False]
